#include "node/ledger.h"

#include <doctest/doctest.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>

#include "certify.h"
#include "node/consensus_driver.h"
#include "node/signature_slices.h"
#include "test_util.h"

using namespace puhui;
using namespace puhui::testing;

namespace {

struct Chain {
  TempDir dir;
  std::unique_ptr<Ledger> ledger = std::move(Ledger::Open(dir / "chain", TestGenesis()).value());
  VerifierPool verifier{2};

  ExecutedBlock ProposeAndCommit(std::vector<DecodedTx> txs) {
    auto b = ledger->Propose(std::move(txs), KeyOf("validator").Public(), nullptr);
    REQUIRE_MESSAGE(b.ok(), b.status().ToString());
    REQUIRE(ledger->Commit(*b, Certify(*b)).ok());
    return *b;
  }
};

}  // namespace

TEST_CASE("a ledger opens at genesis and refuses data of another genesis") {
  TempDir dir;
  {
    auto ledger = Ledger::Open(dir / "chain", TestGenesis());
    REQUIRE(ledger.ok());
    CHECK((*ledger)->Tip().height() == 0);
    CHECK((*ledger)->Tip().state_root() != ToString(kZeroHash));
  }
  auto other = ParseGenesis(TestGenesisJson(/*block_interval_ms=*/99));
  REQUIRE(other.ok());
  auto reopened = Ledger::Open(dir / "chain", *other);
  CHECK(reopened.status().code() == StatusCode::kFailedPrecondition);
  CHECK(reopened.status().message().find("another genesis") != std::string::npos);
}

TEST_CASE("each header carries the state root and receipts root of the block before it") {
  Chain c;
  pb::ChainMeta genesis = c.ledger->Tip();
  ExecutedBlock b1 = c.ProposeAndCommit({Decoded(TransferBody("owner", "alice", 5, 0), "owner")});
  CHECK(b1.header.state_root() == genesis.state_root());
  CHECK(b1.header.receipts_root() == ToString(kZeroHash));
  pb::ChainMeta after1 = c.ledger->Tip();
  CHECK(after1.state_root() == ToString(b1.tree.root));
  ExecutedBlock b2 = c.ProposeAndCommit({});
  CHECK(b2.header.state_root() == after1.state_root());
  CHECK(b2.header.receipts_root() == ToString(b1.receipts_root));
  CHECK(b2.header.parent_hash() == ToString(b1.hash));
  CHECK(b2.header.time_ms() > b1.header.time_ms());  // time never goes backwards
}

TEST_CASE(
    "a block check takes already verified transactions only if their envelope is the block's, "
    "and does not check their signatures again") {
  Chain a;
  Chain b;
  DecodedTx tx = Decoded(TransferBody("owner", "alice", 5, 0), "owner");
  DecodedTx other = Decoded(TransferBody("owner", "alice", 6, 1), "owner");
  auto proposed = a.ledger->Propose({tx, other}, KeyOf("validator").Public(), nullptr);
  REQUIRE(proposed.ok());
  REQUIRE(proposed->txs.size() == 2);
  const std::string block = proposed->block.SerializeAsString();
  DecodedTx held = tx;  // the mempool's copy of the first
  auto lookup = [&](const Hash32& id) -> std::optional<DecodedTx> {
    if (id == held.id) return held;
    return std::nullopt;
  };
  // The held copy is used, and only the other transaction's signature is checked.
  auto used = b.ledger->Validate(block, b.verifier, true, lookup);
  REQUIRE_MESSAGE(used.ok(), used.status().ToString());
  CHECK(used->hash == proposed->hash);
  CHECK(b.verifier.checked() == 1);
  CHECK(used->checked_here == std::vector<size_t>{1});  // which the caller may keep
  // A copy under another envelope (its bytes differ) is not used: the block decodes its own, and
  // both signatures are checked.
  held.envelope_bytes += "x";
  auto ignored = b.ledger->Validate(block, b.verifier, true, lookup);
  REQUIRE_MESSAGE(ignored.ok(), ignored.status().ToString());
  CHECK(ignored->hash == proposed->hash);
  CHECK(b.verifier.checked() == 3);
  CHECK(ignored->checked_here == std::vector<size_t>{0, 1});
  // Without a lookup every signature is checked.
  REQUIRE(b.ledger->Validate(block, b.verifier).ok());
  CHECK(b.verifier.checked() == 5);
  // Unchecked (a certified block's), none is said to be checked.
  auto certified = b.ledger->Validate(block, b.verifier, false);
  REQUIRE(certified.ok());
  CHECK(certified->checked_here.empty());
  CHECK(b.verifier.checked() == 5);
}

