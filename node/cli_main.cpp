// puhui-cli: keys, signed transactions and every RPC method, from the shell. `puhui-cli help`.
#include <fmt/format.h>

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "chain/genesis.h"
#include "chain/keys.h"
#include "contracts/tx.h"
#include "node/cli_audit.h"
#include "node/cli_exchange.h"
#include "node/cli_personal.h"
#include "node/cli_registry.h"
#include "node/files.h"
#include "node/rpc_client.h"

namespace {

using nlohmann::json;
using puhui::Status;

constexpr char kUsage[] = R"(usage: puhui-cli [--node URL] COMMAND ...
  (URL defaults to $PUHUI_NODE, else http://127.0.0.1:26657)

keys
  keys new FILE                  generate a key into FILE (mode 0600) and print its address
  keys show FILE                 print the address of a key file

queries (JSON on stdout)
  status                         chain id, latest height, state root, mempool
  exchange-demo --authority KEY --seller KEY --batch SERIAL [--region SH] [--trades 96]
                [--legs 10] [--run ID]
                                 an exchange's day: settle trades, follow the event stream,
                                 reconcile exactly (docs/exchange.md)
  account ADDRESS                nonce and roles
  batch SERIAL                   a credit batch's totals
  balance SERIAL ADDRESS         free grams an address holds of a batch
  block [HEIGHT]                 a block with its commit certificate (latest if no height)
  tx get HASH                    a transaction and its receipt
  state KEY_HEX [HEIGHT]         a raw state value with its Merkle proof
  rpc METHOD [PARAMS_JSON]       any JSON-RPC method

transactions (signed with --key FILE; wait for commit and print the receipt)
  tx grant-role  --key FILE --account ADDRESS --role ROLE --region CODE
  tx revoke-role --key FILE --account ADDRESS --role ROLE --region CODE
  tx transfer    --key FILE --batch SERIAL --to ADDRESS --grams N
  tx send HEX                    submit an already signed envelope
  options: --nonce N (default: the account's pending nonce)  --expiry-blocks N (default 100)
           --memo TEXT  --no-wait  --sign-only (print the signed hex, send nothing)
roles: authority operator expert verifier project_owner data_provider merchant
       compliance_entity exchange
)";

struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> flags;
};

bool IsBoolFlag(const std::string& f) { return f == "no-wait" || f == "sign-only" || f == "quiet"; }

bool Parse(int argc, char** argv, Args& out) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) == 0) {
      std::string name = a.substr(2);
      if (IsBoolFlag(name)) {
        out.flags[name] = "1";
      } else if (i + 1 < argc) {
        out.flags[name] = argv[++i];
      } else {
        fmt::print(stderr, "puhui-cli: {} needs a value\n", a);
        return false;
      }
    } else {
      out.positional.push_back(a);
    }
  }
  return true;
}

int Fail(const std::string& msg) {
  fmt::print(stderr, "puhui-cli: {}\n", msg);
  return 1;
}

int Usage(const std::string& msg) {
  fmt::print(stderr, "puhui-cli: {}\n\n{}{}{}{}", msg, kUsage, puhui::cli::kRegistryUsage,
             puhui::cli::kPersonalUsage, puhui::cli::kAuditUsage);
  return 2;
}

int PrintCall(puhui::RpcClient& client, const std::string& method, const json& params) {
  auto r = client.Call(method, params);
  if (!r.ok()) return Fail(r.status().message());
  fmt::print("{}\n", r->dump(2));
  return 0;
}

std::optional<std::string> Flag(const Args& a, const std::string& name) {
  auto it = a.flags.find(name);
  if (it == a.flags.end()) return std::nullopt;
  return it->second;
}

bool ParseU64(const std::string& s, uint64_t& out) {
  if (s.empty() || s.size() > 20) return false;
  char* end = nullptr;
  errno = 0;
  out = std::strtoull(s.c_str(), &end, 10);
  return *end == '\0' && errno == 0 && s[0] != '-';
}

std::optional<std::string> AddressBytes(const std::string& hex) {
  auto h = puhui::Hash32FromHex(hex);
  if (!h || !puhui::ParsePublicKey(*h).ok()) return std::nullopt;
  return puhui::ToString(*h);
}

