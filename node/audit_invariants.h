// The registry invariants an auditor checks on top of re-executing every block (DESIGN.md):
//   - for every batch, issued = held + locked + retired + cancelled, summed over the whole state
//     (re-execution already checks each block's changes, contracts/supply.h; this is the total);
//   - records that are final never change again: a retirement, offset or cancellation record
//     (retire/<id>), so nothing retired or cancelled moves or is counted twice.
#pragma once

#include "chain/block_store.h"
#include "chain/status.h"
#include "contracts/state.h"

namespace puhui {

// Fails (naming the key) if `changes` alter or delete a final record that `before` holds.
Status CheckFinalRecordsUnchanged(const StateReader& before, const StateChanges& changes);

// Sums every batch's holdings in the store's latest state and checks the batch totals.
Status CheckAllBatchesConserved(const BlockStore& store);

}  // namespace puhui
