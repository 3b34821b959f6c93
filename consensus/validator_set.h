// The validators that sign blocks, their voting power, and the check that a commit certificate
// carries precommits of more than 2/3 of that power for one block. Pure: no I/O, no clock.
#pragma once

#include <optional>
#include <string>

#include "chain/bytes.h"
#include "chain/keys.h"
#include "chain/status.h"
#include "puhui.pb.h"

namespace puhui {

class ValidatorSet {
 public:
  // The set must be non-empty, sorted by key, without duplicates, with powers > 0.
  static Result<ValidatorSet> FromProto(const pb::ValidatorSet& set);

  const pb::ValidatorSet& proto() const { return set_; }
  uint64_t total_power() const { return total_power_; }
  // Hash of the serialised set, carried in every header.
  const Hash32& hash() const { return hash_; }
  // Power of a key, or nullopt if the key is not a validator.
  std::optional<uint64_t> PowerOf(const Hash32& key) const;
  // Power needed for a commit: more than 2/3 of the total.
  uint64_t QuorumPower() const { return total_power_ * 2 / 3 + 1; }
  // More than 1/3 of the total: with less than 1/3 faulty, such power includes an honest validator.
  uint64_t OneThirdPlusPower() const { return total_power_ / 3 + 1; }

 private:
  pb::ValidatorSet set_;
  uint64_t total_power_ = 0;
  Hash32 hash_{};
};

// Hash of a commit certificate as carried in the next header's last_commit_hash.
Hash32 CommitHash(const pb::Commit& commit);

// Serialised precommit (or prevote) bytes, as a validator signs them.
std::string EncodeVote(const pb::Vote& vote);
pb::SignedVote SignVote(const pb::Vote& vote, const std::string& chain_id, const PrivateKey& key);

// Checks that `commit` certifies block `block_hash` at `height` under `validators`: every vote is a
// well-formed precommit of this chain for that block, height and round, signed by a distinct
// validator, and their power exceeds 2/3 of the total.
Status VerifyCommit(const std::string& chain_id, const ValidatorSet& validators, uint64_t height,
                    const Hash32& block_hash, const pb::Commit& commit);

}  // namespace puhui
