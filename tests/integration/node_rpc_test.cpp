// The JSON-RPC edge of a real puhuid: every kind of bad input gets a stable error code and a
// message a person can act on, and changes nothing; puhui-cli drives the same node end to end.
#include <doctest/doctest.h>

#include <cctype>

#include "chain/smt.h"
#include "contracts/state_keys.h"
#include "node/rpc_client.h"
#include "process.h"
#include "rpc/encode.h"

using namespace puhui;
using namespace puhui::testing;
using nlohmann::json;

namespace {

std::string HexTx(const pb::TxBody& body, const std::string& signer) {
  return Hex(AsBytes(Signed(body, signer)));
}

}  // namespace

TEST_CASE("node RPC: malformed requests get JSON-RPC errors, not crashes") {
  RunningNode n;
  auto parse = n.client.Post("{not json");
  REQUIRE(parse.ok());
  CHECK(json::parse(parse->second)["error"]["code"] == -32700);
  auto unknown = n.client.Post(R"({"jsonrpc":"2.0","id":1,"method":"no_such_method"})");
  CHECK(json::parse(unknown->second)["error"]["code"] == -32601);
  CHECK(n.ErrorCode("block_get", {{"height", "tall"}}) == -32602);
  CHECK(n.ErrorCode("block_get", {{"heigth", 1}}) == -32602);
  CHECK(n.ErrorCode("tx_get", {{"hash", "zz"}}) == -32602);
  auto big = n.client.Post(std::string(5u << 20, ' '));
  REQUIRE(big.ok());
  CHECK(big->first == 413);
  auto batch = n.client.Post(
      R"([{"jsonrpc":"2.0","id":1,"method":"node_status"},{"jsonrpc":"2.0","id":2,"method":"nope"}])");
  json b = json::parse(batch->second);
  REQUIRE(b.is_array());
  CHECK(b.size() == 2);
  CHECK(n.ErrorCode("tx_submit", json::object()) == -32602);
  CHECK(n.client.last_error().message == "param 'tx' is required");
  CHECK(n.ErrorCode("tx_submit", json::array()) == -32602);
  CHECK(n.ErrorCode("balance_get", {{"batch", "NO-SUCH"}, {"address", Addr("alice")}}) == 1002);
  CHECK(n.ErrorCode("account_get", {{"address", std::string(64, 'f')}}) == -32602);
  CHECK(n.client.last_error().message.find("param 'address'") != std::string::npos);
  // In a batch submission a malformed entry fails alone.
  // Hex may come in upper case and after "0x", and params by position.
  std::string upper = HexTx(TransferBody("owner", "alice", 1, 1), "owner");
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  json mixed =
      n.Ok("tx_submit_batch",
           {{"txs",
             {"zz", HexTx(TransferBody("owner", "alice", 1, 0), "owner"), "0x" + upper, "0x0g"}}});
  REQUIRE(mixed.size() == 4);
  CHECK(mixed[0]["error"]["code"] == -32602);
  CHECK(mixed[1].contains("tx_hash"));
  CHECK(mixed[2].contains("tx_hash"));
  CHECK(mixed[3]["error"]["code"] == -32602);
  CHECK(n.ErrorCode("tx_submit_batch", {{"txs", "00ff"}}) == -32602);
  CHECK(n.client.last_error().message == "param 'txs' must be an array of hex strings");
  CHECK(n.ErrorCode("tx_submit_batch", json::object()) == -32602);
  json by_position =
      n.Ok("tx_submit_batch",
           json::array({json::array({HexTx(TransferBody("owner", "alice", 1, 2), "owner")})}));
  REQUIRE(by_position.size() == 1);
  CHECK(by_position[0].contains("tx_hash"));
  // The node still serves after all that.
  CHECK(n.Ok("node_status", json::object())["chain_id"] == kChainId);
}

