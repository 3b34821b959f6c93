#include "consensus/proposer.h"

#include <doctest/doctest.h>

#include <map>

#include "engine_harness.h"

using namespace puhui;
using namespace puhui::testing;
using namespace puhui::consensus;

namespace {

std::map<size_t, uint64_t> Count(const std::vector<size_t>& sequence) {
  std::map<size_t, uint64_t> counts;
  for (size_t i : sequence) ++counts[i];
  return counts;
}

}  // namespace

TEST_CASE("each validator proposes in proportion to its power, in every window of one period") {
  ValidatorSet set = MakeSet({{"a", 1}, {"b", 2}, {"c", 3}, {"d", 4}});
  ProposerSchedule schedule(set, 0);
  CHECK(schedule.period() == 10);
  auto sequence = ProposerSequence(set, 0, 1000);
  auto counts = Count(sequence);
  for (int i = 0; i < set.proto().validators_size(); ++i) {
    CHECK(counts[static_cast<size_t>(i)] == 100 * set.proto().validators(i).power());
  }
  for (size_t start : {1u, 3u, 7u, 123u}) {
    auto window =
        Count(std::vector<size_t>(sequence.begin() + start, sequence.begin() + start + 10));
    for (int i = 0; i < set.proto().validators_size(); ++i) {
      CHECK(window[static_cast<size_t>(i)] == set.proto().validators(i).power());
    }
  }
}

TEST_CASE("equal powers take turns in key order") {
  ValidatorSet set = MakeSet({{"a", 5}, {"b", 5}, {"c", 5}});
  CHECK(ProposerSequence(set, 0, 7) == std::vector<size_t>{0, 1, 2, 0, 1, 2, 0});
}

TEST_CASE("the proposer of a height and round does not depend on where a node started") {
  ValidatorSet set = MakeSet({{"a", 7}, {"b", 3}, {"c", 11}, {"d", 1}, {"e", 2}});
  const auto reference = ProposerSequence(set, 0, 200);
  ProposerSchedule moving(set, 1);
  for (uint64_t height = 1; height < 120; ++height) {
    ProposerSchedule fresh(set, height);
    moving.MoveTo(height);
    for (uint32_t round = 0; round < 5; ++round) {
      CHECK(fresh.ProposerIndex(round) == reference[height + round]);
      CHECK(moving.ProposerIndex(round) == reference[height + round]);
    }
  }
  // Scaling every power by a common factor changes nothing.
  ValidatorSet scaled = MakeSet({{"a", 70}, {"b", 30}, {"c", 110}, {"d", 10}, {"e", 20}});
  CHECK(ProposerSequence(scaled, 0, 200) == reference);
}

TEST_CASE("a schedule far into the chain is reached in bounded work and stays weighted") {
  // The period here is 10^12 + 2 selections, so a node starting at height 5,000,000 steps from zero
  // (5 million selections); validators of power 1 first propose about 3.3 * 10^11 selections in.
  ValidatorSet set = MakeSet({{"whale", 1'000'000'000'000}, {"a", 1}, {"b", 1}});
  size_t whale = 0;
  while (set.proto().validators(static_cast<int>(whale)).name() != "whale") ++whale;
  ProposerSchedule schedule(set, 5'000'000);
  for (uint32_t round = 0; round < 10; ++round) CHECK(schedule.ProposerIndex(round) == whale);
  auto counts = Count(ProposerSequence(set, 0, 3000));
  CHECK(counts[whale] == 3000);
}