TEST_CASE(
    "a block check hands over each slice of verified transactions at once, and skips those the "
    "mempool took meanwhile") {
  Chain a;
  Chain b;
  // Two slices of checks (256, then the rest).
  constexpr uint64_t kTxs = SliceChecks::kDefaultSlice + 2;
  std::vector<DecodedTx> txs;
  for (uint64_t n = 0; n < kTxs; ++n)
    txs.push_back(Decoded(TransferBody("owner", "bob", 1, n), "owner"));
  auto proposed = a.ledger->Propose(txs, KeyOf("validator").Public(), nullptr);
  REQUIRE(proposed.ok());
  REQUIRE(proposed->txs.size() == kTxs);
  const std::string block = proposed->block.SerializeAsString();

  // The "mempool" starts empty; once the first slice is handed over, a relay brings the last
  // transaction's very envelope in, so the second slice checks only the one before it.
  std::map<Hash32, DecodedTx> mempool;
  std::vector<size_t> handed_over;
  auto lookup = [&](const Hash32& id) -> std::optional<DecodedTx> {
    auto it = mempool.find(id);
    return it == mempool.end() ? std::nullopt : std::optional<DecodedTx>(it->second);
  };
  auto sink = [&](std::span<const DecodedTx* const> verified) {
    handed_over.push_back(verified.size());
    for (const DecodedTx* tx : verified) mempool.emplace(tx->id, *tx);
    mempool.emplace(txs.back().id, txs.back());
  };
  auto checked = b.ledger->Validate(block, b.verifier, true, lookup, sink);
  REQUIRE_MESSAGE(checked.ok(), checked.status().ToString());
  CHECK(checked->hash == proposed->hash);
  CHECK(handed_over == std::vector<size_t>{SliceChecks::kDefaultSlice, 1});
  CHECK(b.verifier.checked() == kTxs - 1);
  CHECK(checked->checked_here.size() == kTxs - 1);
  CHECK(checked->checked_here.back() == kTxs - 2);
}

TEST_CASE("a block with a bad signature in a later slice is refused, the good slice handed over") {
  Chain a;
  Chain b;
  constexpr uint64_t kTxs = SliceChecks::kDefaultSlice + 1;
  std::vector<DecodedTx> txs;
  for (uint64_t n = 0; n < kTxs; ++n) {
    // The last is signed by someone other than its sender.
    txs.push_back(Decoded(TransferBody("owner", "bob", 1, n), n + 1 == kTxs ? "alice" : "owner"));
  }
  auto proposed = a.ledger->Propose(txs, KeyOf("validator").Public(), nullptr);
  REQUIRE(proposed.ok());
  REQUIRE(proposed->txs.size() == kTxs);
  size_t handed_over = 0;
  auto sink = [&](std::span<const DecodedTx* const> verified) { handed_over += verified.size(); };
  auto checked =
      b.ledger->Validate(proposed->block.SerializeAsString(), b.verifier, true, {}, sink);
  CHECK(checked.status().code() == StatusCode::kUnauthenticated);
  CHECK(checked.status().message().find("bad signature") != std::string::npos);
  CHECK(handed_over == SliceChecks::kDefaultSlice);  // good signatures whatever the block is
  CHECK(b.ledger->Tip().height() == 0);
}

TEST_CASE("a proposal leaves out transactions that cannot be included, and says which") {
  Chain c;
  DecodedTx good = Decoded(TransferBody("owner", "alice", 5, 0), "owner");
  DecodedTx stale = Decoded(TransferBody("alice", "owner", 5, 3), "alice");
  std::vector<Hash32> dropped;
  auto b = c.ledger->Propose({good, stale}, KeyOf("validator").Public(), &dropped);
  REQUIRE(b.ok());
  CHECK(b->txs.size() == 1);
  REQUIRE(dropped.size() == 1);
  CHECK(dropped[0] == stale.id);
}

TEST_CASE("another node's copy of a block validates to the same state root") {
  Chain a;
  Chain b;
  ExecutedBlock b1 = a.ProposeAndCommit(
      {Decoded(TransferBody("owner", "alice", 5, 0), "owner"),
       Decoded(GrantBody("sh-auth", "v", pb::ROLE_VERIFIER, "SH", 0), "sh-auth")});
  auto copy = b.ledger->Validate(b1.block.SerializeAsString(), b.verifier);
  REQUIRE_MESSAGE(copy.ok(), copy.status().ToString());
  CHECK(copy->tree.root == b1.tree.root);
  CHECK(copy->receipts_root == b1.receipts_root);
  REQUIRE(b.ledger->Commit(*copy, Certify(b1)).ok());
  CHECK(b.ledger->Tip().state_root() == a.ledger->Tip().state_root());
}

