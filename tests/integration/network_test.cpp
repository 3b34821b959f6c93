// Four real validators and an observer on loopback: what the regional network must do under
// faults. A transaction sent to any node commits on all; one validator down changes nothing; two
// down halt the chain without a fork; restarted nodes and late nodes catch up by block sync; a
// validator whose data is restored from an old copy does not sign twice; a validator that
// equivocates is caught and the evidence is committed.
#include "network.h"

#include <doctest/doctest.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "consensus/validator_set.h"
#include "node/audit.h"
#include "node/p2p_connection.h"
#include "node/proof_verify.h"
#include "rpc/errors.h"

using namespace puhui;
using namespace puhui::testing;
using nlohmann::json;

namespace {

constexpr size_t kObserver = 4;

std::string Transfer(uint64_t nonce, uint64_t grams = 1) {
  return Signed(TransferBody("owner", "alice", grams, nonce), "owner");
}

// Every node in `who` holds the same block at every height up to `height`.
void CheckSameChain(Network& net, const std::vector<size_t>& who, uint64_t height) {
  for (uint64_t h = 1; h <= height; ++h) {
    std::string first = net.BlockHash(who[0], h);
    for (size_t i : who) CHECK_MESSAGE(net.BlockHash(i, h) == first, "node ", i, " height ", h);
  }
}

// Waits until every node in `who` has committed the transaction and reached the highest height any
// of them committed it at; returns that height.
uint64_t CommittedEverywhere(Network& net, const std::vector<size_t>& who, const std::string& hash,
                             int seconds) {
  uint64_t at = 0;
  for (size_t i : who) {
    uint64_t h = net.WaitCommitted(i, hash, seconds);
    REQUIRE_MESSAGE(h > 0, "node ", i, " did not commit ", hash, "\n", net.Log(i));
    at = std::max(at, h);
  }
  for (size_t i : who) REQUIRE(net.WaitHeight(i, at));
  return at;
}

uint64_t EvidenceSeen(Network& net, size_t i) {
  return net.Call(i, "node_status", json::object())["consensus"]["evidence_seen"];
}

}  // namespace

TEST_CASE("a transaction sent to any validator commits on all four and the observer follows") {
  Network net;
  // The observer knows one validator only, as an exchange's node might.
  net.EditConfig(kObserver,
                 [](json& config) { config["peers"] = json::array({config["peers"][0]}); });
  net.StartAll();
  std::vector<std::string> hashes;
  for (size_t i = 0; i < 4; ++i) hashes.push_back(net.Submit(i, Transfer(i)));
  uint64_t top = 0;
  for (const auto& hash : hashes) {
    for (size_t i = 0; i < net.size(); ++i) {
      uint64_t h = net.WaitCommitted(i, hash);
      REQUIRE_MESSAGE(h > 0, "node ", i, " did not commit ", hash, "\n", net.Log(i));
      top = std::max(top, h);
    }
  }
  for (size_t i = 0; i < net.size(); ++i) REQUIRE(net.WaitHeight(i, top));
  CheckSameChain(net, {0, 1, 2, 3, kObserver}, top);
  json balance =
      net.Call(kObserver, "balance_get", {{"batch", kBatch}, {"address", Addr("alice")}});
  CHECK(balance["grams"] == 4);
  json status = net.Call(kObserver, "node_status", json::object());
  CHECK(status["role"] == "observer");
  CHECK(status["peers"].size() == 1);
  CHECK(net.Call(0, "node_status", json::object())["role"] == "validator");
  // Each validator got the others' transactions from them alone: what a validator relayed is not
  // relayed again among validators (a few copies offered again to a late peer at most).
  for (size_t i = 0; i < 4; ++i) {
    const json relayed = net.Call(i, "node_status", json::object())["mempool"]["relayed"];
    CHECK_MESSAGE(relayed["received"].get<uint64_t>() >= 3, relayed.dump());
    CHECK_MESSAGE(2 * relayed["already_held"].get<uint64_t>() < relayed["received"].get<uint64_t>(),
                  relayed.dump());
  }
  // Caught up, it follows live: blocks are decided from the votes its one validator passes on,
  // not fetched afterwards by block sync (which a loaded machine may still need now and then).
  int live = 0;
  for (uint64_t n = 4; n < 7; ++n) {
    const uint64_t h = net.WaitCommitted(kObserver, net.Submit(2, Transfer(n)));
    REQUIRE(h > 0);
    live += net.Log(kObserver).find("committed block height=" + std::to_string(h) + " ") !=
            std::string::npos;
  }
  CHECK_MESSAGE(live > 0, net.Log(kObserver));
  // Sent to the observer, a transaction reaches every validator through the one it knows.
  const std::string via_observer = net.Submit(kObserver, Transfer(7));
  for (size_t i = 0; i < 4; ++i) CHECK(net.WaitCommitted(i, via_observer) > 0);
}

