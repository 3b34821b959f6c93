// The votes of one type (prevote or precommit) in one round of one height, with the voting power
// behind each block hash. Votes reaching a VoteSet have been checked (signature, validator,
// height).
//
// A validator counts at most once per block, but an equivocating validator may count for two
// blocks: the paper counts messages per value, and safety does not depend on ignoring the second
// one (any two quorums share more than 1/3 of the power, hence an honest validator, who never votes
// twice). Ignoring it would cost liveness: a node that kept an equivocator's nil vote could never
// see the polka that other nodes saw and locked on. The "any votes" total counts each validator
// once.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "puhui.pb.h"

namespace puhui::consensus {

class VoteSet {
 public:
  struct Entry {
    pb::Vote vote;
    pb::SignedVote signed_vote;
    uint64_t power = 0;
  };

  enum class AddResult {
    kAdded,      // the validator's first vote here
    kConflict,   // added, but the validator already voted for another block here
    kDuplicate,  // the validator's vote for this block is already here; nothing changed
  };

  AddResult Add(const pb::Vote& vote, const pb::SignedVote& signed_vote, uint64_t power);

  // The vote of `validator` (its 32-byte key) for `block_hash` ("" for nil), or null.
  const Entry* Find(const std::string& validator, const std::string& block_hash) const;
  // The first vote held from `validator`, or null; and how many blocks it voted for here.
  const Entry* First(const std::string& validator) const;
  size_t CountOf(const std::string& validator) const;

  // Power of the validators with any vote in the set, each counted once.
  uint64_t total_power() const { return total_power_; }
  // Power behind one block hash; the empty string stands for nil.
  uint64_t PowerFor(const std::string& block_hash) const;
  // A block (never nil) with at least `power` behind it; for a quorum there is at most one.
  std::optional<std::string> BlockWithPower(uint64_t power) const;

  // Validator key -> block hash -> vote; ordered, so whatever is built from it is deterministic.
  using Entries = std::map<std::string, std::map<std::string, Entry>>;
  const Entries& entries() const { return entries_; }

 private:
  Entries entries_;
  std::map<std::string, std::string> first_;  // validator -> block of its first vote
  std::map<std::string, uint64_t> power_by_block_;
  uint64_t total_power_ = 0;
};

}  // namespace puhui::consensus
