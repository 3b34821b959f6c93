// Signature checks in slices, asking between slices what no longer needs a check. Two callers:
// a batch offered to the mempool (Node::Admit), where before each slice but the first it asks
// again whether the mempool has come to hold a transaction or a block has used its nonce (under
// load a proposal's check often verifies and keeps, ConsensusDriver::KeepChecked, or a block
// commits, transactions whose relayed copies wait in a long batch); and a proposed block's check
// (Ledger::Validate), which asks whether the mempool has come to hold the very envelope, and
// hands each slice's verified transactions on as soon as they are checked.
#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <vector>

#include "contracts/tx.h"

namespace puhui {

enum class SliceCheck { kGood, kBad, kHeldMeanwhile, kUsedMeanwhile };

struct SliceChecks {
  static constexpr size_t kDefaultSlice = 256;

  size_t slice = kDefaultSlice;
  std::function<bool(const DecodedTx&)> held;  // the mempool holds it now
  std::function<bool(const DecodedTx&)> used;  // its nonce is below the sender's committed one
  // One flag per transaction, true where the signature verifies (VerifierPool::Verify).
  std::function<std::vector<bool>(std::span<const DecodedTx* const>)> verify;
};

// One outcome per transaction; the first slice is checked without asking.
std::vector<SliceCheck> CheckInSlices(std::span<const DecodedTx* const> txs,
                                      const SliceChecks& how);

}  // namespace puhui
