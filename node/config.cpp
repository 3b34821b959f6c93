#include "node/config.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "node/files.h"

namespace puhui {

namespace {

using nlohmann::json;

Status ReadString(const json& obj, const char* key, std::string& out) {
  auto it = obj.find(key);
  if (it == obj.end()) return Status::Ok();  // keep the default
  if (!it->is_string()) return InvalidArgument(fmt::format("config: '{}' must be a string", key));
  out = it->get<std::string>();
  return Status::Ok();
}

// Reads an unsigned integer within [min, max]; anything else is an error naming the field, never a
// silent wrap-around.
template <typename T>
Status ReadUint(const json& obj, const char* key, T& out, uint64_t min, uint64_t max) {
  auto it = obj.find(key);
  if (it == obj.end()) return Status::Ok();
  if (!it->is_number_unsigned() || it->get<uint64_t>() < min || it->get<uint64_t>() > max) {
    return InvalidArgument(fmt::format("config: '{}' must be an integer in {}..{}", key, min, max));
  }
  out = static_cast<T>(it->get<uint64_t>());
  return Status::Ok();
}

// A misspelt field would otherwise be ignored and its default used without a word.
Status RejectUnknown(const json& obj, std::initializer_list<std::string_view> known,
                     const char* where) {
  for (const auto& [key, value] : obj.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return InvalidArgument(fmt::format("config: unknown field '{}'{}", key, where));
    }
  }
  return Status::Ok();
}

Status ReadStrings(const json& obj, const char* key, std::vector<std::string>& out) {
  auto it = obj.find(key);
  if (it == obj.end()) return Status::Ok();
  if (!it->is_array()) {
    return InvalidArgument(fmt::format("config: '{}' must be an array of strings", key));
  }
  out.clear();
  for (const auto& item : *it) {
    if (!item.is_string()) {
      return InvalidArgument(fmt::format("config: '{}' must be an array of strings", key));
    }
    out.push_back(item.get<std::string>());
  }
  return Status::Ok();
}

}  // namespace

std::optional<HostPort> ParseHostPort(std::string_view text) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) {
    return std::nullopt;
  }
  std::string_view port_text = text.substr(colon + 1);
  uint32_t port = 0;
  for (char c : port_text) {
    if (c < '0' || c > '9' || port_text.size() > 5) return std::nullopt;
    port = port * 10 + static_cast<uint32_t>(c - '0');
  }
  if (port == 0 || port > 65535) return std::nullopt;
  return HostPort{std::string(text.substr(0, colon)), static_cast<uint16_t>(port)};
}

std::optional<PublicKey> ParseNodeKeyHex(std::string_view text) {
  auto bytes = FromHex(text);
  if (!bytes) return std::nullopt;
  auto key = ParsePublicKey(*bytes);
  if (!key.ok()) return std::nullopt;
  return *key;
}

