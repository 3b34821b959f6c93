// The state at height 0, built from the genesis document: regions, role grants, seeded credit
// batches.
#pragma once

#include "chain/block_store.h"
#include "chain/genesis.h"

namespace puhui {

StateChanges GenesisState(const GenesisDoc& genesis);

}  // namespace puhui