TEST_CASE(
    "node RPC: bad, foreign, replayed and duplicate transactions are refused and change nothing") {
  RunningNode n;
  json before = n.Ok("balance_get", {{"batch", kBatch}, {"address", Addr("owner")}});

  CHECK(n.ErrorCode("tx_submit", {{"tx", "00ff"}}) == 1001);  // not a TxEnvelope
  CHECK(n.ErrorCode("tx_submit", {{"tx", "xyz"}}) == -32602);
  CHECK(n.ErrorCode("tx_submit", {{"tx", HexTx(TransferBody("owner", "alice", 5, 0), "alice")}}) ==
        1007);
  CHECK(n.client.last_error().message.find("signature") != std::string::npos);
  pb::TxBody foreign = TransferBody("owner", "alice", 5, 0);
  foreign.set_chain_id("another-chain");
  CHECK(n.ErrorCode("tx_submit", {{"tx", HexTx(foreign, "owner")}}) == 1005);
  // Expiry height 1 is past once the chain has a block (the next block is then 2 or more).
  for (int i = 0; i < 200 && n.Ok("node_status", json::object())["latest_height"] < 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  pb::TxBody expired = TransferBody("owner", "alice", 5, 0);
  expired.set_expiry_height(1);
  CHECK(n.ErrorCode("tx_submit", {{"tx", HexTx(expired, "owner")}}) == 1005);
  CHECK(n.client.last_error().message.find("expired") != std::string::npos);

  std::string good = HexTx(TransferBody("owner", "alice", 5, 0), "owner");
  json sent = n.Ok("tx_submit", {{"tx", good}});
  CHECK(n.ErrorCode("tx_submit", {{"tx", good}}) == 1003);  // already pending
  CHECK(n.client.last_error().message.find("already waiting") != std::string::npos);
  json receipt = n.WaitCommitted(sent["tx_hash"]);
  CHECK(receipt["receipt"]["ok"] == true);
  CHECK(n.ErrorCode("tx_submit", {{"tx", good}}) == 1003);  // already committed
  CHECK(n.client.last_error().message.find("already committed") != std::string::npos);
  // Asked before its signature is checked: a copy whose signature is spoilt is answered the same.
  pb::TxEnvelope spoilt;
  REQUIRE(spoilt.ParseFromString(std::string(AsString(*FromHex(good)))));
  (*spoilt.mutable_signatures(0))[0] ^= 1;
  CHECK(n.ErrorCode("tx_submit", {{"tx", Hex(AsBytes(spoilt.SerializeAsString()))}}) == 1003);
  CHECK(n.client.last_error().message.find("already committed") != std::string::npos);
  // The same nonce re-signed with different content is a replay of a used nonce.
  CHECK(n.ErrorCode("tx_submit", {{"tx", HexTx(TransferBody("owner", "alice", 6, 0), "owner")}}) ==
        1005);
  CHECK(n.client.last_error().message.find("already used") != std::string::npos);

  json after = n.Ok("balance_get", {{"batch", kBatch}, {"address", Addr("owner")}});
  CHECK(after["grams"].get<uint64_t>() == before["grams"].get<uint64_t>() - 5);
}

TEST_CASE("node RPC: a business-rule failure commits with a failed receipt and a reason") {
  RunningNode n;
  json sent =
      n.Ok("tx_submit", {{"tx", HexTx(TransferBody("owner", "alice", 2'000'000, 0), "owner")}});
  json r = n.WaitCommitted(sent["tx_hash"]);
  CHECK(r["receipt"]["ok"] == false);
  CHECK(r["receipt"]["code"] == "insufficient_funds");
  CHECK(r["receipt"]["reason"].get<std::string>().find("free balance") != std::string::npos);
  CHECK(n.Ok("account_get", {{"address", Addr("owner")}})["nonce"] == 1);
  CHECK(n.Ok("balance_get", {{"batch", kBatch}, {"address", Addr("owner")}})["grams"] == 1'000'000);
}

TEST_CASE("node RPC: blocks, state proofs and accounts are served") {
  RunningNode n;
  json sent = n.Ok(
      "tx_submit",
      {{"tx", HexTx(GrantBody("sh-auth", "verifier", pb::ROLE_VERIFIER, "SH", 0), "sh-auth")}});
  json r = n.WaitCommitted(sent["tx_hash"]);
  uint64_t height = r["height"];
  json block = n.Ok("block_get", {{"height", height}});
  CHECK(block["header"]["height"] == height);
  CHECK(block["txs"].size() == block["header"]["tx_count"]);
  CHECK(block["commit"]["precommits"].size() == 1);
  CHECK(n.Ok("block_get", {{"hash", block["hash"]}})["header"]["height"] == height);
  CHECK(n.ErrorCode("block_get", {{"height", 1'000'000}}) == 1002);
  // A poller's listing: the same transactions by hash, nothing else of them.
  json light = n.Ok("block_get", {{"height", height}, {"hashes_only", true}});
  REQUIRE(light["txs"].size() == block["txs"].size());
  for (size_t i = 0; i < light["txs"].size(); ++i)
    CHECK(light["txs"][i] == json{{"hash", block["txs"][i]["hash"]}});
  CHECK(light["header"] == block["header"]);

  json account = n.Ok("account_get", {{"address", Addr("verifier")}});
  REQUIRE(account["roles"].size() == 1);
  CHECK(account["roles"][0]["role"] == "verifier");

  // The account record of sh-auth (nonce 1) with a proof against the state root after `height`.
  std::string key = Hex(AsBytes("acct/" + RawAddr("sh-auth")));
  json state = n.Ok("state_get", {{"key", key}, {"height", height}});
  CHECK(state["value"].is_string());
  CHECK(state["proof"]["siblings"].is_array());
  json absent = n.Ok("state_get", {{"key", Hex(AsBytes("acct/nobody"))}});
  CHECK(absent["value"].is_null());
}

TEST_CASE("puhui-cli: keys, a signed transfer that waits for commit, and queries") {
  RunningNode n;
  std::string cli = BinaryPath("puhui-cli");
  std::string owner_key = n.dir / "owner.key";
  REQUIRE(WriteKeyFile(owner_key, KeyOf("owner")).ok());
  auto [code_new, new_addr] = RunCommand({cli, "keys", "new", n.dir / "bob.key"});
  REQUIRE(code_new == 0);
  std::string bob = new_addr.substr(0, 64);
  auto [code_show, shown] = RunCommand({cli, "keys", "show", n.dir / "bob.key"});
  CHECK(shown.substr(0, 64) == bob);

  auto [code_tx, out_tx] =
      RunCommand({cli, "--node", n.process.url(), "tx", "transfer", "--key", owner_key, "--batch",
                  kBatch, "--to", bob, "--grams", "1234"});
  CHECK_MESSAGE(code_tx == 0, out_tx);
  CHECK(json::parse(out_tx)["receipt"]["ok"] == true);
  auto [code_bal, out_bal] = RunCommand({cli, "--node", n.process.url(), "balance", kBatch, bob});
  CHECK(code_bal == 0);
  CHECK(json::parse(out_bal)["grams"] == 1234);
  auto [code_status, out_status] = RunCommand({cli, "--node", n.process.url(), "status"});
  CHECK(json::parse(out_status)["chain_id"] == kChainId);
  auto [code_bad, out_bad] =
      RunCommand({cli, "--node", n.process.url(), "tx", "transfer", "--key", owner_key, "--batch",
                  kBatch, "--to", "nothex", "--grams", "1"});
  CHECK(code_bad == 2);
  auto [code_flag, out_flag] =
      RunCommand({BinaryPath("puhuid"), "start", "--home", n.home, "--rpc_port", "1"});
  CHECK(code_flag == 2);
}

TEST_CASE("node RPC: a state proof checks out against the state root in the next block's header") {
  RunningNode n;
  json sent = n.Ok("tx_submit", {{"tx", HexTx(TransferBody("owner", "alice", 77, 0), "owner")}});
  uint64_t height = n.WaitCommitted(sent["tx_hash"])["height"];
  // Wait for the next block, whose header commits to the state after `height`.
  json next;
  for (int i = 0; i < 200; ++i) {
    auto r = n.client.Call("block_get", {{"height", height + 1}});
    if (r.ok()) {
      next = *r;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  REQUIRE(next.is_object());
  auto root = Hash32FromHex(next["header"]["state_root"].get<std::string>());
  REQUIRE(root.has_value());

  std::string key_text = "bal/" + std::string(kBatch) + "/" + RawAddr("alice");
  json present = n.Ok("state_get", {{"key", Hex(AsBytes(key_text))}, {"height", height}});
  CHECK(present["state_root"] == next["header"]["state_root"]);
  auto value = FromHex(present["value"].get<std::string>());
  auto proof = rpc::SmtProofFromJson(present["proof"]);
  REQUIRE(value.has_value());
  REQUIRE(proof.has_value());
  CHECK(VerifySmtProof(*root, AsBytes(key_text), *value, *proof));
  // The same proof does not vouch for another amount.
  CHECK_FALSE(VerifySmtProof(*root, AsBytes(key_text), EncodeU64(78), *proof));

  std::string absent_key = "bal/" + std::string(kBatch) + "/" + RawAddr("nobody");
  json absent = n.Ok("state_get", {{"key", Hex(AsBytes(absent_key))}, {"height", height}});
  CHECK(absent["value"].is_null());
  auto absence = rpc::SmtProofFromJson(absent["proof"]);
  REQUIRE(absence.has_value());
  CHECK(VerifySmtProof(*root, AsBytes(absent_key), std::nullopt, *absence));
  CHECK_FALSE(VerifySmtProof(*root, AsBytes(absent_key), EncodeU64(1), *absence));
}
