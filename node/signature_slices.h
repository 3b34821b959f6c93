// Signature checks in slices, asking of each transaction, right before its check, whether it still
// needs one. Two callers: a batch offered to the mempool (Node::Admit), which asks whether the
// mempool has come to hold the transaction or a block has used its nonce (under load a proposal's
// check often verifies and keeps, ConsensusDriver::KeepChecked, or a block commits, transactions
// whose relayed copies wait in a long batch); and a proposed block's check (Ledger::Validate),
// which asks whether the mempool has come to hold the very envelope, and hands each slice's
// verified transactions on as soon as they are checked.
#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <vector>

#include "contracts/tx.h"
#include "node/verifier_pool.h"

namespace puhui {

enum class SliceCheck { kGood, kBad, kHeldMeanwhile, kUsedMeanwhile };

struct SliceChecks {
  static constexpr size_t kDefaultSlice = 256;

  size_t slice = kDefaultSlice;
  TxPredicate held;  // the mempool holds it now
  TxPredicate used;  // its nonce is below the sender's committed one
  // Checks a slice, asking `needed` of each transaction right before its check
  // (VerifierPool::Verify with `needed`): one outcome per transaction.
  std::function<std::vector<SignatureCheck>(std::span<const DecodedTx* const>,
                                            const TxPredicate& needed)>
      verify;
};

// One outcome per transaction.
std::vector<SliceCheck> CheckInSlices(std::span<const DecodedTx* const> txs,
                                      const SliceChecks& how);

}  // namespace puhui
