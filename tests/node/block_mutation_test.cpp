// Ledger::Validate against mutated blocks: a real proposal with a last commit and a few
// transactions, edited at every level (raw bytes, header, transaction envelopes, certificate).
// Every mutant is refused with a reason, or it is the same block — same hash, same transactions,
// same resulting state — and the ledger's tip never moves.
#include <doctest/doctest.h>
#include <google/protobuf/stubs/logging.h>

#include "certify.h"
#include "chain/limits.h"
#include "chain/signing.h"
#include "consensus/validator_set.h"
#include "mutation.h"
#include "node/ledger.h"
#include "test_util.h"

using namespace puhui;
using namespace puhui::testing;

namespace {

constexpr uint64_t kSeed = 0x626c'6f63'6b6d'7574;  // "blockmut"

// Signed with fixed randomness, so the proposal's bytes are the same on every run.
DecodedTx Tx(const pb::TxBody& body, const std::string& signer) {
  auto tx = DecodeTx(kChainId, SignedDeterministically(body, signer));
  REQUIRE(tx.ok());
  return *tx;
}

// Block 1 committed; block 2 — three transactions and the certificate of block 1 — proposed on top
// of it and kept as bytes, exactly as a peer would receive it.
struct Fixture {
  TempDir dir;
  std::unique_ptr<Ledger> ledger = std::move(Ledger::Open(dir / "chain", TestGenesis()).value());
  VerifierPool verifier{2};
  ExecutedBlock proposal;
  std::string bytes;
  std::string tip;  // the serialised tip before any mutant is validated

  Fixture() {
    const PublicKey proposer = KeyOf("validator").Public();
    auto b1 = ledger->Propose(
        {Tx(GrantBody("sh-auth", "verifier", pb::ROLE_VERIFIER, "SH", 0), "sh-auth")}, proposer,
        nullptr);
    REQUIRE(b1.ok());
    REQUIRE(ledger->Commit(*b1, Certify(*b1)).ok());
    pb::TxBody memo = TransferBody("owner", "bob", 7, 1);
    memo.set_memo("second transfer");
    auto b2 =
        ledger->Propose({Tx(TransferBody("owner", "alice", 5, 0), "owner"), Tx(memo, "owner"),
                         Tx(GrantBody("js-auth", "alice", pb::ROLE_MERCHANT, "JS", 0), "js-auth")},
                        proposer, nullptr);
    REQUIRE(b2.ok());
    REQUIRE(b2->txs.size() == 3);
    proposal = std::move(*b2);
    bytes = proposal.block.SerializeAsString();
    tip = ledger->Tip().SerializeAsString();
  }

  std::string WithHeader(const std::string& header) const {
    pb::Block b = proposal.block;
    b.set_header(header);
    return b.SerializeAsString();
  }
  std::string WithTx(int index, const std::string& envelope) const {
    pb::Block b = proposal.block;
    b.set_txs(index, envelope);
    return b.SerializeAsString();
  }
  std::string WithCommit(const pb::Commit& commit) const {
    pb::Block b = proposal.block;
    *b.mutable_last_commit() = commit;
    return b.SerializeAsString();
  }

  // The property every mutant must keep. Returns true if the ledger accepted it.
  bool Check(const std::string& mutant) {
    auto r = ledger->Validate(mutant, verifier);
    CHECK(ledger->Tip().SerializeAsString() == tip);
    if (!r.ok()) {
      const StatusCode code = r.status().code();
      // Outside bytes are the sender's fault; never a fault of our own store or code.
      CHECK_MESSAGE((code == StatusCode::kInvalidArgument || code == StatusCode::kUnauthenticated ||
                     code == StatusCode::kFailedPrecondition),
                    r.status().ToString());
      CHECK_FALSE(r.status().message().empty());
      return false;
    }
    // The same transactions, and the state they lead to.
    REQUIRE(r->txs.size() == proposal.txs.size());
    for (size_t i = 0; i < r->txs.size(); ++i) CHECK(r->txs[i].id == proposal.txs[i].id);
    CHECK(r->tree.root == proposal.tree.root);
    CHECK(r->receipts_root == proposal.receipts_root);
    CHECK(r->hash == BlockHash(AsBytes(r->block.header())));
    if (r->hash != proposal.hash) {
      // Another hash is only acceptable for another block: the proposer chooses the time, so a
      // later time_ms makes a different valid proposal. Every other field, and the encoding, must
      // be ours.
      pb::BlockHeader same_time = r->header;
      same_time.set_time_ms(proposal.header.time_ms());
      CHECK_MESSAGE(same_time.SerializeAsString() == proposal.block.header(),
                    "a mutated header validated under a new hash: ", r->header.ShortDebugString());
      CHECK(r->header.SerializeAsString() == r->block.header());
    }
    return true;
  }
};

}  // namespace