TEST_CASE(
    "with one validator down commits go on and with two down the chain halts without a fork "
    "until they return and catch up") {
  Network net(4, 0);
  net.StartAll();
  uint64_t nonce = 0;
  REQUIRE(net.WaitCommitted(0, net.Submit(0, Transfer(nonce++))) > 0);

  net.Kill(3);
  for (int i = 0; i < 3; ++i) {
    std::string hash = net.Submit(i % 3, Transfer(nonce++));
    REQUIRE_MESSAGE(net.WaitCommitted(0, hash) > 0, "no progress with one validator down\n",
                    net.Log(0));
  }

  net.Kill(2);
  const uint64_t halted = std::max(net.Height(0), net.Height(1));
  std::string stuck = net.Submit(0, Transfer(nonce++));
  std::this_thread::sleep_for(std::chrono::seconds(3));
  // Half the power cannot commit: at most a block already decided lands.
  CHECK(net.Height(0) <= halted + 1);
  CHECK(net.Height(1) <= halted + 1);
  CHECK(net.Height(0) == net.Height(1));

  net.Start(2);
  net.Start(3);
  CheckSameChain(net, {0, 1, 2, 3}, CommittedEverywhere(net, {0, 1, 2, 3}, stuck, 60));
  for (size_t i = 0; i < 4; ++i) CHECK(EvidenceSeen(net, i) == 0);
}

TEST_CASE("a transaction a validator missed while it was down is offered to it again") {
  Network net(4, 0);
  net.StartAll();
  uint64_t nonce = 0;
  REQUIRE(net.WaitCommitted(0, net.Submit(0, Transfer(nonce++))) > 0);
  net.Kill(3);
  // Behind a nonce gap it waits in the mempools of the three validators that are up; relayed
  // once, at admission, it never reached the fourth.
  const std::string waiting = net.Submit(0, Transfer(50));
  net.Start(3);
  // Blocks go on; every few of them the waiting transaction is offered to the peers again.
  bool offered = false;
  for (int round = 0; round < 40 && !offered; ++round) {
    REQUIRE(net.WaitCommitted(3, net.Submit(round % 3, Transfer(nonce++))) > 0);
    auto r = net.Client(3).Call("tx_get", {{"hash", waiting}});
    offered = r.ok() && (*r)["status"] == "pending";
  }
  CHECK_MESSAGE(offered, net.Log(3));
}

TEST_CASE("a transaction a validator refused for lack of room is offered to it again later") {
  Network net(4, 0);
  // Validator 3 holds one transaction at most.
  net.EditConfig(3, [](json& config) { config["mempool"] = {{"max_txs", 1}}; });
  net.StartAll();
  uint64_t nonce = 0;
  REQUIRE(net.WaitCommitted(3, net.Submit(0, Transfer(nonce++))) > 0);
  // Behind a nonce gap, one transaction fills validator 3's mempool; the next one, sent to
  // validator 0 and held there behind a wider gap, is refused by 3 when relayed, and 3 counts the
  // refusal in its status messages.
  const std::string filler = net.Submit(3, Transfer(20));
  const std::string waiting = net.Submit(0, Transfer(1000));
  // A few blocks on, validator 0 has offered it to validator 3 again, and 3, still full, refused
  // it again: each offer is bought by a refusal counted in 3's status messages. Closing the
  // filler's gap then commits the filler and leaves room.
  REQUIRE(net.WaitHeight(0, net.Height(0) + 6));
  for (; nonce < 20; ++nonce) net.Submit(0, Transfer(nonce));
  REQUIRE(net.WaitCommitted(3, filler) > 0);
  CHECK_MESSAGE(net.WaitPending(3, waiting), net.Log(3));
}

