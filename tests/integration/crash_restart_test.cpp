// A real puhuid under load, killed with SIGKILL at arbitrary moments, restarted: it must come back
// at its last whole block with the same hashes and state roots, keep every transaction it reported
// as committed, and carry on committing.
#include <doctest/doctest.h>

#include <map>
#include <random>

#include "node/rpc_client.h"
#include "process.h"

using namespace puhui;
using namespace puhui::testing;
using nlohmann::json;

namespace {

struct Observed {
  uint64_t height = 0;
  std::string index;  // "height:index"
};

json CallOk(RpcClient& c, const std::string& method, const json& params) {
  auto r = c.Call(method, params);
  if (!r.ok()) FAIL(method << ": " << r.status().ToString());
  return *r;
}

// Hashes and state roots of every block up to the tip.
std::map<uint64_t, std::pair<std::string, std::string>> Chain(RpcClient& c) {
  std::map<uint64_t, std::pair<std::string, std::string>> out;
  uint64_t tip = CallOk(c, "node_status", json::object())["latest_height"];
  for (uint64_t h = 1; h <= tip; ++h) {
    json b = CallOk(c, "block_get", {{"height", h}});
    json s = CallOk(c, "state_get", {{"key", Hex(AsBytes("acct/"))}, {"height", h}});
    out[h] = {b["hash"], s["state_root"]};
  }
  return out;
}

}  // namespace

TEST_CASE(
    "a node killed with SIGKILL under load restarts at its last block and loses nothing "
    "committed") {
  TempDir dir;
  std::string home = InitTestHome(dir);
  NodeProcess node(home, dir / "node.log");
  node.Start();

  std::mt19937_64 rng(20261121);
  uint64_t nonce = 0;
  std::map<std::string, std::string> committed;  // tx hash -> "height:index" seen before a kill
  std::vector<std::string> acknowledged;         // admitted to the mempool

  for (int cycle = 0; cycle < 3; ++cycle) {
    auto client = RpcClient::FromUrl(node.url());
    REQUIRE(client.ok());
    client->set_timeout(std::chrono::seconds(10));
    // Resume from the committed nonce: admitted-but-uncommitted transactions may be lost in a
    // crash.
    nonce = CallOk(*client, "account_get", {{"address", Addr("owner")}})["nonce"];

    // Load: batches of signed transfers, while blocks are being produced.
    int batches = 5 + static_cast<int>(rng() % 6);
    for (int b = 0; b < batches; ++b) {
      json txs = json::array();
      for (int i = 0; i < 100; ++i) {
        txs.push_back(Hex(AsBytes(Signed(
            TransferBody("owner", i % 2 ? "alice" : "bob", 1 + rng() % 50, nonce++), "owner"))));
      }
      json results = CallOk(*client, "tx_submit_batch", {{"txs", txs}});
      for (const auto& r : results) {
        REQUIRE_MESSAGE(r.contains("tx_hash"), r.dump());
        acknowledged.push_back(r["tx_hash"]);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 40));
    }
    // Record what the node reports as committed, then kill it at a random moment.
    for (const auto& h : acknowledged) {
      if (committed.count(h)) continue;
      auto r = client->Call("tx_get", {{"hash", h}});
      if (r.ok() && (*r)["status"] == "committed") {
        committed[h] = std::to_string((*r)["height"].get<uint64_t>()) + ":" +
                       std::to_string((*r)["index"].get<uint64_t>());
      }
    }
    auto chain_before = Chain(*client);
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 120));
    node.Kill(SIGKILL);

    node.Start();
    auto after = RpcClient::FromUrl(node.url());
    REQUIRE(after.ok());
    auto chain_after = Chain(*after);
    // Every block seen before the kill is still there, with the same hash and state root.
    for (const auto& [height, ids] : chain_before) {
      REQUIRE_MESSAGE(chain_after.count(height), "block " << height << " lost in cycle " << cycle);
      CHECK(chain_after[height] == ids);
    }
    for (const auto& [hash, where] : committed) {
      json r = CallOk(*after, "tx_get", {{"hash", hash}});
      REQUIRE(r["status"] == "committed");
      CHECK(std::to_string(r["height"].get<uint64_t>()) + ":" +
                std::to_string(r["index"].get<uint64_t>()) ==
            where);
    }
  }

  // After the last restart the node carries on: a new transaction commits, and credits add up.
  auto client = RpcClient::FromUrl(node.url());
  REQUIRE(client.ok());
  uint64_t next = CallOk(*client, "account_get", {{"address", Addr("owner")}})["pending_nonce"];
  json sent =
      CallOk(*client, "tx_submit",
             {{"tx", Hex(AsBytes(Signed(TransferBody("owner", "carol", 5, next), "owner")))}});
  // A restart in the middle of a round may have to wait out that round's timeouts before the
  // node may sign again (startup listening 2 s, then propose 3 s, prevote and precommit 1 s
  // each), longer on a machine busy with other tests: up to 30 s.
  bool done = false;
  for (int i = 0; i < 600 && !done; ++i) {
    auto r = client->Call("tx_get", {{"hash", sent["tx_hash"]}});
    done = r.ok() && (*r)["status"] == "committed";
    if (!done) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const std::string log = node.log();
  CHECK_MESSAGE(done, "the node's log ends:\n"
                          << log.substr(log.size() - std::min<size_t>(log.size(), 3000)));
  uint64_t total = 0;
  for (const char* who : {"owner", "alice", "bob", "carol"}) {
    total += CallOk(*client, "balance_get", {{"batch", kBatch}, {"address", Addr(who)}})["grams"]
                 .get<uint64_t>();
  }
  CHECK(total == 1'000'000);
  CHECK(node.Kill(SIGTERM) == 0);
  CHECK(node.log().find("node stopped at height") != std::string::npos);
}

TEST_CASE("a restarted node keeps its state root and resumes from the same height") {
  TempDir dir;
  std::string home = InitTestHome(dir);
  NodeProcess node(home, dir / "node.log");
  node.Start();
  auto client = RpcClient::FromUrl(node.url());
  REQUIRE(client.ok());
  json tx = CallOk(*client, "tx_submit",
                   {{"tx", Hex(AsBytes(Signed(TransferBody("owner", "alice", 42, 0), "owner")))}});
  for (int i = 0; i < 200; ++i) {
    auto r = client->Call("tx_get", {{"hash", tx["tx_hash"]}});
    if (r.ok() && (*r)["status"] == "committed") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(node.Kill(SIGTERM) == 0);
  // Read the tip from the log-free source of truth: the node's own status after restart must not
  // be below what it had, and the block with our transaction keeps its state root.
  node.Start();
  auto again = RpcClient::FromUrl(node.url());
  json r = CallOk(*again, "tx_get", {{"hash", tx["tx_hash"]}});
  REQUIRE(r["status"] == "committed");
  CHECK(r["receipt"]["ok"] == true);
  CHECK(CallOk(*again, "balance_get", {{"batch", kBatch}, {"address", Addr("alice")}})["grams"] ==
        42);
}
