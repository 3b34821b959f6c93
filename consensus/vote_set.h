// The votes of one type (prevote or precommit) in one round of one height, with the voting power
// behind each block hash. A validator counts once: the first vote seen from it is kept, and a later
// one for another block is a conflict the caller turns into evidence, never a second count. Votes
// reaching a VoteSet have been checked (signature, validator, height) by the engine.
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
    kAdded,
    kDuplicate,  // this validator's vote for the same block is already here
    kConflict,   // this validator already voted for another block
  };

  AddResult Add(const pb::Vote& vote, const pb::SignedVote& signed_vote, uint64_t power);

  // The vote kept for `validator` (its 32-byte key), or null.
  const Entry* Find(const std::string& validator) const;

  // Power of every vote in the set, whatever it is for.
  uint64_t total_power() const { return total_power_; }
  // Power behind one block hash; the empty string stands for nil.
  uint64_t PowerFor(const std::string& block_hash) const;
  // A block (never nil) with at least `power` behind it; for a quorum there is at most one.
  std::optional<std::string> BlockWithPower(uint64_t power) const;

  // Ordered by validator key, so anything built from it (a commit certificate) is deterministic.
  const std::map<std::string, Entry>& entries() const { return by_validator_; }

 private:
  std::map<std::string, Entry> by_validator_;
  std::map<std::string, uint64_t> power_by_block_;
  uint64_t total_power_ = 0;
};

}  // namespace puhui::consensus
