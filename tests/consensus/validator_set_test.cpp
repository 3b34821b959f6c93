#include "consensus/validator_set.h"

#include <doctest/doctest.h>

#include "test_util.h"

using namespace puhui;
using namespace puhui::testing;

namespace {

ValidatorSet FourValidators() {
  std::vector<std::string> names = {"v1", "v2", "v3", "v4"};
  std::sort(names.begin(), names.end(),
            [](const auto& a, const auto& b) { return RawAddr(a) < RawAddr(b); });
  pb::ValidatorSet set;
  for (const auto& n : names) {
    auto* v = set.add_validators();
    v->set_pub_key(RawAddr(n));
    v->set_power(10);
  }
  return *ValidatorSet::FromProto(set);
}

pb::SignedVote Precommit(const std::string& who, uint64_t height, const Hash32& block,
                         uint32_t round = 0) {
  pb::Vote v;
  v.set_chain_id(kChainId);
  v.set_type(pb::VOTE_PRECOMMIT);
  v.set_height(height);
  v.set_round(round);
  v.set_block_hash(ToString(block));
  v.set_validator(RawAddr(who));
  return SignVote(v, kChainId, KeyOf(who));
}

pb::Commit CommitOf(std::initializer_list<const char*> who, uint64_t height, const Hash32& block) {
  pb::Commit c;
  c.set_height(height);
  c.set_block_hash(ToString(block));
  for (const char* w : who) *c.add_precommits() = Precommit(w, height, block);
  return c;
}

}  // namespace

TEST_CASE("a commit needs precommits of more than two thirds of the power") {
  ValidatorSet set = FourValidators();
  Hash32 block = Sha256("block");
  CHECK(set.QuorumPower() == 27);
  CHECK(VerifyCommit(kChainId, set, 5, block, CommitOf({"v1", "v2", "v3"}, 5, block)).ok());
  CHECK(VerifyCommit(kChainId, set, 5, block, CommitOf({"v1", "v2", "v3", "v4"}, 5, block)).ok());
  Status two = VerifyCommit(kChainId, set, 5, block, CommitOf({"v1", "v2"}, 5, block));
  CHECK(two.code() == StatusCode::kUnauthenticated);
  CHECK(two.message().find("power 20 of 40") != std::string::npos);
}

TEST_CASE("a commit with a repeated, foreign, forged or mismatched vote is refused") {
  ValidatorSet set = FourValidators();
  Hash32 block = Sha256("block");
  CHECK_FALSE(
      VerifyCommit(kChainId, set, 5, block, CommitOf({"v1", "v1", "v2", "v3"}, 5, block)).ok());
  CHECK_FALSE(
      VerifyCommit(kChainId, set, 5, block, CommitOf({"v1", "v2", "mallory"}, 5, block)).ok());
  pb::Commit forged = CommitOf({"v1", "v2", "v3"}, 5, block);
  std::string sig = forged.precommits(0).signature();
  sig[0] ^= 1;
  forged.mutable_precommits(0)->set_signature(sig);
  CHECK(VerifyCommit(kChainId, set, 5, block, forged).code() == StatusCode::kUnauthenticated);
  pb::Commit other_block = CommitOf({"v1", "v2", "v3"}, 5, block);
  *other_block.mutable_precommits(2) = Precommit("v3", 5, Sha256("other"));
  CHECK_FALSE(VerifyCommit(kChainId, set, 5, block, other_block).ok());
  CHECK_FALSE(VerifyCommit(kChainId, set, 6, block, CommitOf({"v1", "v2", "v3"}, 5, block)).ok());
  CHECK_FALSE(
      VerifyCommit("other-chain", set, 5, block, CommitOf({"v1", "v2", "v3"}, 5, block)).ok());
}

TEST_CASE("a validator set must be sorted, unique and have power") {
  pb::ValidatorSet set;
  CHECK_FALSE(ValidatorSet::FromProto(set).ok());
  auto* a = set.add_validators();
  a->set_pub_key(std::string(32, '\2'));
  a->set_power(1);
  auto* b = set.add_validators();
  b->set_pub_key(std::string(32, '\1'));
  b->set_power(1);
  CHECK_FALSE(ValidatorSet::FromProto(set).ok());
  b->set_pub_key(std::string(32, '\3'));
  CHECK(ValidatorSet::FromProto(set).ok());
  b->set_power(0);
  CHECK_FALSE(ValidatorSet::FromProto(set).ok());
}
