#include "consensus/block_time.h"

#include <algorithm>
#include <string>
#include <tuple>
#include <vector>

namespace puhui::consensus {

uint64_t WeightedMedianTimeMs(const pb::Commit& commit, const ValidatorSet& validators) {
  struct Stamp {
    uint64_t time_ms;
    std::string validator;
    uint64_t power;
  };
  std::vector<Stamp> stamps;
  uint64_t total = 0;
  for (const auto& sv : commit.precommits()) {
    pb::Vote vote;
    if (!vote.ParseFromString(sv.vote())) continue;
    auto key = ToHash32(AsBytes(vote.validator()));
    if (!key) continue;
    auto power = validators.PowerOf(*key);
    if (!power) continue;
    stamps.push_back({vote.time_ms(), vote.validator(), *power});
    total += *power;  // at most the set's total, below 2^62
  }
  std::sort(stamps.begin(), stamps.end(), [](const Stamp& a, const Stamp& b) {
    return std::tie(a.time_ms, a.validator) < std::tie(b.time_ms, b.validator);
  });
  uint64_t so_far = 0;
  for (const Stamp& s : stamps) {
    so_far += s.power;
    if (so_far * 2 > total) return s.time_ms;
  }
  return 0;
}

}  // namespace puhui::consensus
