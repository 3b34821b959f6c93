#include "node/sign_guard.h"

#include <doctest/doctest.h>

#include "consensus/signer.h"
#include "node/guarded_signer.h"
#include "test_util.h"

using namespace puhui;
using namespace puhui::testing;

namespace {
pb::Vote Precommit(uint64_t height, uint32_t round, char block) {
  pb::Vote v;
  v.set_chain_id(kChainId);
  v.set_type(pb::VOTE_PRECOMMIT);
  v.set_height(height);
  v.set_round(round);
  v.set_block_hash(std::string(32, block));
  v.set_validator(RawAddr("validator"));
  return v;
}
}  // namespace

TEST_CASE(
    "a validator never signs two different votes for one height and round, even after a restart") {
  TempDir dir;
  PrivateKey key = KeyOf("validator");
  {
    auto guard = SignGuard::Open(dir / "last_signed");
    REQUIRE(guard.ok());
    CHECK(guard->Sign(Precommit(5, 0, 'a'), kChainId, key, "block-a").ok());
    auto conflict = guard->Sign(Precommit(5, 0, 'b'), kChainId, key);
    CHECK(conflict.status().code() == StatusCode::kFailedPrecondition);
  }
  auto reopened = SignGuard::Open(dir / "last_signed");
  REQUIRE(reopened.ok());
  REQUIRE(reopened->last().has_value());
  CHECK(reopened->last()->height() == 5);
  CHECK(reopened->last()->block() == "block-a");
  CHECK_FALSE(reopened->Sign(Precommit(5, 0, 'b'), kChainId, key).ok());
  CHECK_FALSE(reopened->Sign(Precommit(4, 7, 'a'), kChainId, key).ok());
}

TEST_CASE("re-signing the same vote returns the same signature") {
  TempDir dir;
  auto guard = SignGuard::Open(dir / "last_signed");
  REQUIRE(guard.ok());
  auto a = guard->Sign(Precommit(3, 1, 'a'), kChainId, KeyOf("validator"));
  auto b = guard->Sign(Precommit(3, 1, 'a'), kChainId, KeyOf("validator"));
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->signature() == b->signature());
}

TEST_CASE("later rounds and heights may be signed") {
  TempDir dir;
  auto guard = SignGuard::Open(dir / "last_signed");
  REQUIRE(guard.ok());
  CHECK(guard->Sign(Precommit(3, 0, 'a'), kChainId, KeyOf("validator")).ok());
  CHECK(guard->Sign(Precommit(3, 1, 'b'), kChainId, KeyOf("validator")).ok());
  CHECK(guard->Sign(Precommit(4, 0, 'c'), kChainId, KeyOf("validator")).ok());
}

TEST_CASE("a corrupt sign record stops signing rather than risking a double sign") {
  TempDir dir;
  {
    FILE* f = std::fopen((dir / "last_signed").c_str(), "wb");
    std::fputs("\xff\xff\xff garbage", f);
    std::fclose(f);
  }
  auto guard = SignGuard::Open(dir / "last_signed");
  CHECK(guard.status().code() == StatusCode::kCorruption);
}

namespace {
pb::Proposal MakeProposal(uint64_t height, uint32_t round, char block) {
  pb::Proposal p;
  p.set_chain_id(kChainId);
  p.set_height(height);
  p.set_round(round);
  p.set_pol_round(-1);
  p.set_block_hash(std::string(32, block));
  p.set_block(std::string("block ") + block);
  p.set_proposer(RawAddr("validator"));
  return p;
}
pb::Vote Prevote(uint64_t height, uint32_t round, char block) {
  pb::Vote v = Precommit(height, round, block);
  v.set_type(pb::VOTE_PREVOTE);
  return v;
}
}  // namespace

