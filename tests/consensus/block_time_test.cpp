#include "consensus/block_time.h"

#include <doctest/doctest.h>

#include "engine_harness.h"

using namespace puhui;
using namespace puhui::testing;
using namespace puhui::consensus;

namespace {

pb::Commit CommitWithTimes(const std::vector<std::pair<std::string, uint64_t>>& times) {
  pb::Commit c;
  c.set_height(1);
  c.set_block_hash(ToString(ByteView(HashOf("A"))));
  for (const auto& [who, time_ms] : times) {
    *c.add_precommits() = MakeVote(who, pb::VOTE_PRECOMMIT, 1, 0, HashOf("A"), time_ms);
  }
  return c;
}

}  // namespace

TEST_CASE("block time is the power-weighted median of the precommit times") {
  ValidatorSet set = MakeSet({{"a", 10}, {"b", 20}, {"c", 30}, {"d", 40}});
  // Sorted: a 100 (10), c 200 (40), b 300 (60 > 50 of 100).
  CHECK(WeightedMedianTimeMs(CommitWithTimes({{"a", 100}, {"b", 300}, {"c", 200}, {"d", 400}}),
                             set) == 300);
  // d alone holds 40 of this certificate's 70: more than half.
  CHECK(WeightedMedianTimeMs(CommitWithTimes({{"c", 200}, {"d", 900}}), set) == 900);
  // Sorted: c 200 (30), b 300 (50 > 45 of 90).
  CHECK(WeightedMedianTimeMs(CommitWithTimes({{"b", 300}, {"c", 200}, {"d", 900}}), set) == 300);
  CHECK(WeightedMedianTimeMs(pb::Commit(), set) == 0);
}

TEST_CASE("one faulty validator cannot drag block time outside the honest clocks") {
  ValidatorSet set = MakeSet({{"a", 10}, {"b", 10}, {"c", 10}, {"d", 10}});
  for (uint64_t faulty : {uint64_t{0}, uint64_t{1'000'000'000'000'000}}) {
    uint64_t t =
        WeightedMedianTimeMs(CommitWithTimes({{"a", 1000}, {"b", 1010}, {"d", faulty}}), set);
    CHECK(t >= 1000);
    CHECK(t <= 1010);
    t = WeightedMedianTimeMs(
        CommitWithTimes({{"a", 1000}, {"b", 1010}, {"c", 1020}, {"d", faulty}}), set);
    CHECK(t >= 1000);
    CHECK(t <= 1020);
  }
}
