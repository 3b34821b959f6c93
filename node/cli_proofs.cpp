#include "node/cli_proofs.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <optional>

#include "chain/genesis.h"
#include "node/files.h"
#include "node/proof_verify.h"
#include "node/rpc_client.h"

namespace puhui::cli {
namespace {

using nlohmann::json;
using Flags = std::map<std::string, std::string>;

std::optional<std::string> Get(const Flags& f, const std::string& name) {
  auto it = f.find(name);
  if (it == f.end()) return std::nullopt;
  return it->second;
}

int Fail(const std::string& msg) {
  fmt::print(stderr, "puhui-cli: {}\n", msg);
  return 1;
}

int Usage(const std::string& msg) {
  fmt::print(stderr, "puhui-cli: {} (see 'puhui-cli help', section audit)\n", msg);
  return 2;
}

int Call(const std::string& url, const std::string& method, const json& params,
         const std::optional<std::string>& out) {
  auto client = RpcClient::FromUrl(url);
  if (!client.ok()) return Usage(client.status().message());
  auto r = client->Call(method, params);
  if (!r.ok()) return Fail(r.status().message());
  const std::string text = r->dump(2) + "\n";
  if (!out) {
    fmt::print("{}", text);
    return 0;
  }
  if (Status s = WriteFileDurably(*out, text); !s.ok()) return Fail(s.message());
  fmt::print("wrote {}\n", *out);
  return 0;
}

// Reads FILE as JSON and the genesis named by --genesis; returns an exit code on failure.
int Load(const std::string& path, const Flags& flags, json& doc,
         std::optional<GenesisDoc>& genesis) {
  auto genesis_path = Get(flags, "genesis");
  if (!genesis_path) return Usage("checking needs --genesis FILE: the network's genesis.json");
  auto g = LoadGenesisFile(*genesis_path);
  if (!g.ok()) return Fail(g.status().message());
  genesis = std::move(*g);
  auto text = ReadFile(path);
  if (!text.ok()) return Fail(text.status().message());
  doc = json::parse(*text, nullptr, false);
  if (doc.is_discarded()) return Fail(fmt::format("'{}' is not JSON", path));
  return 0;
}

int Answer(const Status& s, const std::string& what) {
  if (!s.ok()) {
    fmt::print("INVALID {}: {}\n", what, s.message());
    return 1;
  }
  fmt::print("VALID {}\n", what);
  return 0;
}

}  // namespace

int RunProofCommand(const std::vector<std::string>& w, const Flags& flags,
                    const std::string& node_url) {
  const std::string& cmd = w[0];
  if (cmd == "proof") {
    json params;
    if (w.size() == 3 && w[1] == "batch") {
      params = {{"kind", "batch"}, {"serial", w[2]}};
    } else if (w.size() == 4 && w[1] == "balance") {
      params = {{"kind", "balance"}, {"serial", w[2]}, {"address", w[3]}};
    } else if (w.size() == 3 && w[1] == "retirement") {
      params = {{"kind", "retirement"}, {"id", w[2]}};
    } else if (w.size() == 4 && w[1] == "record") {
      params = {{"kind", "record"}, {"provider", w[2]}, {"record_id", w[3]}};
    } else {
      return Usage(
          "proof batch SERIAL | balance SERIAL ADDRESS | retirement ID | record PROVIDER "
          "RECORD_ID");
    }
    if (auto h = Get(flags, "height")) {
      char* end = nullptr;
      const uint64_t height = std::strtoull(h->c_str(), &end, 10);
      if (h->empty() || *end != '\0') return Usage("--height must be a block height");
      params["height"] = height;
    }
    return Call(node_url, "proof_get", params, Get(flags, "out"));
  }
  if (cmd == "verify-proof") {
    if (w.size() != 2) return Usage("verify-proof FILE --genesis FILE");
    json doc;
    std::optional<GenesisDoc> genesis;
    if (int rc = Load(w[1], flags, doc, genesis); rc != 0) return rc;
    uint64_t height = 0;
    Status s = VerifyProof(*genesis, doc, &height);
    return Answer(s, s.ok() ? fmt::format("proof of the state after block {} of chain {}", height,
                                          genesis->chain_id)
                            : "proof");
  }
  if (cmd == "certificate") {
    if (w.size() == 3 && w[1] == "get") {
      return Call(node_url, "certificate_get", {{"id", w[2]}}, Get(flags, "out"));
    }
    if (w.size() == 3 && w[1] == "verify") {
      json doc;
      std::optional<GenesisDoc> genesis;
      if (int rc = Load(w[2], flags, doc, genesis); rc != 0) return rc;
      Status s = VerifyCertificate(*genesis, doc);
      std::string what = "certificate";
      if (s.ok()) {
        const json& r = doc["retirement"];
        const std::string why =
            r["kind"] == "offset"
                ? fmt::format("against its {} obligation for {}", r["region"].get<std::string>(),
                              r["period"].get<std::string>())
                : fmt::format("on behalf of '{}'", r["on_behalf_of"].get<std::string>());
        what = fmt::format("certificate {}: {} g of {} retired ({}) by {} {}, block {}, {}",
                           r["id"].get<std::string>(), r["grams"].get<uint64_t>(),
                           r["batch"].get<std::string>(), r["kind"].get<std::string>(),
                           r["retired_by"].get<std::string>(), why, r["height"].get<uint64_t>(),
                           r["time"].get<std::string>());
      }
      return Answer(s, what);
    }
    return Usage("certificate get ID [--out FILE] | certificate verify FILE --genesis FILE");
  }
  return -1;
}

}  // namespace puhui::cli
