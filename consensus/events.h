// What goes into the consensus engine (events) and what comes out (actions). The engine is a pure
// state machine: the node turns network messages, timer expiries and block checks into events, and
// carries out the actions (send, start a timer, check a block, store a commit). Nothing here
// touches a socket, a clock or the disk; the time a vote carries arrives as a value with every
// event.
#pragma once

#include <cstdint>
#include <string>
#include <variant>

#include "chain/bytes.h"
#include "chain/status.h"
#include "consensus/validator_set.h"
#include "puhui.pb.h"

namespace puhui::consensus {

// The steps of one round of Tendermint: wait for a proposal, then prevote, then precommit.
enum class RoundStep { kPropose, kPrevote, kPrecommit };

const char* RoundStepName(RoundStep step);

// ---------------------------------------------------------------- events

// Begin agreeing on `height` among `validators`. The first event; afterwards sent once per height,
// after the node has stored the previous height's block. `last_block_time_ms` is the agreed time of
// block height-1 (0 before the first block); the votes of this height carry later times.
struct Start {
  uint64_t height = 0;
  ValidatorSet validators;
  uint64_t last_block_time_ms = 0;
};

// A proposal or a vote from the network, as received (not yet checked).
struct ProposalReceived {
  pb::SignedProposal proposal;
};
struct VoteReceived {
  pb::SignedVote vote;
};

// A timer set by a ScheduleTimeout action has expired.
struct TimeoutFired {
  uint64_t height = 0;
  uint32_t round = 0;
  RoundStep step = RoundStep::kPropose;
};

// The node's verdict on a block the engine asked about with ValidateBlock.
struct BlockValidated {
  Hash32 block_hash{};
  bool valid = false;
};

// The block the node built when asked by RequestProposalValue.
struct ValueReady {
  uint64_t height = 0;
  uint32_t round = 0;
  std::string block;
};

// A block and its commit certificate from block sync, for a node that missed the votes.
struct CommitReceived {
  std::string block;
  pb::Commit commit;
};

using EventBody = std::variant<Start, ProposalReceived, VoteReceived, TimeoutFired, BlockValidated,
                               ValueReady, CommitReceived>;

struct Event {
  uint64_t now_ms = 0;  // the node's clock when the event happened; only stamped into votes
  EventBody body;
};

// ---------------------------------------------------------------- actions

// Send to every peer.
struct BroadcastProposal {
  pb::SignedProposal proposal;
};
struct BroadcastVote {
  pb::SignedVote vote;
};

// This validator proposes at (height, round) and has no earlier value to re-propose: build a block
// and answer with ValueReady.
struct RequestProposalValue {
  uint64_t height = 0;
  uint32_t round = 0;
};

// Check a proposed block and answer with BlockValidated. The node must call a block invalid unless
// it parses, hashes to `block_hash` and applies on top of the previous block.
struct ValidateBlock {
  uint64_t height = 0;
  Hash32 block_hash{};
  std::string block;
};

// Deliver TimeoutFired{height, round, step} after `duration_ms`.
struct ScheduleTimeout {
  uint64_t height = 0;
  uint32_t round = 0;
  RoundStep step = RoundStep::kPropose;
  uint64_t duration_ms = 0;
};

// `block` is final at `height`: store it with `commit`, then send Start for height + 1. `time_ms`
// is the weighted median of the certificate's precommit times (consensus/block_time.h).
struct CommitBlock {
  uint64_t height = 0;
  uint32_t round = 0;
  Hash32 block_hash{};
  std::string block;
  pb::Commit commit;
  uint64_t time_ms = 0;
};

// A validator signed two votes for one height, round and type with different blocks.
struct Evidence {
  pb::SignedVote first;
  pb::SignedVote second;
};

// An input was not used. `peer_fault` says the message is provably bad (malformed, forged, from a
// non-validator or the wrong proposer): score the peer that sent it. Otherwise it was merely late,
// early or a copy, which honest peers send too.
struct InputDropped {
  Status reason;
  bool peer_fault = false;
};

// The Signer refused or failed; the engine carries on without that message. A refusal is expected
// after a restart; an I/O error is the node's cue to stop cleanly.
struct SignFailed {
  Status status;
};

using Action = std::variant<BroadcastProposal, BroadcastVote, RequestProposalValue, ValidateBlock,
                            ScheduleTimeout, CommitBlock, Evidence, InputDropped, SignFailed>;

}  // namespace puhui::consensus
