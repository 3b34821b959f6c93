// Every JSON-RPC method of a real puhuid under hostile params: every parameter given a value of
// every JSON type, by name and by position, alone and beside valid ones, and names the method does
// not take. Each answer is an invalid-params error or an application error with a message — or a
// valid result — and afterwards the node serves the same state it had before.
#include <doctest/doctest.h>

#include <set>

#include "mutation.h"
#include "node/rpc_client.h"
#include "process.h"

using namespace puhui;
using namespace puhui::testing;
using nlohmann::json;

namespace {

constexpr uint64_t kSeed = 0x7270'636d'7574'6174;  // "rpcmutat"

// The shared harness plus raw requests and a snapshot of the state a client can see.
struct MutationNode : RunningNode {
  int next_id = 1;

  // The raw answer to a request whose params are `params_text` (JSON text, sent as written).
  std::pair<int, std::string> Send(const std::string& method, const std::string& params_text,
                                   int id) {
    std::string body = R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + R"(,"method":)" +
                       json(method).dump() + R"(,"params":)" + params_text + "}";
    auto r = client.Post(body);
    REQUIRE_MESSAGE(r.ok(), r.status().ToString(), "\nnode log:\n", process.log());
    return *r;
  }

  // What a client can see of the node's state; malformed calls must not change any of it.
  json State() {
    json status = Ok("node_status", json::object());
    return json{{"state_root", status["state_root"]},
                {"mempool", status["mempool"]},
                {"balance", Ok("balance_get", {{"batch", kBatch}, {"address", Addr("owner")}})},
                {"account", Ok("account_get", {{"address", Addr("owner")}})},
                {"batch", Ok("batch_get", {{"serial", kBatch}})}};
  }
};

// Application errors that bad input may cause (rpc/errors.h). Permission, corruption, I/O and
// internal errors would be the node's fault, never the client's.
bool IsClientErrorCode(int code) {
  static const std::set<int> kCodes = {-32602, 1001, 1002, 1003, 1005, 1006, 1007};
  return kCodes.count(code) == 1;
}

// A JSON-RPC response to request `id`: a result, or an error with an allowed code and a message.
void CheckAnswer(const std::pair<int, std::string>& answer, int id) {
  CHECK(answer.first == 200);
  json r = json::parse(answer.second, nullptr, false);
  REQUIRE_MESSAGE(r.is_object(), answer.second);
  CHECK(r["jsonrpc"] == "2.0");
  CHECK(r["id"] == id);
  CHECK(r.contains("result") != r.contains("error"));
  if (!r.contains("error")) return;
  const json& error = r["error"];
  REQUIRE(error.is_object());
  REQUIRE(error["code"].is_number_integer());
  CHECK_MESSAGE(IsClientErrorCode(error["code"].get<int>()), answer.second);
  REQUIRE(error["message"].is_string());
  CHECK_FALSE(error["message"].get<std::string>().empty());
}

// An answer to a body that is not a request: HTTP 200 with a JSON-RPC error (or an array of them),
// or 204 for a body that turned out to be a notification.
void CheckAnyAnswer(const std::pair<int, std::string>& answer) {
  if (answer.first == 204) {
    CHECK(answer.second.empty());
    return;
  }
  CHECK(answer.first == 200);
  json r = json::parse(answer.second, nullptr, false);
  REQUIRE_MESSAGE((r.is_object() || r.is_array()), answer.second);
  for (const json& entry : r.is_array() ? r : json::array({r})) {
    CHECK(entry["jsonrpc"] == "2.0");
    if (entry.contains("result")) continue;
    REQUIRE(entry["error"].is_object());
    CHECK(entry["error"]["code"].is_number_integer());
    CHECK(entry["error"]["message"].is_string());
    CHECK_FALSE(entry["error"]["message"].get<std::string>().empty());
  }
}

std::string Nested(size_t depth, char open, char close, const std::string& inner) {
  std::string s;
  for (size_t i = 0; i < depth; ++i) s += open == '{' ? "{\"a\":" : std::string(1, open);
  return s + inner + std::string(depth, close);
}

// Values of every JSON type, as JSON text, so that numbers no C++ value holds can be sent too.
std::vector<std::string> WrongValues() {
  const std::string hex32(64, '0');
  return {"null",
          "true",
          "false",
          "0",
          "1",
          "-1",
          "-0",
          "0.5",
          "1.0",
          "1e300",
          "-1e300",
          "1e-300",
          "-9223372036854775808",
          "18446744073709551615",
          "18446744073709551616",
          "123456789012345678901234567890",
          R"("")",
          R"("x")",
          R"("-1")",
          R"("0x")",
          R"("1.5")",
          R"("18446744073709551616")",
          R"("00")",
          R"("\u0000")",
          R"("碳普惠")",
          "\"" + std::string(62, 'a') + "\"",
          "\"" + std::string(66, 'a') + "\"",
          "\"" + std::string(64, 'g') + "\"",
          "\"" + std::string(64, 'f') + "\"",
          "\"0x" + hex32 + "\"",
          "\"0X" + hex32 + "\"",
          "\" " + hex32 + "\"",
          "\"" + std::string(300'000, 'a') + "\"",
          "[]",
          "[1,2,3]",
          R"(["00"])",
          "[null]",
          "[\"" + hex32 + "\"]",
          "{}",
          R"({"a":1})",
          R"({"hash":"00"})",
          Nested(50, '[', ']', "1"),
          Nested(50, '{', '}', "1")};
}

struct MethodParams {
  std::string name;
  std::vector<std::pair<std::string, std::string>> params;  // name and a valid value, as JSON text
};

}  // namespace

TEST_CASE(
    "node RPC: every parameter of every method refuses every wrong type and changes nothing") {
  MutationNode n;
  for (int i = 0; i < 200 && n.Ok("node_status", json::object())["latest_height"] < 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const std::string block1 = n.Ok("block_get", {{"height", 1}})["hash"];
  const std::string account_key = Hex(AsBytes("acct/" + RawAddr("owner")));
  const std::vector<MethodParams> methods = {
      {"node_status", {}},
      {"evidence_list", {}},
      {"rpc_methods", {}},
      {"tx_submit", {{"tx", R"("00ff")"}}},
      {"tx_submit_batch", {{"txs", R"(["00ff"])"}}},
      {"tx_get", {{"hash", "\"" + std::string(64, '0') + "\""}}},
      {"block_get",
       {{"height", "1"}, {"hash", json(block1).dump()}, {"raw", "true"}, {"hashes_only", "true"}}},
      {"state_get", {{"key", json(account_key).dump()}, {"height", "0"}}},
      {"account_get", {{"address", json(Addr("owner")).dump()}}},
      {"batch_get", {{"serial", json(kBatch).dump()}}},
      {"balance_get", {{"batch", json(kBatch).dump()}, {"address", json(Addr("owner")).dump()}}},
      {"blocks_raw", {{"from", "1"}, {"count", "2"}}},
      // Proofs and certificates (node/rpc_proofs.cpp).
      {"proof_get",
       {{"kind", R"("balance")"},
        {"serial", json(kBatch).dump()},
        {"address", json(Addr("owner")).dump()},
        {"id", R"("RT-1")"},
        {"seq", "1"},
        {"provider", json(Addr("owner")).dump()},
        {"record_id", "\"" + std::string(64, '2') + "\""},
        {"height", "1"}}},
      {"certificate_get", {{"id", R"("RT-1")"}}},
      // The registry's queries (node/rpc_registry.cpp).
      {"methodology_get", {{"id", R"("PV")"}, {"version", "1"}}},
      {"methodology_list",
       {{"region", R"("SH")"},
        {"status", R"("approved")"},
        {"category", R"("project")"},
        {"after", "0"},
        {"limit", "10"}}},
      {"project_get", {{"id", R"("P1")"}}},
      {"project_list",
       {{"region", R"("SH")"},
        {"methodology", R"("PV")"},
        {"owner", json(Addr("owner")).dump()},
        {"status", R"("approved")"},
        {"after", "0"},
        {"limit", "10"}}},
      {"report_get", {{"id", R"("P1-R1")"}}},
      {"report_list",
       {{"project", R"("P1")"}, {"status", R"("issued")"}, {"after", "0"}, {"limit", "10"}}},
      {"batch_list",
       {{"region", R"("SH")"},
        {"methodology", R"("PV")"},
        {"project", R"("P1")"},
        {"vintage", "2025"},
        {"owner", json(Addr("owner")).dump()},
        {"after", "0"},
        {"limit", "10"}}},
      {"balances_get", {{"address", json(Addr("owner")).dump()}, {"after", "0"}, {"limit", "10"}}},
      {"pledge_get", {{"id", R"("PL-1")"}}},
      {"pledge_list",
       {{"batch", json(kBatch).dump()},
        {"pledger", json(Addr("owner")).dump()},
        {"pledgee", json(Addr("owner")).dump()},
        {"status", R"("locked")"},
        {"after", "0"},
        {"limit", "10"}}},
      {"retirement_get", {{"id", R"("RT-1")"}}},
      {"retirement_list",
       {{"batch", json(kBatch).dump()},
        {"holder", json(Addr("owner")).dump()},
        {"kind", R"("offset")"},
        {"region", R"("SH")"},
        {"after", "0"},
        {"limit", "10"}}},
      {"obligation_get",
       {{"entity", json(Addr("owner")).dump()}, {"region", R"("SH")"}, {"period", R"("2025")"}}},
      {"obligation_list",
       {{"region", R"("SH")"},
        {"entity", json(Addr("owner")).dump()},
        {"period", R"("2025")"},
        {"after", "0"},
        {"limit", "10"}}},
      {"proposal_get", {{"id", R"("p1")"}}},
      {"proposal_list", {{"status", R"("open")"}, {"after", "0"}, {"limit", "10"}}},
      {"region_get", {{"code", R"("SH")"}}},
      // Personal carbon accounts' queries (node/rpc_personal.cpp).
      {"personal_account_get", {{"address", json(Addr("owner")).dump()}}},
      {"personal_account_address",
       {{"region", R"("SH")"}, {"external_id_hash", "\"" + std::string(64, '1') + "\""}}},
      {"scenario_get", {{"id", R"("SH-METRO-TRIP")"}}},
      {"scenario_list", {{"after", "0"}, {"limit", "10"}}},
      {"provider_stats_get", {{"address", json(Addr("owner")).dump()}}},
      {"attestation_get", {{"batch", "1"}}},
      {"record_proof",
       {{"provider", json(Addr("owner")).dump()},
        {"record_id", "\"" + std::string(64, '2') + "\""}}},
      {"offer_get", {{"id", R"("TEA")"}}},
      {"offer_list", {{"after", "0"}, {"limit", "10"}}},
      {"redemption_get", {{"id", R"("RD-1")"}}},
      {"pool_get", {{"scenario", R"("SH-METRO-TRIP")"}, {"month", "202601"}}},
      {"personal_totals", {}},
      // Exchange settlement.
      {"settlement_submit", {{"tx", R"("00ff")"}}},
      {"settlement_submit_wait", {{"tx", R"("00ff")"}, {"timeout_ms", "100"}}},
      {"settlement_get", {{"exchange", json(Addr("owner")).dump()}, {"id", R"("S-1")"}}},
      {"settlement_list",
       {{"exchange", json(Addr("owner")).dump()},
        {"from_height", "1"},
        {"to_height", "2"},
        {"after", R"("1/S-1")"},
        {"limit", "10"}}},
      {"authorisation_get",
       {{"holder", json(Addr("owner")).dump()},
        {"exchange", json(Addr("owner")).dump()},
        {"batch", json(kBatch).dump()}}},
      {"events_list",
       {{"kinds", R"(["transfer"])"},
        {"accounts", json(json::array({Addr("owner")})).dump()},
        {"batches", json(json::array({kBatch})).dump()},
        {"from_height", "1"},
        {"limit", "10"}}},
  };
  // The table must cover what the node serves.
  std::set<std::string> listed;
  for (const json& m : n.Ok("rpc_methods", json::object()))
    listed.insert(m["name"].get<std::string>());
  std::set<std::string> covered;
  for (const auto& m : methods) covered.insert(m.name);
  REQUIRE(listed == covered);

  const json before = n.State();
  const std::vector<std::string> wrong = WrongValues();
  int requests = 0;
  auto check = [&](const std::string& method, const std::string& params) {
    const int id = n.next_id++;
    INFO(method, " params ", params.substr(0, 200));
    CheckAnswer(n.Send(method, params, id), id);
    ++requests;
  };
  for (const auto& m : methods) {
    const size_t count = m.params.size();
    for (size_t p = 0; p < count; ++p) {
      for (const std::string& value : wrong) {
        std::string alone = "{" + json(m.params[p].first).dump() + ":" + value + "}";
        std::string beside = "{";
        std::string positional = "[";
        std::string positional_alone = "[";
        for (size_t q = 0; q < count; ++q) {
          const std::string& v = q == p ? value : m.params[q].second;
          beside += (q ? "," : "") + json(m.params[q].first).dump() + ":" + v;
          positional += (q ? "," : "") + v;
          if (q <= p) positional_alone += (q ? "," : "") + (q == p ? value : std::string("null"));
        }
        check(m.name, alone);
        check(m.name, beside + "}");
        check(m.name, positional + "]");
        check(m.name, positional_alone + "]");
      }
    }
    // Names and positions the method does not take.
    std::string all_valid = "{";
    std::string all_positional = "[";
    for (size_t q = 0; q < count; ++q) {
      all_valid += json(m.params[q].first).dump() + ":" + m.params[q].second + ",";
      all_positional += m.params[q].second + ",";
    }
    for (const std::string& value :
         {std::string("1"), std::string("null"), Nested(50, '{', '}', "1")}) {
      check(m.name, all_valid + R"("no_such_param":)" + value + "}");
      check(m.name, all_positional + value + "]");
    }
    check(m.name, R"({"":1})");
    check(m.name, "{" + json(std::string(10'000, 'k')).dump() + ":1}");
    check(m.name, R"({"height\u0000":1})");
  }
  CHECK(requests > 2000);

  // Nothing changed, and the node still answers.
  CHECK(n.State() == before);
  CHECK(n.Ok("node_status", json::object())["chain_id"] == kChainId);
}

TEST_CASE(
    "node RPC: params that are not an object or array, or nest too deep, are invalid requests") {
  MutationNode n;
  for (const char* params : {"null", "1", R"("x")", "true"}) {
    INFO("params ", params);
    json r = json::parse(n.Send("block_get", params, 1).second);
    CHECK(r["error"]["code"] == -32600);
  }
  for (char open : {'[', '{'}) {
    const std::string deep = Nested(1000, open, open == '[' ? ']' : '}', "1");
    json r = json::parse(n.Send("block_get", "{\"height\":" + deep + "}", 1).second);
    CHECK(r["error"]["code"] == -32600);
    CHECK(r["error"]["message"].get<std::string>().find("deeper") != std::string::npos);
  }
  // JSON that nlohmann cannot hold (a number beyond any double) is a parse error, not a crash.
  json overflow = json::parse(n.Send("block_get", R"({"height":1e400})", 1).second);
  CHECK(overflow["error"]["code"] == -32700);
  // A body of nothing but nesting is refused before it is parsed.
  auto huge = n.client.Post(std::string(900'000, '['));
  REQUIRE(huge.ok());
  CHECK(json::parse(huge->second)["error"]["code"] == -32600);
  CHECK(n.Ok("node_status", json::object())["chain_id"] == kChainId);
}

TEST_CASE(
    "node RPC: random and mutated bodies are answered with JSON-RPC errors and change nothing") {
  MutationNode n;
  const json before = n.State();
  Mutator m(kSeed);
  for (int i = 0; i < 200; ++i) {
    std::string body = m.RandomBytes(512);
    INFO("seed ", kSeed, " iteration ", i, " body ", Hex(AsBytes(body)));
    auto r = n.client.Post(body);
    REQUIRE_MESSAGE(r.ok(), r.status().ToString(), "\nnode log:\n", n.process.log());
    CHECK(r->first == 200);
    CheckAnyAnswer(*r);
  }
  const std::vector<std::string> requests = {
      R"({"jsonrpc":"2.0","id":1,"method":"block_get","params":{"height":1,"raw":true}})",
      R"({"jsonrpc":"2.0","id":2,"method":"balance_get","params":[")" + std::string(kBatch) +
          R"(",")" + Addr("owner") + R"("]})",
      R"([{"jsonrpc":"2.0","id":3,"method":"tx_submit","params":{"tx":"0a00"}},)"
      R"({"jsonrpc":"2.0","id":4,"method":"state_get","params":{"key":"61","height":"0"}}])",
  };
  for (size_t k = 0; k < requests.size(); ++k) {
    for (int i = 0; i < 100; ++i) {
      std::string body = m.Mutate(requests[k]);
      INFO("seed ", kSeed, " request ", k, " iteration ", i, " body ", body);
      auto r = n.client.Post(body);
      REQUIRE_MESSAGE(r.ok(), r.status().ToString(), "\nnode log:\n", n.process.log());
      CheckAnyAnswer(*r);
    }
  }
  CHECK(n.State() == before);
}