int WaitForCommit(puhui::RpcClient& client, const std::string& hash) {
  for (int i = 0; i < 300; ++i) {
    auto r = client.Call("tx_get", {{"hash", hash}});
    if (r.ok() && r->value("status", "") == "committed") {
      fmt::print("{}\n", r->dump(2));
      return (*r)["receipt"].value("ok", false) ? 0 : 3;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return Fail(
      fmt::format("transaction {} was not committed within 30 s; check with 'tx get'", hash));
}

int SendTx(puhui::RpcClient& client, const std::string& envelope_hex, bool wait) {
  auto r = client.Call("tx_submit", {{"tx", envelope_hex}});
  if (!r.ok()) return Fail("refused: " + r.status().message());
  std::string hash = (*r)["tx_hash"].get<std::string>();
  if (!wait) {
    fmt::print("{}\n", r->dump(2));
    return 0;
  }
  return WaitForCommit(client, hash);
}

int BuildAndSend(puhui::RpcClient& client, const Args& a, const std::string& kind) {
  auto key_path = Flag(a, "key");
  if (!key_path) return Usage("transactions need --key FILE");
  auto key = puhui::ReadKeyFile(*key_path);
  if (!key.ok()) return Fail(key.status().message());
  auto status = client.Call("node_status", json::object());
  if (!status.ok()) return Fail(status.status().message());
  puhui::pb::TxBody body;
  body.set_chain_id((*status)["chain_id"].get<std::string>());
  body.set_sender(puhui::ToString(key->Public().bytes));
  uint64_t expiry_blocks = 100;
  if (auto e = Flag(a, "expiry-blocks"); e && !ParseU64(*e, expiry_blocks)) {
    return Usage("--expiry-blocks must be a non-negative integer");
  }
  body.set_expiry_height((*status)["latest_height"].get<uint64_t>() + 1 + expiry_blocks);
  uint64_t nonce = 0;
  if (auto n = Flag(a, "nonce")) {
    if (!ParseU64(*n, nonce)) return Usage("--nonce must be a non-negative integer");
  } else {
    auto acct = client.Call("account_get", {{"address", puhui::Hex(key->Public().bytes)}});
    if (!acct.ok()) return Fail(acct.status().message());
    nonce = (*acct)["pending_nonce"].get<uint64_t>();
  }
  body.set_nonce(nonce);
  if (auto memo = Flag(a, "memo")) body.set_memo(*memo);

  if (kind == "grant-role" || kind == "revoke-role") {
    auto account = Flag(a, "account");
    auto role = Flag(a, "role");
    auto region = Flag(a, "region");
    if (!account || !role || !region) return Usage(kind + " needs --account, --role and --region");
    auto account_bytes = AddressBytes(*account);
    if (!account_bytes) return Usage("--account must be a 64-hex-character address");
    puhui::pb::Role r = puhui::RoleFromName(*role);
    if (r == puhui::pb::ROLE_UNSPECIFIED) return Usage(fmt::format("unknown role '{}'", *role));
    if (kind == "grant-role") {
      auto* g = body.mutable_grant_role();
      g->set_account(*account_bytes);
      g->set_role(r);
      g->set_region(*region);
    } else {
      auto* g = body.mutable_revoke_role();
      g->set_account(*account_bytes);
      g->set_role(r);
      g->set_region(*region);
    }
  } else if (kind == "transfer") {
    auto batch = Flag(a, "batch");
    auto to = Flag(a, "to");
    auto grams_text = Flag(a, "grams");
    if (!batch || !to || !grams_text) return Usage("transfer needs --batch, --to and --grams");
    auto to_bytes = AddressBytes(*to);
    if (!to_bytes) return Usage("--to must be a 64-hex-character address");
    uint64_t grams = 0;
    if (!ParseU64(*grams_text, grams) || grams == 0)
      return Usage("--grams must be a positive integer");
    auto* t = body.mutable_transfer();
    t->set_batch(*batch);
    t->set_to(*to_bytes);
    t->set_grams(grams);
  } else {
    std::string error;
    puhui::cli::Fill fill = puhui::cli::FillRegistryAction(kind, a.flags, body, error);
    if (fill == puhui::cli::Fill::kNotRegistry) {
      fill = puhui::cli::FillPersonalAction(kind, a.flags, body, error);
    }
    switch (fill) {
      case puhui::cli::Fill::kOk: break;
      case puhui::cli::Fill::kError: return Usage(kind + ": " + error);
      case puhui::cli::Fill::kNotRegistry:
        return Usage(fmt::format("unknown transaction type '{}'", kind));
    }
  }
  std::string hex = puhui::Hex(puhui::AsBytes(puhui::SignTx(body, *key)));
  if (Flag(a, "sign-only")) {
    fmt::print("{}\n", hex);
    return 0;
  }
  return SendTx(client, hex, !Flag(a, "no-wait"));
}

int Keys(const Args& a) {
  if (a.positional.size() != 3) return Usage("keys new FILE | keys show FILE");
  const std::string& sub = a.positional[1];
  const std::string& path = a.positional[2];
  if (sub == "new") {
    puhui::PrivateKey key = puhui::PrivateKey::Generate();
    Status s = puhui::WriteKeyFile(path, key);
    if (!s.ok()) return Fail(s.message());
    fmt::print("{}\n", puhui::Hex(key.Public().bytes));
    return 0;
  }
  if (sub == "show") {
    auto key = puhui::ReadKeyFile(path);
    if (!key.ok()) return Fail(key.status().message());
    fmt::print("{}\n", puhui::Hex(key->Public().bytes));
    return 0;
  }
  return Usage(fmt::format("unknown keys command '{}'", sub));
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (!Parse(argc, argv, a)) return 2;
  if (a.positional.empty() || a.positional[0] == "help") {
    fmt::print("{}{}{}{}", kUsage, puhui::cli::kRegistryUsage, puhui::cli::kPersonalUsage,
               puhui::cli::kAuditUsage);
    return a.positional.empty() ? 2 : 0;
  }
  const std::string& cmd = a.positional[0];
  if (cmd == "keys") return Keys(a);

  std::string url = "http://127.0.0.1:26657";
  if (const char* env = std::getenv("PUHUI_NODE")) url = env;
  if (auto n = Flag(a, "node")) url = *n;
  if (int rc = puhui::cli::RunAuditCommand(a.positional, a.flags, url); rc >= 0) return rc;
  auto client = puhui::RpcClient::FromUrl(url);
  if (!client.ok()) return Usage(client.status().message());
  const auto& p = a.positional;

  if (cmd == "status" && p.size() == 1) return PrintCall(*client, "node_status", json::object());
  if (cmd == "exchange-demo" && p.size() == 1) return puhui::cli::ExchangeDemo(url, a.flags);
  if (cmd == "account" && p.size() == 2)
    return PrintCall(*client, "account_get", {{"address", p[1]}});
  if (cmd == "batch" && p.size() == 2) return PrintCall(*client, "batch_get", {{"serial", p[1]}});
  if (cmd == "balance" && p.size() == 3) {
    return PrintCall(*client, "balance_get", {{"batch", p[1]}, {"address", p[2]}});
  }
  if (cmd == "block" && p.size() <= 2) {
    json params = json::object();
    if (p.size() == 2) {
      uint64_t h = 0;
      if (!ParseU64(p[1], h)) return Usage("block HEIGHT must be a non-negative integer");
      params["height"] = h;
    }
    return PrintCall(*client, "block_get", params);
  }
  if (cmd == "state" && (p.size() == 2 || p.size() == 3)) {
    json params = {{"key", p[1]}};
    if (p.size() == 3) {
      uint64_t h = 0;
      if (!ParseU64(p[2], h)) return Usage("state HEIGHT must be a non-negative integer");
      params["height"] = h;
    }
    return PrintCall(*client, "state_get", params);
  }
  if (cmd == "rpc" && (p.size() == 2 || p.size() == 3)) {
    json params = json::object();
    if (p.size() == 3) {
      params = json::parse(p[2], nullptr, false);
      if (params.is_discarded()) return Usage("PARAMS_JSON is not valid JSON");
    }
    return PrintCall(*client, p[1], params);
  }
  std::string query_error;
  if (auto q = puhui::cli::RegistryQuery(p, a.flags, query_error)) {
    if (!query_error.empty()) return Usage(query_error);
    return PrintCall(*client, q->method, q->params);
  }
  if (cmd == "tx" && p.size() >= 2) {
    if (p[1] == "get" && p.size() == 3) return PrintCall(*client, "tx_get", {{"hash", p[2]}});
    if (p[1] == "send" && p.size() == 3) return SendTx(*client, p[2], !Flag(a, "no-wait"));
    if (p.size() == 2) return BuildAndSend(*client, a, p[1]);
  }
  return Usage(fmt::format("unknown command or wrong arguments: '{}'", cmd));
}
