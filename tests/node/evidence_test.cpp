// Evidence of double signing: what counts as proof, and that a block records it once.
#include "node/evidence.h"

#include <doctest/doctest.h>

#include "certify.h"
#include "node/ledger.h"
#include "test_util.h"

using namespace puhui;
using namespace puhui::testing;

namespace {

pb::Vote VoteFor(char block, uint64_t height = 1, uint32_t round = 0,
                 pb::VoteType type = pb::VOTE_PREVOTE, const std::string& who = "validator") {
  pb::Vote v;
  v.set_chain_id(kChainId);
  v.set_type(type);
  v.set_height(height);
  v.set_round(round);
  v.set_block_hash(std::string(32, block));
  v.set_validator(RawAddr(who));
  return v;
}

pb::DuplicateVoteEvidence Pair(const pb::Vote& a, const pb::Vote& b,
                               const std::string& signer = "validator") {
  pb::DuplicateVoteEvidence e;
  *e.mutable_first() = SignVote(a, kChainId, KeyOf(signer));
  *e.mutable_second() = SignVote(b, kChainId, KeyOf(signer));
  return e;
}

ValidatorSet Validators() { return *ValidatorSet::FromProto(TestGenesis().validators); }

}  // namespace

TEST_CASE("two signed votes of one validator for different blocks in one slot are evidence") {
  Bytes key;
  REQUIRE(CheckEvidence(kChainId, Validators(), Pair(VoteFor('a'), VoteFor('b')), 2, &key).ok());
  CHECK(key == EvidenceKey(VoteFor('a')));
  // Prevote and precommit slots are apart, and so are rounds.
  CHECK(EvidenceKey(VoteFor('a')) != EvidenceKey(VoteFor('a', 1, 0, pb::VOTE_PRECOMMIT)));
  CHECK(EvidenceKey(VoteFor('a')) != EvidenceKey(VoteFor('a', 1, 1)));
}

TEST_CASE("anything short of proof is refused as evidence, with the reason") {
  const ValidatorSet set = Validators();
  auto refused = [&](const pb::DuplicateVoteEvidence& e, uint64_t next, const char* words) {
    Status s = CheckEvidence(kChainId, set, e, next, nullptr);
    CHECK(s.code() == StatusCode::kInvalidArgument);
    CHECK_MESSAGE(s.message().find(words) != std::string::npos, s.message());
  };
  refused(Pair(VoteFor('a'), VoteFor('a')), 2, "same block");
  refused(Pair(VoteFor('a'), VoteFor('b', 1, 1)), 2, "differ");
  refused(Pair(VoteFor('a'), VoteFor('b', 1, 0, pb::VOTE_PRECOMMIT)), 2, "differ");
  refused(Pair(VoteFor('a', 5), VoteFor('b', 5)), 5, "not below");
  refused(Pair(VoteFor('a', 1, 0, pb::VOTE_PREVOTE, "alice"),
               VoteFor('b', 1, 0, pb::VOTE_PREVOTE, "alice"), "alice"),
          2, "not a validator");
  refused(Pair(VoteFor('a', 1), VoteFor('b', 1)), 1 + kMaxEvidenceAgeBlocks + 1, "old");
  pb::DuplicateVoteEvidence forged = Pair(VoteFor('a'), VoteFor('b'));
  std::string sig = forged.second().signature();
  sig[3] ^= 1;
  forged.mutable_second()->set_signature(sig);
  refused(forged, 2, "signature");
  pb::Vote other_chain = VoteFor('b');
  other_chain.set_chain_id("another-chain");
  refused(Pair(VoteFor('a'), other_chain), 2, "another chain");
  pb::DuplicateVoteEvidence garbage;
  garbage.mutable_first()->set_vote("\xff\xff");
  refused(garbage, 2, "parse");
}

TEST_CASE("a block records evidence once, in state, and a block repeating it is refused") {
  TempDir dir;
  auto ledger = std::move(Ledger::Open(dir / "chain", TestGenesis()).value());
  VerifierPool verifier(1);
  const PublicKey proposer = KeyOf("validator").Public();
  auto b1 = ledger->Propose({}, proposer, nullptr);
  REQUIRE(b1.ok());
  REQUIRE(ledger->Commit(*b1, Certify(*b1)).ok());

  const pb::DuplicateVoteEvidence e = Pair(VoteFor('a'), VoteFor('b'));
  // Invalid evidence is left out of a proposal; valid evidence goes in, once.
  pb::DuplicateVoteEvidence same = Pair(VoteFor('a'), VoteFor('a'));
  auto b2 = ledger->Propose({}, proposer, nullptr, {same, e, e});
  REQUIRE(b2.ok());
  REQUIRE(b2->block.evidence_size() == 1);
  CHECK(!b2->header.evidence_hash().empty());
  // A second node checks it the same way.
  auto checked = ledger->Validate(b2->block.SerializeAsString(), verifier);
  REQUIRE_MESSAGE(checked.ok(), checked.status().ToString());
  CHECK(checked->hash == b2->hash);
  REQUIRE(ledger->Commit(*b2, Certify(*b2)).ok());
  const Bytes key = EvidenceKey(VoteFor('a'));
  CHECK(ledger->EvidenceCommitted(key));
  auto stored = ledger->store().GetState(key);
  REQUIRE(stored.ok());
  REQUIRE(stored->has_value());

  // Not proposed again...
  auto b3 = ledger->Propose({}, proposer, nullptr, {e});
  REQUIRE(b3.ok());
  CHECK(b3->block.evidence_size() == 0);
  CHECK(b3->header.evidence_hash().empty());
  // ...and a proposer that repeats it, with a matching header, is refused.
  pb::Block repeat = b3->block;
  *repeat.add_evidence() = e;
  pb::BlockHeader header = b3->header;
  header.set_evidence_hash(ToString(EvidenceRoot(repeat.evidence())));
  repeat.set_header(header.SerializeAsString());
  auto r = ledger->Validate(repeat.SerializeAsString(), verifier);
  CHECK(r.status().code() == StatusCode::kInvalidArgument);
  CHECK(r.status().message().find("already recorded") != std::string::npos);
  // Evidence the header does not commit to is refused too.
  pb::Block unlisted = b3->block;
  *unlisted.add_evidence() = Pair(VoteFor('c', 2), VoteFor('d', 2));
  auto u = ledger->Validate(unlisted.SerializeAsString(), verifier);
  CHECK(u.status().message().find("evidence_hash") != std::string::npos);
}
