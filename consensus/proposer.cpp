#include "consensus/proposer.h"

#include <numeric>

namespace puhui::consensus {

ProposerSchedule::ProposerSchedule(const ValidatorSet& set, uint64_t height) {
  uint64_t divisor = 0;
  for (const auto& v : set.proto().validators()) divisor = std::gcd(divisor, v.power());
  PUHUI_CHECK(divisor > 0, "a validator set has power");
  for (const auto& v : set.proto().validators()) {
    // ValidatorSet caps the total below 2^62, so weights and their sum fit in int64_t.
    weights_.push_back(static_cast<int64_t>(v.power() / divisor));
    total_ += weights_.back();
  }
  base_priorities_.assign(weights_.size(), 0);
  MoveTo(height);
}

void ProposerSchedule::MoveTo(uint64_t height) {
  const uint64_t target = height % period();
  if (target < base_index_) {  // wrapped around: index 0 is the all-zero state again
    base_priorities_.assign(weights_.size(), 0);
    base_index_ = 0;
  }
  while (base_index_ < target) {
    Select(base_priorities_);
    ++base_index_;
  }
  height_ = height;
  cursor_ = base_priorities_;
  by_round_.clear();
}

size_t ProposerSchedule::ProposerIndex(uint32_t round) {
  while (by_round_.size() <= round) by_round_.push_back(Select(cursor_));
  return by_round_[round];
}

size_t ProposerSchedule::Select(std::vector<int64_t>& priorities) const {
  size_t best = 0;
  for (size_t i = 0; i < priorities.size(); ++i) {
    // Priorities stay within (-total, total], so adding a weight cannot overflow; check anyway.
    PUHUI_CHECK(!__builtin_add_overflow(priorities[i], weights_[i], &priorities[i]),
                "proposer priority overflow");
    if (priorities[i] > priorities[best]) best = i;
  }
  priorities[best] -= total_;
  return best;
}

std::vector<size_t> ProposerSequence(const ValidatorSet& set, uint64_t first, size_t count) {
  ProposerSchedule schedule(set, first);
  std::vector<size_t> out;
  out.reserve(count);
  for (size_t i = 0; i < count; ++i)
    out.push_back(schedule.ProposerIndex(static_cast<uint32_t>(i)));
  return out;
}

}  // namespace puhui::consensus
