// Evidence of double signing: two votes of one validator for one height, round and type but
// different blocks, both signed. The consensus engine reports it (consensus::Evidence); the node
// relays it to its peers, and a proposer puts it in the next block, where every validator checks
// it before voting and the state records it once under evid/<validator><height><round><type>
// (anyone can look it up, and it is never committed twice).
#pragma once

#include <cstdint>
#include <string>

#include "chain/bytes.h"
#include "chain/status.h"
#include "consensus/validator_set.h"
#include "puhui.pb.h"

namespace puhui {

// A block carries at most this much evidence.
inline constexpr size_t kMaxEvidencePerBlock = 16;
// Evidence about a vote more than this many blocks below the block that carries it is refused:
// old enough that nobody needs it, and the validator set that judged it may have changed.
inline constexpr uint64_t kMaxEvidenceAgeBlocks = 100'000;

inline constexpr char kEvidencePrefix[] = "evid/";

// The state key of a piece of evidence: evid/ + validator (32) + height (8, big-endian) + round
// (4) + vote type (1), so that one misbehaviour is recorded once whichever vote pair proves it.
Bytes EvidenceKey(const pb::Vote& vote);

// Checks that `evidence` proves double signing by a validator of `validators` on chain
// `chain_id`, for a vote below `next_height` and not older than kMaxEvidenceAgeBlocks. On success
// `key_out` is its state key. kInvalidArgument names what is wrong.
Status CheckEvidence(const std::string& chain_id, const ValidatorSet& validators,
                     const pb::DuplicateVoteEvidence& evidence, uint64_t next_height,
                     Bytes* key_out);

// The Merkle root of a block's evidence, for BlockHeader.evidence_hash.
Hash32 EvidenceRoot(const google::protobuf::RepeatedPtrField<pb::DuplicateVoteEvidence>& all);

}  // namespace puhui
