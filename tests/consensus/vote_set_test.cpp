#include "consensus/vote_set.h"

#include <doctest/doctest.h>

#include "engine_harness.h"

using namespace puhui;
using namespace puhui::testing;
using namespace puhui::consensus;

namespace {

void Add(VoteSet& set, const std::string& who, const std::optional<Hash32>& block, uint64_t power,
         VoteSet::AddResult expected) {
  pb::SignedVote sv = MakeVote(who, pb::VOTE_PREVOTE, 1, 0, block);
  pb::Vote v;
  v.ParseFromString(sv.vote());
  CHECK(set.Add(v, sv, power) == expected);
}

}  // namespace

TEST_CASE("a vote set adds up power per block and counts each validator once in its total") {
  VoteSet set;
  const std::string a = ToString(ByteView(HashOf("A")));
  Add(set, "v1", HashOf("A"), 10, VoteSet::AddResult::kAdded);
  Add(set, "v2", HashOf("A"), 20, VoteSet::AddResult::kAdded);
  Add(set, "v3", std::nullopt, 30, VoteSet::AddResult::kAdded);
  Add(set, "v2", HashOf("A"), 20, VoteSet::AddResult::kDuplicate);
  CHECK(set.PowerFor(a) == 30);
  CHECK(set.PowerFor("") == 30);
  CHECK(set.total_power() == 60);
  CHECK(set.BlockWithPower(30) == a);
  CHECK_FALSE(set.BlockWithPower(31).has_value());
  CHECK_FALSE(set.BlockWithPower(1) == std::string());  // nil is never "a block"
}

TEST_CASE("an equivocator's second vote counts for its own block but not twice in the total") {
  VoteSet set;
  const std::string a = ToString(ByteView(HashOf("A")));
  Add(set, "v1", HashOf("A"), 10, VoteSet::AddResult::kAdded);
  Add(set, "v1", std::nullopt, 10, VoteSet::AddResult::kConflict);
  CHECK(set.PowerFor(a) == 10);
  CHECK(set.PowerFor("") == 10);
  CHECK(set.total_power() == 10);
  CHECK(set.CountOf(RawAddr("v1")) == 2);
  REQUIRE(set.First(RawAddr("v1")) != nullptr);
  CHECK(set.First(RawAddr("v1"))->vote.block_hash() == a);
  CHECK(set.Find(RawAddr("v1"), "") != nullptr);
  CHECK(set.Find(RawAddr("v2"), a) == nullptr);
}