Result<NodeConfig> LoadConfig(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) return text.status();
  json doc = json::parse(*text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return InvalidArgument(fmt::format("config '{}' is not a JSON object", path));
  }
  NodeConfig c;
  // "sig_cache_entries" sized a cache of verified signatures that is gone (node/verifier_pool.h);
  // files written before still load, and the key is ignored.
  PUHUI_RETURN_IF_ERROR(RejectUnknown(
      doc,
      {"moniker", "rpc_address", "rpc_port", "rpc_threads", "rpc_max_body_bytes", "rpc_max_batch",
       "rpc_max_connections", "log_level", "verify_threads", "sig_cache_entries", "mempool",
       "p2p_address", "p2p_port", "peers", "observers", "settle_wait_timeout_ms",
       "rpc_max_subscribers", "ws_write_timeout_ms"},
      ""));
  PUHUI_RETURN_IF_ERROR(ReadString(doc, "moniker", c.moniker));
  PUHUI_RETURN_IF_ERROR(ReadString(doc, "rpc_address", c.rpc_address));
  PUHUI_RETURN_IF_ERROR(ReadUint(doc, "rpc_port", c.rpc_port, 0, 65535));
  PUHUI_RETURN_IF_ERROR(ReadUint(doc, "rpc_threads", c.rpc_threads, 1, 64));
  PUHUI_RETURN_IF_ERROR(
      ReadUint(doc, "rpc_max_body_bytes", c.rpc_max_body_bytes, 1024, 256u << 20));
  PUHUI_RETURN_IF_ERROR(ReadUint(doc, "rpc_max_batch", c.rpc_max_batch, 1, 100'000));
  PUHUI_RETURN_IF_ERROR(ReadUint(doc, "rpc_max_connections", c.rpc_max_connections, 1, 100'000));
  PUHUI_RETURN_IF_ERROR(ReadString(doc, "log_level", c.log_level));
  PUHUI_RETURN_IF_ERROR(
      ReadUint(doc, "settle_wait_timeout_ms", c.settle_wait_timeout_ms, 100, 600'000));
  PUHUI_RETURN_IF_ERROR(ReadUint(doc, "rpc_max_subscribers", c.rpc_max_subscribers, 1, 100'000));
  PUHUI_RETURN_IF_ERROR(ReadUint(doc, "ws_write_timeout_ms", c.ws_write_timeout_ms, 100, 600'000));
  PUHUI_RETURN_IF_ERROR(ReadUint(doc, "verify_threads", c.verify_threads, 0, 256));
  PUHUI_RETURN_IF_ERROR(ReadString(doc, "p2p_address", c.p2p_address));
  PUHUI_RETURN_IF_ERROR(ReadUint(doc, "p2p_port", c.p2p_port, 0, 65535));
  PUHUI_RETURN_IF_ERROR(ReadStrings(doc, "peers", c.peers));
  PUHUI_RETURN_IF_ERROR(ReadStrings(doc, "observers", c.observers));
  for (const auto& peer : c.peers) {
    if (!ParseHostPort(peer)) {
      return InvalidArgument(
          fmt::format("config: peer '{}' is not host:port with a port in 1..65535", peer));
    }
  }
  for (const auto& key : c.observers) {
    if (!ParseNodeKeyHex(key)) {
      return InvalidArgument(
          fmt::format("config: observer '{}' is not a 64-hex-digit x-only node key", key));
    }
  }
  if (auto it = doc.find("mempool"); it != doc.end()) {
    if (!it->is_object()) return InvalidArgument("config: 'mempool' must be an object");
    PUHUI_RETURN_IF_ERROR(RejectUnknown(
        *it, {"max_txs", "max_txs_for_clients", "max_bytes", "max_per_sender", "max_expiry_ahead"},
        " in 'mempool'"));
    PUHUI_RETURN_IF_ERROR(ReadUint(*it, "max_txs", c.mempool.max_txs, 1, 10'000'000));
    PUHUI_RETURN_IF_ERROR(
        ReadUint(*it, "max_txs_for_clients", c.mempool.max_txs_for_clients, 1, 10'000'000));
    PUHUI_RETURN_IF_ERROR(
        ReadUint(*it, "max_bytes", c.mempool.max_bytes, 1024, uint64_t{64} << 30));
    PUHUI_RETURN_IF_ERROR(ReadUint(*it, "max_per_sender", c.mempool.max_per_sender, 1, 10'000'000));
    PUHUI_RETURN_IF_ERROR(
        ReadUint(*it, "max_expiry_ahead", c.mempool.max_expiry_ahead, 1, 100'000'000));
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
      {"settle_wait_timeout_ms", c.settle_wait_timeout_ms},
      {"rpc_max_subscribers", c.rpc_max_subscribers},
      {"ws_write_timeout_ms", c.ws_write_timeout_ms},
      {"log_level", c.log_level},
      {"verify_threads", c.verify_threads},
      {"mempool",
       {{"max_txs", c.mempool.max_txs},
        {"max_txs_for_clients", c.mempool.max_txs_for_clients},
        {"max_bytes", c.mempool.max_bytes},
        {"max_per_sender", c.mempool.max_per_sender},
        {"max_expiry_ahead", c.mempool.max_expiry_ahead}}},
      {"p2p_address", c.p2p_address},
      {"p2p_port", c.p2p_port},
      {"peers", c.peers},
      {"observers", c.observers},
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
  p.sign_record = root + "/last_signed";
  p.legacy_sign_record = root + "/data/last_signed";
  return p;
}

}  // namespace puhui