TEST_CASE("a busy validator refuses clients' transactions but still takes its peers' relays") {
  Network net(4, 0);
  // Validator 3 admits clients' transactions only while fewer than two wait.
  net.EditConfig(3, [](json& config) { config["mempool"] = {{"max_txs_for_clients", 2}}; });
  net.StartAll();
  // Behind a nonce gap, two transactions wait on every validator: sent to 3 and relayed.
  const std::string first = net.Submit(3, Transfer(10));
  const std::string second = net.Submit(0, Transfer(11));
  REQUIRE_MESSAGE(net.WaitPending(3, first), net.Log(3));
  REQUIRE_MESSAGE(net.WaitPending(3, second), net.Log(3));
  // A third behind the gap from a client is refused by 3, with the limit's reason (half of the
  // clients' room may wait behind gaps); sent to 0 instead, it is relayed to 3, which takes it.
  const std::string third = Transfer(12);
  RpcClient client = net.Client(3);
  auto checked = [&] {
    return net.Call(3, "node_status", json::object())["signatures"]["checked"].get<uint64_t>();
  };
  const uint64_t checked_before = checked();
  REQUIRE_FALSE(client.Call("tx_submit", {{"tx", Hex(AsBytes(third))}}).ok());
  CHECK(client.last_error().code == rpc::kStatusResourceExhausted);
  CHECK(client.last_error().message.find("busy: 2 transactions wait behind nonce gaps") !=
        std::string::npos);
  CHECK(checked() == checked_before);  // refused before its signature was checked
  CHECK_MESSAGE(net.WaitPending(3, net.Submit(0, third)), net.Log(3));
  // The transaction that closes the gap still gets in from a client: it can go in the next block,
  // and takes the place of the highest nonce waiting behind the gap. Without that, what waits
  // behind gaps would hold the node busy until it expired.
  const json before = net.Call(3, "node_status", json::object())["mempool"];
  CHECK(before["behind_gaps"] == 3);
  const std::string closing = net.Submit(3, Transfer(0));
  CHECK_MESSAGE(net.WaitCommitted(3, closing) > 0, net.Log(3));
  CHECK(net.Call(3, "node_status", json::object())["mempool"]["displaced"] == 1);
}

TEST_CASE("a node started late syncs from genesis and then follows") {
  Network net(4, 1);
  for (size_t i = 0; i < 3; ++i) net.Start(i);  // 30 of 40 power: enough to commit
  uint64_t at = 0;
  for (uint64_t n = 0; n < 5; ++n) at = net.WaitCommitted(0, net.Submit(0, Transfer(n)));
  REQUIRE(at > 0);
  net.Start(3);
  net.Start(kObserver);
  REQUIRE(net.WaitHeight(3, at));
  REQUIRE(net.WaitHeight(kObserver, at));
  CHECK(net.Log(3).find("synced block height=1 ") != std::string::npos);
  // Now it takes part: with node 0 down, nodes 1-3 still hold 30 of 40.
  net.Kill(0);
  std::string hash = net.Submit(3, Transfer(5));
  uint64_t h = net.WaitCommitted(3, hash);
  REQUIRE_MESSAGE(h > 0, net.Log(3));
  REQUIRE(net.WaitHeight(kObserver, h));
  CheckSameChain(net, {1, 2, 3, kObserver}, h);
}

TEST_CASE(
    "a validator whose data and sign record are restored from an older copy does not sign twice") {
  Network net(4, 0);
  net.StartAll();
  uint64_t nonce = 0;
  REQUIRE(net.WaitCommitted(0, net.Submit(0, Transfer(nonce++))) > 0);
  // An operator's backup of validator 3's data and sign record, taken while it is stopped.
  net.Kill(3, SIGTERM);
  const std::string data = net.home(3) + "/data";
  const std::string record = net.home(3) + "/last_signed";
  const std::string backup = net.home(3) + "/../node3-backup";
  std::filesystem::copy(data, backup, std::filesystem::copy_options::recursive);
  const bool had_record = std::filesystem::exists(record);  // none if it had not signed yet
  if (had_record) std::filesystem::copy_file(record, backup + ".last_signed");
  net.Start(3);
  // The chain moves on with validator 3 voting...
  uint64_t later = 0;
  for (int i = 0; i < 4; ++i) later = net.WaitCommitted(3, net.Submit(3, Transfer(nonce++)));
  REQUIRE(later > 0);
  // ...then it halts with validator 3's votes in the stalled height,
  net.Kill(1);
  net.Kill(2);
  std::string stuck = net.Submit(0, Transfer(nonce++));
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  // and validator 3 comes back from the old copy of its data.
  net.Kill(3);
  std::filesystem::remove_all(data);
  std::filesystem::rename(backup, data);
  // Even the sign record comes from the backup: the votes it signed since come back from its
  // peers, and it adopts them before signing anything.
  std::filesystem::remove(record);
  if (had_record) std::filesystem::rename(backup + ".last_signed", record);
  net.Start(3);
  net.Start(1);
  net.Start(2);
  CheckSameChain(net, {0, 1, 2, 3}, CommittedEverywhere(net, {0, 1, 2, 3}, stuck, 90));
  for (size_t i = 0; i < 4; ++i)
    CHECK_MESSAGE(EvidenceSeen(net, i) == 0, "node ", i, " saw a double sign");
  // Whether it had to adopt votes depends on where the stall caught it; say which it was.
  MESSAGE("validator 3 adopted votes from its peers: "
          << (net.Log(3).find("adopted a later") != std::string::npos));
}

