#include "consensus/vote_set.h"

namespace puhui::consensus {

VoteSet::AddResult VoteSet::Add(const pb::Vote& vote, const pb::SignedVote& signed_vote,
                                uint64_t power) {
  auto& by_block = entries_[vote.validator()];
  const bool first = by_block.empty();
  if (!by_block.try_emplace(vote.block_hash(), Entry{vote, signed_vote, power}).second) {
    return AddResult::kDuplicate;
  }
  power_by_block_[vote.block_hash()] += power;
  if (!first) return AddResult::kConflict;
  first_[vote.validator()] = vote.block_hash();
  total_power_ += power;
  return AddResult::kAdded;
}

const VoteSet::Entry* VoteSet::Find(const std::string& validator,
                                    const std::string& block_hash) const {
  auto v = entries_.find(validator);
  if (v == entries_.end()) return nullptr;
  auto b = v->second.find(block_hash);
  return b == v->second.end() ? nullptr : &b->second;
}

const VoteSet::Entry* VoteSet::First(const std::string& validator) const {
  auto it = first_.find(validator);
  return it == first_.end() ? nullptr : Find(validator, it->second);
}

size_t VoteSet::CountOf(const std::string& validator) const {
  auto it = entries_.find(validator);
  return it == entries_.end() ? 0 : it->second.size();
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
