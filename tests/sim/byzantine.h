// Messages of misbehaving validators for the simulator: the second half of an equivocation, and a
// catalogue of garbage. Each is built from what the misbehaving node's own engine knows (height,
// round, proposers), so that the garbage is close enough to real traffic to reach deep checks.
#pragma once

#include <cstdint>
#include <random>
#include <string>

#include "chain/keys.h"
#include "consensus/engine.h"
#include "puhui.pb.h"

namespace puhui::sim {

inline constexpr char kSimChainId[] = "puhui-sim";

// What the simulated network carries.
struct Message {
  enum class Kind { kProposal, kVote, kSync };
  Kind kind = Kind::kVote;
  std::string bytes;  // a SignedProposal, a SignedVote, or (sync) a Commit
  std::string block;  // sync only: the committed block
};

// Deterministic BIP340 signatures (fixed auxiliary randomness), for reproducible runs.
pb::SignedVote SignVoteFixed(const pb::Vote& vote, const PrivateKey& key);
pb::SignedProposal SignProposalFixed(const pb::Proposal& proposal, const PrivateKey& key);

// A block of the simulated chain, and its rule of validity.
std::string SimBlock(uint64_t height, uint32_t round, const std::string& proposer);
bool SimBlockValid(uint64_t height, const std::string& block, const Hash32& hash);

// A signer without refusal rules: what lets a Byzantine validator sign twice.
class RecklessSigner : public consensus::Signer {
 public:
  explicit RecklessSigner(PrivateKey key) : key_(key) {}
  Result<pb::SignedVote> SignVote(const pb::Vote& vote) override {
    return SignVoteFixed(vote, key_);
  }
  Result<pb::SignedProposal> SignProposal(const pb::Proposal& proposal) override {
    return SignProposalFixed(proposal, key_);
  }

 private:
  PrivateKey key_;
};

// The conflicting twin of a signed vote: the same slot, another block (`evil_hash` if the
// equivocator proposed one for this round, else nil for a block vote and a made-up block for nil).
pb::SignedVote ConflictingVote(const pb::SignedVote& vote, const std::string& evil_hash,
                               const PrivateKey& key);

// The conflicting twin of a signed proposal: the same round with another valid block.
pb::SignedProposal ConflictingProposal(const pb::SignedProposal& proposal, const std::string& name,
                                       const PrivateKey& key);

// One piece of garbage from validator `key` whose engine is `engine` (started). `victim` is an
// honest validator's key to impersonate.
Message Garbage(std::mt19937_64& rng, consensus::Engine& engine, const PrivateKey& key,
                const std::string& victim);

}  // namespace puhui::sim
