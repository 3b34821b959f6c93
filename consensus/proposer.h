// Who proposes in each round: CometBFT-style proposer-priority accumulation (a smooth weighted
// round-robin), in integers only.
//
// Every validator's priority starts at 0. One selection adds each validator's power to its
// priority, picks the highest priority (on a tie, the validator first in key order) and takes the
// total power off the winner. Within any `total power` consecutive selections each validator is
// picked exactly `power` times and every priority is back at 0, so the sequence is periodic; powers
// are first divided by their greatest common divisor, which shortens the period without changing
// the sequence.
//
// The proposer of (height, round) is selection number height + round. It is a pure function of the
// set and the two numbers, so nodes that start at different heights agree, and each failed round
// hands the turn on just as a new height does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "consensus/validator_set.h"

namespace puhui::consensus {

class ProposerSchedule {
 public:
  // Costs O(min(height, period) * validators) selections to reach `height`.
  ProposerSchedule(const ValidatorSet& set, uint64_t height);

  // Moves to another height of the same set, stepping on from the current one when it is later.
  void MoveTo(uint64_t height);
  uint64_t height() const { return height_; }

  // Index in set.proto().validators() of the proposer of `round` at the current height.
  size_t ProposerIndex(uint32_t round);

  // Number of selections after which the sequence repeats.
  uint64_t period() const { return static_cast<uint64_t>(total_); }

 private:
  size_t Select(std::vector<int64_t>& priorities) const;

  std::vector<int64_t> weights_;          // powers divided by their gcd
  int64_t total_ = 0;                     // sum of weights_: the period
  std::vector<int64_t> base_priorities_;  // after `base_index_` selections
  uint64_t base_index_ = 0;               // height % period
  uint64_t height_ = 0;
  std::vector<int64_t> cursor_;   // after base_index_ + by_round_.size() selections
  std::vector<size_t> by_round_;  // proposers of rounds 0.. at this height
};

// The proposers of `count` selections from number `first` on (for tests and tools).
std::vector<size_t> ProposerSequence(const ValidatorSet& set, uint64_t first, size_t count);

}  // namespace puhui::consensus
