// The native state machine's one entry point for a block (in the manner of CometBFT's ApplyBlock):
// previous state and the block's transactions in, state changes and receipts out. Deterministic:
// no clock, no randomness, no floating point, no unordered iteration; time arrives in the context.
//
// A transaction is *includable* when its signature verified (done before, see contracts/tx.h), its
// nonce is the sender's next nonce and the height is within its expiry. A block holding a
// transaction that is not includable is invalid as a whole. An includable transaction always
// commits: its nonce is consumed, and its receipt says whether the action succeeded or which
// business rule refused it — in which case nothing but the nonce changed.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "chain/block_store.h"
#include "contracts/state.h"
#include "contracts/tx.h"
#include "puhui.pb.h"

namespace puhui {

struct BlockContext {
  std::string chain_id;
  uint64_t height = 0;
  uint64_t time_ms = 0;
};

// Applies one transaction into `state`. An error Status means "not includable" (wrong nonce,
// expired) or a fault of our own (corrupt state), and leaves `state` unchanged.
Result<pb::Receipt> ApplyTx(StateOverlay& state, const BlockContext& ctx, const DecodedTx& tx,
                            uint32_t index);

struct BlockOutcome {
  StateChanges changes;
  std::vector<pb::Receipt> receipts;
};

// Applies a whole block on top of `base`, then the end-of-block rules (a validator set pending for
// the next height becomes current). Fails if any transaction is not includable.
Result<BlockOutcome> ApplyBlock(const StateReader& base, const BlockContext& ctx,
                                std::span<const DecodedTx> txs);

// Merkle root over the serialised receipts, committed in the next block's header.
Hash32 ReceiptsRoot(std::span<const std::string> serialised);
Hash32 ReceiptsRoot(std::span<const pb::Receipt> receipts);

}  // namespace puhui