TEST_CASE("the unmutated proposal validates to the block that was proposed") {
  Fixture f;
  auto r = f.ledger->Validate(f.bytes, f.verifier);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  CHECK(r->hash == f.proposal.hash);
  CHECK(f.Check(f.bytes));
}

TEST_CASE("every single-bit flip of a block is refused, or leaves the same block") {
  google::protobuf::LogSilencer quiet;
  Fixture f;
  for (size_t bit = 0; bit < f.bytes.size() * 8; ++bit) {
    INFO("bit ", bit);
    f.Check(FlipBit(f.bytes, bit));
  }
}

TEST_CASE("every truncation and every deleted byte of a block is refused with a reason") {
  google::protobuf::LogSilencer quiet;
  Fixture f;
  for (size_t len = 0; len < f.bytes.size(); ++len) {
    INFO("truncated to ", len, " bytes");
    CHECK_FALSE(f.Check(f.bytes.substr(0, len)));
  }
  for (size_t i = 0; i < f.bytes.size(); ++i) {
    INFO("byte ", i, " deleted");
    CHECK_FALSE(f.Check(DeleteByte(f.bytes, i)));
  }
}

TEST_CASE("random edits of a block are refused, or leave the same block") {
  google::protobuf::LogSilencer quiet;
  Fixture f;
  Mutator m(kSeed);
  for (int i = 0; i < 3000; ++i) {
    std::string mutant = m.Mutate(f.bytes);
    INFO("seed ", kSeed, " iteration ", i, " mutant ", Hex(AsBytes(mutant)));
    f.Check(mutant);
  }
}

TEST_CASE("a block header in any encoding but its own is refused, so a block has one hash") {
  google::protobuf::LogSilencer quiet;
  Fixture f;
  const std::string& header = f.proposal.block.header();
  for (const auto& [name, mutant] : WireMutations(header)) {
    INFO("header with ", name);
    CHECK_FALSE(f.Check(f.WithHeader(mutant)));
  }
  for (size_t bit = 0; bit < header.size() * 8; ++bit) {
    INFO("header bit ", bit);
    f.Check(f.WithHeader(FlipBit(header, bit)));
  }
  Mutator m(kSeed + 1);
  for (int i = 0; i < 2000; ++i) {
    std::string mutant = m.Mutate(header);
    INFO("seed ", kSeed + 1, " iteration ", i, " header ", Hex(AsBytes(mutant)));
    f.Check(f.WithHeader(mutant));
  }
}

TEST_CASE("a header naming a proposer outside the validator set is refused") {
  Fixture f;
  for (const std::string& proposer :
       {RawAddr("alice"), std::string(32, '\0'), std::string(), std::string("short")}) {
    pb::BlockHeader h = f.proposal.header;
    h.set_proposer(proposer);
    auto r = f.ledger->Validate(f.WithHeader(h.SerializeAsString()), f.verifier);
    CHECK(r.status().code() == StatusCode::kInvalidArgument);
    CHECK(r.status().message().find("proposer") != std::string::npos);
  }
}

TEST_CASE("a block with more transactions than the genesis allows is refused") {
  // The same chain but for max_block_txs: the same state, so only the limit can refuse the block.
  std::string text = TestGenesisJson();
  const size_t at = text.find("\"max_block_txs\": 5000");
  REQUIRE(at != std::string::npos);
  text.replace(at, 21, "\"max_block_txs\": 2");
  auto small = ParseGenesis(text);
  REQUIRE(small.ok());
  TempDir dir;
  auto ledger = std::move(Ledger::Open(dir / "chain", *small).value());
  VerifierPool verifier(1);

  TempDir other_dir;
  auto other = std::move(Ledger::Open(other_dir / "chain", TestGenesis()).value());
  auto block = other->Propose({Tx(TransferBody("owner", "alice", 5, 0), "owner"),
                               Tx(TransferBody("owner", "alice", 6, 1), "owner"),
                               Tx(TransferBody("owner", "alice", 7, 2), "owner")},
                              KeyOf("validator").Public(), nullptr);
  REQUIRE(block.ok());
  REQUIRE(block->txs.size() == 3);
  auto r = ledger->Validate(block->block.SerializeAsString(), verifier);
  CHECK(r.status().code() == StatusCode::kInvalidArgument);
  CHECK(r.status().message().find("the limit is 2") != std::string::npos);
  CHECK(ledger->Tip().height() == 0);
}

