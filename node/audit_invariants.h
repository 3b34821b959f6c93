// The registry invariants an auditor checks on top of re-executing every block (DESIGN.md):
//   - for every batch, issued = held + locked + retired + cancelled, summed over the whole state
//     (re-execution already checks each block's changes, contracts/supply.h; this is the total);
//   - records that are final never change again: a retirement, offset or cancellation record
//     (retire/<id>), a behaviour record once counted (pc/rec/…, per provider, for ever), an
//     attestation batch and a redemption — so nothing retired or cancelled moves, and no behaviour
//     record is counted twice;
//   - pooled grams are counted once: in every pool bucket, consigned and issued grams never
//     decrease and issued ≤ consigned; network-wide, pooled issued ≤ consigned and points
//     redeemed ≤ points earned;
//   - at the end, the personal accounts add up to the network totals (credited grams, consigned
//     grams, points earned and redeemed), each account has consigned ≤ credited and redeemed ≤
//     earned, and the pool buckets add up to the totals' consigned and pooled-issued grams.
#pragma once

#include "chain/block_store.h"
#include "chain/status.h"
#include "contracts/state.h"

namespace puhui {

// Fails (naming the key) if `changes` alter or delete a final record that `before` holds.
Status CheckFinalRecordsUnchanged(const StateReader& before, const StateChanges& changes);

// Fails if `changes` let a pool bucket or the personal totals count a gram or a point twice.
Status CheckPooledGramsOnce(const StateReader& before, const StateChanges& changes);

// Sums the personal accounts and pool buckets of the store's latest state against the totals.
Status CheckPersonalTotals(const BlockStore& store);

// Sums every batch's holdings in the store's latest state and checks the batch totals.
Status CheckAllBatchesConserved(const BlockStore& store);

}  // namespace puhui