TEST_CASE("a block with a tampered header field, transaction or signature is refused") {
  Chain a;
  Chain b;
  ExecutedBlock b1 = a.ProposeAndCommit({Decoded(TransferBody("owner", "alice", 5, 0), "owner")});
  auto tamper_header = [&](auto mutate) {
    pb::Block blk = b1.block;
    pb::BlockHeader h = b1.header;
    mutate(h);
    blk.set_header(h.SerializeAsString());
    return b.ledger->Validate(blk.SerializeAsString(), b.verifier);
  };
  CHECK(tamper_header([](pb::BlockHeader& h) { h.set_height(2); })
            .status()
            .message()
            .find("height") != std::string::npos);
  CHECK(tamper_header([](pb::BlockHeader& h) { h.set_state_root(std::string(32, 'x')); })
            .status()
            .message()
            .find("state_root") != std::string::npos);
  CHECK(tamper_header([](pb::BlockHeader& h) { h.set_time_ms(UINT64_MAX); })
            .status()
            .message()
            .find("time_ms") != std::string::npos);
  CHECK(tamper_header([](pb::BlockHeader& h) { h.set_chain_id("x"); })
            .status()
            .message()
            .find("chain_id") != std::string::npos);
  CHECK(tamper_header([](pb::BlockHeader& h) { h.set_tx_root(std::string(32, 'x')); })
            .status()
            .message()
            .find("tx_root") != std::string::npos);

  pb::Block extra = b1.block;
  extra.add_txs(Signed(TransferBody("owner", "alice", 1, 1), "owner"));
  CHECK_FALSE(b.ledger->Validate(extra.SerializeAsString(), b.verifier).ok());

  pb::Block forged = b1.block;
  pb::TxEnvelope env;
  env.ParseFromString(forged.txs(0));
  std::string sig = env.signatures(0);
  sig[10] ^= 1;
  env.set_signatures(0, sig);
  forged.set_txs(0, env.SerializeAsString());
  auto r = b.ledger->Validate(forged.SerializeAsString(), b.verifier);
  CHECK(r.status().code() == StatusCode::kUnauthenticated);
  CHECK(b.ledger->Tip().height() == 0);
}

TEST_CASE("a commit certificate that does not match the block is refused and nothing is written") {
  Chain c;
  auto b = c.ledger->Propose({}, KeyOf("validator").Public(), nullptr);
  REQUIRE(b.ok());
  pb::Commit wrong = Certify(*b);
  wrong.set_block_hash(std::string(32, 'z'));
  CHECK_FALSE(c.ledger->Commit(*b, wrong).ok());
  CHECK(c.ledger->Tip().height() == 0);
}

TEST_CASE("a lone validator finishes a block it signed before a crash, and no other") {
  TempDir dir;
  Hash32 signed_hash{};
  {
    auto ledger = std::move(Ledger::Open(dir / "chain", TestGenesis()).value());
    auto guard = *SignGuard::Open(dir / "last_signed");
    auto block = ledger->Propose({Decoded(TransferBody("owner", "alice", 5, 0), "owner")},
                                 KeyOf("validator").Public(), nullptr);
    REQUIRE(block.ok());
    signed_hash = block->hash;
    pb::Vote v;
    v.set_chain_id(kChainId);
    v.set_type(pb::VOTE_PRECOMMIT);
    v.set_height(1);
    v.set_block_hash(ToString(block->hash));
    v.set_validator(RawAddr("validator"));
    REQUIRE(guard.Sign(v, kChainId, KeyOf("validator"), block->block.SerializeAsString()).ok());
    // "Crash": the commit never reaches the store.
  }
  auto ledger = std::move(Ledger::Open(dir / "chain", TestGenesis()).value());
  auto guard = *SignGuard::Open(dir / "last_signed");
  Mempool mempool({});
  VerifierPool verifier(1);
  DriverOptions options;
  options.clock_ms = [] { return uint64_t{99}; };
  ConsensusDriver driver(*ledger, mempool, verifier, &guard, KeyOf("validator"), {}, options);
  Status recovered = driver.Recover();
  REQUIRE_MESSAGE(recovered.ok(), recovered.ToString());
  CHECK(ledger->Tip().height() == 1);
  CHECK(ledger->Tip().block_hash() == ToString(signed_hash));
  // Recovery is done once: the next height is consensus's.
  REQUIRE(driver.Recover().ok());
  CHECK(ledger->Tip().height() == 1);
}