TEST_CASE("edited transactions inside a block are refused, or are the same transactions") {
  google::protobuf::LogSilencer quiet;
  Fixture f;
  Mutator m(kSeed + 2);
  for (int t = 0; t < f.proposal.block.txs_size(); ++t) {
    const std::string& env = f.proposal.block.txs(t);
    for (const auto& [name, mutant] : WireMutations(env)) {
      INFO("transaction ", t, " with ", name);
      f.Check(f.WithTx(t, mutant));
    }
    for (int i = 0; i < 500; ++i) {
      std::string mutant = m.Mutate(env);
      INFO("seed ", kSeed + 2, " transaction ", t, " iteration ", i, " envelope ",
           Hex(AsBytes(mutant)));
      f.Check(f.WithTx(t, mutant));
    }
  }
  // Transactions dropped, repeated or reordered break the header's tx_root, tx_count or nonces.
  pb::Block b = f.proposal.block;
  b.mutable_txs()->SwapElements(0, 2);
  CHECK_FALSE(f.Check(b.SerializeAsString()));
  b = f.proposal.block;
  b.add_txs(b.txs(0));
  CHECK_FALSE(f.Check(b.SerializeAsString()));
  b = f.proposal.block;
  b.mutable_txs()->RemoveLast();
  CHECK_FALSE(f.Check(b.SerializeAsString()));
}

TEST_CASE("an edited certificate of the previous block is refused") {
  google::protobuf::LogSilencer quiet;
  Fixture f;
  const pb::Commit& original = f.proposal.block.last_commit();
  pb::Commit repeated = original;
  *repeated.add_precommits() = original.precommits(0);
  CHECK_FALSE(f.Check(f.WithCommit(repeated)));
  pb::Commit empty = original;
  empty.clear_precommits();
  CHECK_FALSE(f.Check(f.WithCommit(empty)));
  Mutator m(kSeed + 3);
  const std::string vote = original.precommits(0).vote();
  const std::string signature = original.precommits(0).signature();
  for (int i = 0; i < 1000; ++i) {
    pb::Commit c = original;
    if (i % 2 == 0) {
      c.mutable_precommits(0)->set_vote(m.Mutate(vote));
    } else {
      c.mutable_precommits(0)->set_signature(m.Mutate(signature));
    }
    INFO("seed ", kSeed + 3, " iteration ", i, " commit ", c.ShortDebugString());
    if (c.SerializeAsString() != original.SerializeAsString())
      CHECK_FALSE(f.Check(f.WithCommit(c)));
  }
}

TEST_CASE("framing attacks, random bytes and oversized blocks are refused without a crash") {
  google::protobuf::LogSilencer quiet;
  Fixture f;
  for (const auto& [name, mutant] : WireMutations(f.bytes)) {
    INFO("block with ", name);
    f.Check(mutant);
  }
  Mutator m(kSeed + 4);
  for (int i = 0; i < 2000; ++i) {
    std::string bytes = m.RandomBytes(i % 10 == 0 ? 4096 : 512);
    INFO("seed ", kSeed + 4, " iteration ", i, " bytes ", Hex(AsBytes(bytes)));
    CHECK_FALSE(f.Check(bytes));
  }
  std::string oversized = f.bytes + LengthDelimited(15, std::string(kMaxBlockBytes, 'x'));
  auto r = f.ledger->Validate(oversized, f.verifier);
  CHECK(r.status().code() == StatusCode::kInvalidArgument);
  CHECK(r.status().message().find("kMaxBlockBytes") != std::string::npos);
  CHECK(f.ledger->Tip().SerializeAsString() == f.tip);
}
