// Validator-set changes in state. Governance decides a new set at some height h; it takes effect
// kValidatorChangeDelay blocks later, so every node knows well in advance which keys will sign
// which block, and the block that makes the decision is still signed by the old set.
//
//   vset/current            the set that signs the next block (genesis writes it)
//   vset/previous           the set before the last change
//   vset/changed_at         the first height signed by vset/current (8-byte big-endian)
//   vset/pending/<h>        a set that becomes current at height h (8-byte big-endian h)
//   vset/history/<h>        the set that became current at height h, kept for ever: the list of
//                           every change, which proofs carry to a light client (node/proofs.h)
//
// At the end of block h, a set pending for h+1 becomes current. Headers carry the hash of the set
// that signs them (validators_hash), so a node following the chain always knows which set must
// have signed each certificate.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "chain/bytes.h"
#include "chain/status.h"
#include "contracts/state.h"
#include "puhui.pb.h"

namespace puhui {

inline constexpr uint64_t kValidatorChangeDelay = 4;
inline constexpr int kMaxValidators = 100;

namespace state_keys {
Bytes ValidatorsCurrent();
Bytes ValidatorsPrevious();
Bytes ValidatorsChangedAt();
Bytes ValidatorsPending(uint64_t height);
Bytes ValidatorsHistory(uint64_t height);
inline constexpr std::string_view kValidatorsHistoryPrefix = "vset/history/";
}  // namespace state_keys

// A set a chain can run on: 1..kMaxValidators validators sorted by 32-byte key without
// duplicates, each with power 1..2^40 and a node key that is empty or 32 bytes.
Status CheckValidatorSet(const pb::ValidatorSet& set);

// Records `next` to become the set at height `decided_at + kValidatorChangeDelay`, replacing any
// set pending for that height. Returns that height.
Result<uint64_t> ScheduleValidatorChange(StateOverlay& state, uint64_t decided_at,
                                         const pb::ValidatorSet& next);

// The set that `change` would make, decided at height `decided_at`: applied to the latest set
// already pending (a change decided in the last kValidatorChangeDelay blocks) or else the current
// one. kInvalidArgument if the validator to remove is not in it, or the result is no valid set
// (CheckValidatorSet, and node keys unique).
Result<pb::ValidatorSet> NextValidatorSet(const StateReader& state, uint64_t decided_at,
                                          const pb::ChangeValidator& change);

// End of block `height`: a set pending for height + 1 becomes current.
Status ApplyValidatorChanges(StateOverlay& state, uint64_t height);

// The sets that sign blocks `tip` and `tip + 1`, from state after block `tip`; nullopt where the
// state has no set (a chain started before sets were kept in state: the genesis set holds).
struct ValidatorSets {
  std::optional<pb::ValidatorSet> at_tip;
  std::optional<pb::ValidatorSet> next;
};
Result<ValidatorSets> ReadValidatorSets(const StateReader& state, uint64_t tip);

}  // namespace puhui