TEST_CASE("a validator that signs two votes in one slot is caught and its evidence committed") {
  Network net(4, 0);
  for (size_t i = 0; i < 3; ++i) net.Start(i);  // 30 of 40: the chain runs without node 3
  REQUIRE(net.WaitCommitted(0, net.Submit(0, Transfer(0))) > 0);

  // Node 3's keys in the hands of a faulty operator: connect as node 3 and equivocate.
  auto validator_key = ReadKeyFile(net.home(3) + "/validator_key");
  auto node_key = ReadKeyFile(net.home(3) + "/node_key");
  REQUIRE(validator_key.ok());
  REQUIRE(node_key.ok());
  namespace asio = boost::asio;
  asio::io_context io;
  auto work = asio::make_work_guard(io);
  std::thread runner([&io] { io.run(); });
  P2pConfig config{kChainId, *node_key, [](const PublicKey&) { return true; }, P2pLimits{}};
  std::atomic<bool> closed{false};
  P2pCallbacks callbacks;
  callbacks.on_close = [&closed](const Status&) { closed = true; };
  auto conn = P2pConnection::Dial(
      io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), net.node(0).p2p_port),
      config, callbacks);

  json status = net.Call(0, "node_status", json::object());
  const uint64_t height = status["consensus"]["height"];
  const uint64_t now_ms = status["latest_block_time_ms"].get<uint64_t>() + 1;
  // Two prevotes for different blocks in each slot of the next few heights, so that some land
  // while node 0 is at that height.
  for (uint64_t h = height; h < height + 4; ++h) {
    for (char block : {'x', 'y'}) {
      pb::Vote v;
      v.set_chain_id(kChainId);
      v.set_type(pb::VOTE_PREVOTE);
      v.set_height(h);
      v.set_round(0);
      v.set_block_hash(std::string(32, block));
      v.set_validator(ToString(validator_key->Public().bytes));
      v.set_time_ms(now_ms);
      pb::P2pMessage m;
      *m.mutable_vote() = SignVote(v, kChainId, *validator_key);
      conn->Send(m);
    }
  }
  // Keep the chain moving so that a proposer puts the evidence in a block.
  bool committed = false;
  for (uint64_t n = 1; n < 40 && !committed; ++n) {
    net.WaitCommitted(1, net.Submit(1, Transfer(n)), 10);
    json evidence = net.Call(2, "evidence_list", json::object());
    for (const json& e : evidence["committed"]) {
      committed |= e["votes"][0]["validator"] == Hex(validator_key->Public().bytes);
    }
  }
  CHECK_MESSAGE(committed, "no committed evidence\n", net.Log(0));
  conn->Close(Status::Ok());
  work.reset();
  io.stop();
  runner.join();
}