TEST_CASE("a proposer never signs two different proposals for one height and round") {
  TempDir dir;
  PrivateKey key = KeyOf("validator");
  {
    auto guard = SignGuard::Open(dir / "last_signed");
    REQUIRE(guard.ok());
    auto first = guard->SignProposal(MakeProposal(7, 0, 'a'), kChainId, key);
    REQUIRE(first.ok());
    auto again = guard->SignProposal(MakeProposal(7, 0, 'a'), kChainId, key);
    REQUIRE(again.ok());
    CHECK(again->signature() == first->signature());
    auto other = guard->SignProposal(MakeProposal(7, 0, 'b'), kChainId, key);
    CHECK(other.status().code() == StatusCode::kFailedPrecondition);
    CHECK(other.status().message().find("second, different proposal") != std::string::npos);
  }
  auto reopened = SignGuard::Open(dir / "last_signed");
  REQUIRE(reopened.ok());
  CHECK_FALSE(reopened->SignProposal(MakeProposal(7, 0, 'b'), kChainId, key).ok());
}

TEST_CASE(
    "within a round a validator signs its proposal, then its prevote, then its precommit, never "
    "back") {
  TempDir dir;
  PrivateKey key = KeyOf("validator");
  auto guard = SignGuard::Open(dir / "last_signed");
  REQUIRE(guard.ok());
  CHECK(guard->SignProposal(MakeProposal(3, 1, 'a'), kChainId, key).ok());
  CHECK(guard->Sign(Prevote(3, 1, 'a'), kChainId, key).ok());
  auto late = guard->SignProposal(MakeProposal(3, 1, 'a'), kChainId, key);
  CHECK(late.status().code() == StatusCode::kFailedPrecondition);
  CHECK(late.status().message().find("already signed a prevote") != std::string::npos);
  CHECK(guard->Sign(Precommit(3, 1, 'a'), kChainId, key).ok());
  CHECK_FALSE(guard->Sign(Prevote(3, 1, 'a'), kChainId, key).ok());
  CHECK(guard->SignProposal(MakeProposal(3, 2, 'b'), kChainId, key).ok());
}

TEST_CASE("the consensus signer of a node routes through the guard and its signatures verify") {
  TempDir dir;
  auto guard = SignGuard::Open(dir / "last_signed");
  REQUIRE(guard.ok());
  GuardedSigner signer(*guard, KeyOf("validator"), kChainId);
  auto proposal = signer.SignProposal(MakeProposal(9, 0, 'a'));
  REQUIRE(proposal.ok());
  CHECK(consensus::VerifyProposalSignature(kChainId, *proposal, RawAddr("validator")));
  auto vote = signer.SignVote(Prevote(9, 0, 'a'));
  REQUIRE(vote.ok());
  CHECK(consensus::VerifyVoteSignature(kChainId, *vote, RawAddr("validator")));
  CHECK_FALSE(signer.SignVote(Prevote(9, 0, 'b')).ok());
  REQUIRE(guard->last().has_value());
  CHECK(guard->last()->height() == 9);
}

TEST_CASE(
    "the node's signer waits at its barrier before every signature, and signs nothing if it "
    "fails") {
  TempDir dir;
  auto guard = SignGuard::Open(dir / "last_signed");
  REQUIRE(guard.ok());
  int waits = 0;
  Status durable = Status::Ok();
  GuardedSigner signer(*guard, KeyOf("validator"), kChainId, [&] {
    ++waits;
    return durable;
  });
  REQUIRE(signer.SignProposal(MakeProposal(9, 0, 'a')).ok());
  REQUIRE(signer.SignVote(Prevote(9, 0, 'a')).ok());
  CHECK(waits == 2);
  // The block under height 10 could not be written: nothing of height 10 is signed or recorded.
  durable = IoError("disk full");
  auto proposal = signer.SignProposal(MakeProposal(10, 0, 'b'));
  CHECK(proposal.status().code() == StatusCode::kIoError);
  auto vote = signer.SignVote(Prevote(10, 0, 'b'));
  CHECK(vote.status().code() == StatusCode::kIoError);
  CHECK(waits == 4);
  REQUIRE(guard->last().has_value());
  CHECK(guard->last()->height() == 9);
}