TEST_CASE("a sender's committed nonce is the store's, before and after each block") {
  Chain c;
  const PublicKey owner = KeyOf("owner").Public();
  const PublicKey alice = KeyOf("alice").Public();
  CHECK(c.ledger->CommittedNonce(owner) == 0);  // read from the store, now remembered
  CHECK(c.ledger->CommittedNonce(alice) == 0);
  c.ProposeAndCommit({Decoded(TransferBody("owner", "alice", 5, 0), "owner"),
                      Decoded(TransferBody("owner", "alice", 5, 1), "owner")});
  CHECK(c.ledger->CommittedNonce(owner) == 2);  // the block's change, not the remembered 0
  CHECK(c.ledger->CommittedNonce(alice) == 0);
  c.ProposeAndCommit({Decoded(TransferBody("alice", "owner", 1, 0), "alice")});
  CHECK(c.ledger->CommittedNonce(alice) == 1);
  CHECK(c.ledger->CommittedNonce(owner) == 2);
  // A ledger opened afresh on the same store reads the same.
  const std::string dir = c.dir / "chain";
  c.ledger.reset();
  auto reopened = Ledger::Open(dir, TestGenesis());
  REQUIRE(reopened.ok());
  CHECK((*reopened)->CommittedNonce(owner) == 2);
  CHECK((*reopened)->CommittedNonce(alice) == 1);
}

namespace {

// Holds the ledger's background writes until Release: the block committed last stays in flight.
struct WriteGate {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  std::vector<uint64_t> heights;  // of the writes that started

  ~WriteGate() { Release(); }  // a failed REQUIRE must not leave the ledger's writer waiting

  void Hold(Ledger& ledger) {
    ledger.SetBeforeWrite([this](uint64_t height) {
      std::unique_lock lock(mu);
      heights.push_back(height);
      cv.notify_all();
      cv.wait(lock, [this] { return open; });
    });
  }
  // The heights whose writes have started, once at least `n` have.
  std::vector<uint64_t> Started(size_t n) {
    std::unique_lock lock(mu);
    cv.wait_for(lock, std::chrono::seconds(10), [&] { return heights.size() >= n; });
    return heights;
  }
  void Release() {
    std::lock_guard lock(mu);
    open = true;
    cv.notify_all();
  }
};

}  // namespace

TEST_CASE("a block committed in the background is the head at once, and the next builds on it") {
  Chain piped;
  Chain synced;
  WriteGate gate;
  gate.Hold(*piped.ledger);
  std::vector<uint64_t> durable;
  piped.ledger->SetOnCommit([&](uint64_t height) { durable.push_back(height); });
  const PublicKey owner = KeyOf("owner").Public();
  const PublicKey alice = KeyOf("alice").Public();

  auto b1 = piped.ledger->Propose({Decoded(TransferBody("owner", "alice", 5, 0), "owner")},
                                  KeyOf("validator").Public(), nullptr);
  REQUIRE(b1.ok());
  auto first = std::make_shared<const ExecutedBlock>(std::move(*b1));
  REQUIRE(piped.ledger->CommitAsync(first, Certify(*first)).ok());
  // Block 1 is the head; the store (and all it serves) is still at genesis.
  CHECK(piped.ledger->Head().height() == 1);
  CHECK(piped.ledger->Tip().height() == 0);
  CHECK(piped.ledger->Head().state_root() == ToString(first->tree.root));
  CHECK(piped.ledger->CommittedNonce(owner) == 1);
  CHECK_FALSE(piped.ledger->store().GetBlock(1).has_value());

  // Block 2 spends what block 1 gave alice: its execution and its state root read block 1's
  // changes and tree nodes from memory.
  auto b2 = piped.ledger->Propose({Decoded(TransferBody("alice", "owner", 2, 0), "alice")},
                                  KeyOf("validator").Public(), nullptr);
  REQUIRE_MESSAGE(b2.ok(), b2.status().ToString());
  REQUIRE(b2->outcome.receipts.size() == 1);
  CHECK(b2->outcome.receipts[0].code() == pb::RECEIPT_OK);
  CHECK(b2->header.height() == 2);
  CHECK(b2->header.parent_hash() == ToString(first->hash));
  CHECK(b2->header.state_root() == ToString(first->tree.root));
  CHECK(gate.Started(1) == std::vector<uint64_t>{1});
  CHECK(durable.empty());

  gate.Release();
  auto second = std::make_shared<const ExecutedBlock>(std::move(*b2));
  REQUIRE(piped.ledger->CommitAsync(second, Certify(*second)).ok());
  REQUIRE(piped.ledger->WaitDurable().ok());
  CHECK(durable == std::vector<uint64_t>{1, 2});
  CHECK(piped.ledger->Tip().height() == 2);
  CHECK(piped.ledger->Tip().state_root() == ToString(second->tree.root));
  CHECK(piped.ledger->CommittedNonce(alice) == 1);

  // A node that committed the same blocks one at a time holds the same state.
  for (const auto& b : {first, second}) {
    auto copy = synced.ledger->Validate(b->block.SerializeAsString(), synced.verifier);
    REQUIRE_MESSAGE(copy.ok(), copy.status().ToString());
    CHECK(copy->tree.root == b->tree.root);
    CHECK(copy->receipts_root == b->receipts_root);
    REQUIRE(synced.ledger->Commit(*copy, Certify(*b)).ok());
  }
  // And the store, opened afresh, holds both blocks whole.
  const std::string dir = piped.dir / "chain";
  piped.ledger.reset();
  auto reopened = Ledger::Open(dir, TestGenesis());
  REQUIRE(reopened.ok());
  CHECK((*reopened)->Tip().state_root() == synced.ledger->Tip().state_root());
  CHECK((*reopened)->CommittedNonce(owner) == 1);
  CHECK((*reopened)->store().GetBlock(2) == second->block.SerializeAsString());
}

