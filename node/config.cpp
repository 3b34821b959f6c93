#include "node/config.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "node/files.h"

namespace puhui {

namespace {

using nlohmann::json;

template <typename T>
Status Read(const json& obj, const char* key, T& out) {
  auto it = obj.find(key);
  if (it == obj.end()) return Status::Ok();  // keep the default
  try {
    out = it->get<T>();
  } catch (const json::exception&) {
    return InvalidArgument(fmt::format("config: '{}' has the wrong type", key));
  }
  return Status::Ok();
}

}  // namespace

Result<NodeConfig> LoadConfig(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) return text.status();
  json doc = json::parse(*text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return InvalidArgument(fmt::format("config '{}' is not a JSON object", path));
  }
  NodeConfig c;
  PUHUI_RETURN_IF_ERROR(Read(doc, "moniker", c.moniker));
  PUHUI_RETURN_IF_ERROR(Read(doc, "rpc_address", c.rpc_address));
  PUHUI_RETURN_IF_ERROR(Read(doc, "rpc_port", c.rpc_port));
  PUHUI_RETURN_IF_ERROR(Read(doc, "rpc_threads", c.rpc_threads));
  PUHUI_RETURN_IF_ERROR(Read(doc, "rpc_max_body_bytes", c.rpc_max_body_bytes));
  PUHUI_RETURN_IF_ERROR(Read(doc, "rpc_max_batch", c.rpc_max_batch));
  PUHUI_RETURN_IF_ERROR(Read(doc, "rpc_max_connections", c.rpc_max_connections));
  PUHUI_RETURN_IF_ERROR(Read(doc, "log_level", c.log_level));
  PUHUI_RETURN_IF_ERROR(Read(doc, "verify_threads", c.verify_threads));
  PUHUI_RETURN_IF_ERROR(Read(doc, "sig_cache_entries", c.sig_cache_entries));
  if (auto it = doc.find("mempool"); it != doc.end()) {
    if (!it->is_object()) return InvalidArgument("config: 'mempool' must be an object");
    PUHUI_RETURN_IF_ERROR(Read(*it, "max_txs", c.mempool.max_txs));
    PUHUI_RETURN_IF_ERROR(Read(*it, "max_bytes", c.mempool.max_bytes));
    PUHUI_RETURN_IF_ERROR(Read(*it, "max_per_sender", c.mempool.max_per_sender));
  }
  if (c.rpc_threads == 0 || c.rpc_threads > 64) return InvalidArgument("config: rpc_threads must be 1..64");
  if (c.mempool.max_txs == 0 || c.mempool.max_per_sender == 0) {
    return InvalidArgument("config: mempool limits must be > 0");
  }
  return c;
}

Status SaveConfig(const std::string& path, const NodeConfig& c) {
  json doc = {
      {"moniker", c.moniker},
      {"rpc_address", c.rpc_address},
      {"rpc_port", c.rpc_port},
      {"rpc_threads", c.rpc_threads},
      {"rpc_max_body_bytes", c.rpc_max_body_bytes},
      {"rpc_max_batch", c.rpc_max_batch},
      {"rpc_max_connections", c.rpc_max_connections},
      {"log_level", c.log_level},
      {"verify_threads", c.verify_threads},
      {"sig_cache_entries", c.sig_cache_entries},
      {"mempool",
       {{"max_txs", c.mempool.max_txs},
        {"max_bytes", c.mempool.max_bytes},
        {"max_per_sender", c.mempool.max_per_sender}}},
  };
  return WriteFileDurably(path, doc.dump(2) + "\n");
}

HomePaths HomePaths::Of(const std::string& root) {
  HomePaths p;
  p.root = root;
  p.config = root + "/config.json";
  p.genesis = root + "/genesis.json";
  p.node_key = root + "/node_key";
  p.validator_key = root + "/validator_key";
  p.data = root + "/data";
  p.chain_db = root + "/data/chain";
  p.sign_record = root + "/data/last_signed";
  return p;
}

}  // namespace puhui
