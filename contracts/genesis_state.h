// The state at height 0, built from the genesis document: regions, role grants, seeded credit
// batches.
#pragma once

#include "chain/block_store.h"
#include "chain/genesis.h"
#include "chain/status.h"

namespace puhui {

// The rules of the genesis document that belong to the contracts: each genesis methodology's
// formula is valid (contracts/formula.h) and its parameters within limits. Call before
// GenesisState.
Status ValidateGenesisRegistry(const GenesisDoc& genesis);

StateChanges GenesisState(const GenesisDoc& genesis);

}  // namespace puhui
