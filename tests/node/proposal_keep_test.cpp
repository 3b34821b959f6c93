// A validator's check of a peer's proposal: the transactions it verified that its mempool lacked
// are kept there (ConsensusDriver::KeepChecked), so the relayed copies that arrive after the
// proposal are refused as already waiting instead of being checked again; those the mempool held
// are not checked at all.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "consensus/proposer.h"
#include "consensus/signer.h"
#include "node/consensus_driver.h"
#include "test_util.h"

using namespace puhui;
using namespace puhui::testing;
using namespace std::chrono_literals;

namespace {

// TestGenesis with two validators of equal power: "validator" and "peer".
GenesisDoc TwoValidatorGenesis() {
  std::string json = TestGenesisJson(1000);
  const size_t from = json.find("\"validators\": [");
  const size_t to = json.find("}],", from) + 3;
  json.replace(from, to - from,
               R"("validators": [{"name": "v", "region": "SH", "power": 10, "pub_key": ")" +
                   Addr("validator") +
                   R"("}, {"name": "p", "region": "JS", "power": 10, "pub_key": ")" + Addr("peer") +
                   R"("}],)");
  auto doc = ParseGenesis(json);
  REQUIRE_MESSAGE(doc.ok(), doc.status().ToString());
  return *doc;
}

}  // namespace

TEST_CASE("a peer's proposal leaves the transactions it checked waiting in the mempool") {
  const GenesisDoc genesis = TwoValidatorGenesis();
  TempDir dir;
  auto ledger = std::move(Ledger::Open(dir / "here", genesis).value());
  auto theirs = std::move(Ledger::Open(dir / "theirs", genesis).value());
  SignGuard guard = *SignGuard::Open(dir / "last_signed");
  Mempool mempool{{}};
  VerifierPool verifier{1};

  // The proposer of height 1, round 0 (selection number 1) sends the block; this node is the other.
  const size_t index = consensus::ProposerSequence(ledger->validators(), 1, 1).at(0);
  const std::string proposer_key = ledger->validators().proto().validators(index).pub_key();
  const bool peer_proposes = proposer_key == RawAddr("peer");
  const std::string proposer = peer_proposes ? "peer" : "validator";
  const std::string local = peer_proposes ? "validator" : "peer";

  // Three transfers: the mempool here already holds the first; the other two it has not seen.
  std::vector<DecodedTx> txs;
  for (uint64_t n = 0; n < 3; ++n)
    txs.push_back(Decoded(TransferBody("owner", "alice", 1, n), "owner"));
  REQUIRE(mempool.Add(txs[0], 0, 1).ok());
  auto block = theirs->Propose(txs, KeyOf(proposer).Public(), nullptr);
  REQUIRE_MESSAGE(block.ok(), block.status().ToString());
  REQUIRE(block->txs.size() == 3);

  pb::Proposal proposal;
  proposal.set_chain_id(kChainId);
  proposal.set_height(1);
  proposal.set_round(0);
  proposal.set_pol_round(-1);
  proposal.set_block(block->block.SerializeAsString());
  proposal.set_block_hash(ToString(ByteView(block->hash)));
  proposal.set_proposer(RawAddr(proposer));
  pb::P2pMessage message;
  *message.mutable_proposal() = consensus::SignProposal(proposal, kChainId, KeyOf(proposer));

  std::atomic<int> prevotes{0};
  DriverNetwork network;
  network.broadcast = [&](const pb::P2pMessage& m) {
    if (m.has_vote()) prevotes.fetch_add(1);
  };
  DriverOptions options;
  options.clock_ms = [] { return uint64_t{1'800'000'000'000}; };
  options.startup_listen_ms = 0;
  ConsensusDriver driver(*ledger, mempool, verifier, &guard, KeyOf(local), network, options);
  std::jthread loop([&](std::stop_token stop) {
    Status s = driver.Run(stop);
    CHECK_MESSAGE(s.ok(), s.ToString());
  });
  // The height starts at once (a transaction waits); the engine takes no input before it starts.
  REQUIRE(WaitUntil([&] {
    const std::string step = driver.Snapshot().step;
    return !step.empty() && step != "waiting";
  }));
  driver.OnPeerMessage(KeyOf(proposer).Public(), message);

  // It prevotes the block (a valid one), having checked the two signatures it lacked only.
  REQUIRE(WaitUntil([&] { return prevotes.load() > 0; }));
  CHECK(verifier.checked() == 2);
  CHECK(driver.Snapshot().checked_in_blocks == 2);  // node_status.signatures.in_blocks
  // All three wait in the mempool now; no block is decided without the proposer's votes.
  CHECK(ledger->Tip().height() == 0);
  CHECK(mempool.size() == 3);
  for (const DecodedTx& tx : txs) CHECK(mempool.Contains(tx.id));
  // A relayed copy of one it checked is refused as already waiting.
  Status copy = mempool.Add(txs[2], 0, 1);
  CHECK(copy.code() == StatusCode::kAlreadyExists);
  CHECK(verifier.checked() == 2);
}