TEST_CASE("the regions' authorities vote an observer in as a validator and it starts to sign") {
  Network net(4, 1);
  net.StartAll();
  auto observer_key = ReadKeyFile(net.home(kObserver) + "/validator_key");
  auto observer_node = ReadKeyFile(net.home(kObserver) + "/node_key");
  REQUIRE(observer_key.ok());
  REQUIRE(observer_node.ok());
  REQUIRE(net.WaitHeight(0, 1));
  const std::string before = net.Call(0, "block_get", {{"height", 1}})["header"]["validators_hash"];

  // The Shanghai authority proposes (its yes vote counts), Jiangsu's approves: 2 of 2 regions.
  pb::TxBody propose = Body("sh-auth", 0, 10'000);
  auto* p = propose.mutable_submit_proposal();
  p->set_id("add-observer");
  p->set_region("SH");
  p->set_expiry_height(10'000);
  auto* change = p->mutable_change_validator();
  change->set_pub_key(ToString(observer_key->Public().bytes));
  change->set_power(10);
  change->set_region("JS");
  change->set_name("jiangsu-validator-2");
  change->set_node_key(ToString(observer_node->Public().bytes));
  REQUIRE(net.WaitCommitted(0, net.Submit(0, Signed(propose, "sh-auth"))) > 0);
  pb::TxBody vote = Body("js-auth", 0, 10'000);
  vote.mutable_vote_proposal()->set_id("add-observer");
  vote.mutable_vote_proposal()->set_region("JS");
  vote.mutable_vote_proposal()->set_approve(true);
  const std::string vote_hash = net.Submit(1, Signed(vote, "js-auth"));
  const uint64_t decided = net.WaitCommitted(kObserver, vote_hash);
  REQUIRE(decided > 0);
  json receipt = net.Call(kObserver, "tx_get", {{"hash", vote_hash}})["receipt"];
  REQUIRE_MESSAGE(receipt["code"] == "ok", receipt.dump());

  // From decided + 4 on, five validators sign; the observer's node now says so.
  bool promoted = false;
  for (int i = 0; i < 200 && !promoted; ++i) {
    net.Submit(2, Transfer(static_cast<uint64_t>(i)));  // keep blocks coming
    promoted = net.Call(kObserver, "node_status", json::object())["role"] == "validator";
    if (!promoted) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  REQUIRE_MESSAGE(promoted, net.Log(kObserver));
  const uint64_t effective = decided + 4;
  REQUIRE(net.WaitHeight(0, effective));
  CHECK(net.Call(0, "block_get", {{"height", effective}})["header"]["validators_hash"] != before);
  CHECK(net.Call(0, "block_get", {{"height", effective - 1}})["header"]["validators_hash"] ==
        before);

  // With one original validator down, 40 of 50 remain only if the new one votes: commits go on.
  net.Kill(3);
  const uint64_t nonce = net.Call(0, "account_get", {{"address", Addr("owner")}})["pending_nonce"];
  std::string hash = net.Submit(0, Transfer(nonce));
  const uint64_t h = net.WaitCommitted(0, hash, 60);
  REQUIRE_MESSAGE(h > 0, "no progress without validator 3\n", net.Log(kObserver));
  bool signed_by_new = false;
  const json certified = net.Call(0, "block_get", {{"height", h}});
  for (const json& pc : certified["commit"]["precommits"]) {
    signed_by_new |= pc["validator"] == Hex(observer_key->Public().bytes);
  }
  CHECK_MESSAGE(signed_by_new, certified.dump(1));

  // A light client that knows only the genesis file follows the change in a proof; an auditor
  // replaying the chain follows it too.
  auto genesis = LoadGenesisFile(net.home(0) + "/genesis.json");
  REQUIRE(genesis.ok());
  REQUIRE(net.WaitHeight(0, h + 1));
  json proof = net.Call(
      0, "proof_get",
      {{"kind", "balance"}, {"serial", kBatch}, {"address", Addr("alice")}, {"height", h}});
  REQUIRE(proof["validator_changes"].size() == 1);
  CHECK(proof["validator_changes"][0]["effective_height"] == effective);
  Status valid = VerifyProof(*genesis, proof);
  CHECK_MESSAGE(valid.ok(), valid.message());
  json without = proof;
  without["validator_changes"] = json::array();
  CHECK(VerifyProof(*genesis, without).message().find("a change is missing or forged") !=
        std::string::npos);
  json other_set = proof;
  pb::ValidatorSet set;
  REQUIRE(set.ParseFromString(
      ToString(*FromHex(other_set["validator_changes"][0]["set"].get<std::string>()))));
  set.mutable_validators(0)->set_power(set.validators(0).power() + 1);
  other_set["validator_changes"][0]["set"] = Hex(AsBytes(set.SerializeAsString()));
  CHECK(VerifyProof(*genesis, other_set).message().find("not the one the chain had decided") !=
        std::string::npos);

  TempDir scratch;
  auto source = OpenRpcSource("http://127.0.0.1:" + net.Client(0).port());
  REQUIRE(source.ok());
  auto audit = RunAudit(*genesis, **source, scratch.path(), AuditOptions{});
  REQUIRE_MESSAGE(audit.ok(), audit.status().ToString());
  CHECK_MESSAGE(!audit->fault.has_value(), (audit->fault ? audit->fault->reason : ""));
  CHECK(audit->validator_set_changes == 1);
}
