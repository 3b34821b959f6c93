// The supply invariant, checked on every block's changes: for every batch a block touches,
//   Δissued = Σ Δbalances + Δlocked + Δretired + Δcancelled,
// and retired and cancelled totals never decrease. With the genesis state satisfying
// issued = held + locked + retired + cancelled, this keeps it true at every height. It reads only
// the keys the block changed, so it runs on every block, not only in debug builds; a violation is
// a bug of ours (kInternal), never a refused transaction.
#pragma once

#include "chain/block_store.h"
#include "chain/status.h"
#include "contracts/state.h"

namespace puhui {

Status CheckSupplyConserved(const StateReader& before, const StateChanges& changes);

}  // namespace puhui
