#include "consensus/vote_set.h"

namespace puhui::consensus {

VoteSet::AddResult VoteSet::Add(const pb::Vote& vote, const pb::SignedVote& signed_vote,
                                uint64_t power) {
  auto it = by_validator_.find(vote.validator());
  if (it != by_validator_.end()) {
    return it->second.vote.block_hash() == vote.block_hash() ? AddResult::kDuplicate
                                                             : AddResult::kConflict;
  }
  by_validator_.emplace(vote.validator(), Entry{vote, signed_vote, power});
  power_by_block_[vote.block_hash()] += power;
  total_power_ += power;
  return AddResult::kAdded;
}

const VoteSet::Entry* VoteSet::Find(const std::string& validator) const {
  auto it = by_validator_.find(validator);
  return it == by_validator_.end() ? nullptr : &it->second;
}

uint64_t VoteSet::PowerFor(const std::string& block_hash) const {
  auto it = power_by_block_.find(block_hash);
  return it == power_by_block_.end() ? 0 : it->second;
}

std::optional<std::string> VoteSet::BlockWithPower(uint64_t power) const {
  for (const auto& [block, p] : power_by_block_) {
    if (!block.empty() && p >= power) return block;
  }
  return std::nullopt;
}

}  // namespace puhui::consensus