TEST_CASE("a block in flight is checked against the head, and a block for another height refused") {
  Chain piped;
  Chain other;
  WriteGate gate;
  gate.Hold(*piped.ledger);
  ExecutedBlock b1 =
      other.ProposeAndCommit({Decoded(TransferBody("owner", "alice", 5, 0), "owner")});
  ExecutedBlock b2 =
      other.ProposeAndCommit({Decoded(TransferBody("alice", "owner", 2, 0), "alice")});

  auto first = piped.ledger->Validate(b1.block.SerializeAsString(), piped.verifier);
  REQUIRE(first.ok());
  auto held = std::make_shared<const ExecutedBlock>(std::move(*first));
  REQUIRE(piped.ledger->CommitAsync(held, Certify(b1)).ok());
  // Another node's block 2 validates on top of block 1 while block 1 is being written.
  auto second = piped.ledger->Validate(b2.block.SerializeAsString(), piped.verifier);
  REQUIRE_MESSAGE(second.ok(), second.status().ToString());
  CHECK(second->tree.root == b2.tree.root);
  // Block 1 again is not the next height.
  auto again = piped.ledger->Validate(b1.block.SerializeAsString(), piped.verifier);
  CHECK(again.status().code() == StatusCode::kInvalidArgument);
  gate.Release();
  REQUIRE(piped.ledger
              ->CommitAsync(std::make_shared<const ExecutedBlock>(std::move(*second)), Certify(b2))
              .ok());
  REQUIRE(piped.ledger->WaitDurable().ok());
  CHECK(piped.ledger->Tip().state_root() == other.ledger->Tip().state_root());
}

TEST_CASE(
    "a background commit with a wrong certificate or for another height is refused and moves "
    "nothing") {
  Chain c;
  auto proposed = c.ledger->Propose({Decoded(TransferBody("owner", "alice", 5, 0), "owner")},
                                    KeyOf("validator").Public(), nullptr);
  REQUIRE(proposed.ok());
  auto block = std::make_shared<const ExecutedBlock>(std::move(*proposed));
  pb::Commit wrong = Certify(*block);
  wrong.set_block_hash(std::string(32, 'z'));
  CHECK_FALSE(c.ledger->CommitAsync(block, wrong).ok());
  CHECK(c.ledger->Head().height() == 0);
  CHECK(c.ledger->CommittedNonce(KeyOf("owner").Public()) == 0);

  REQUIRE(c.ledger->CommitAsync(block, Certify(*block)).ok());
  REQUIRE(c.ledger->WaitDurable().ok());
  // The same block again is not the next height: refused with the reason, and the head stays.
  Status again = c.ledger->CommitAsync(block, Certify(*block));
  CHECK(again.code() == StatusCode::kFailedPrecondition);
  CHECK(again.message().find("does not follow the tip 1") != std::string::npos);
  CHECK(c.ledger->Head().height() == 1);
  CHECK(c.ledger->Tip().state_root() == ToString(block->tree.root));
}
