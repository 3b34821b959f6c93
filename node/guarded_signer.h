// The consensus engine's Signer for a validator node: every vote and proposal goes through the
// SignGuard, so nothing is signed before it is persisted and nothing conflicting is ever signed.
#pragma once

#include <functional>
#include <string>

#include "consensus/signer.h"
#include "node/sign_guard.h"

namespace puhui {

class GuardedSigner : public consensus::Signer {
 public:
  // Returns the serialised block a precommit vouches for, or "" if unknown. Kept with the sign
  // record, so that a network this validator commits alone can finish that block after a crash.
  using BlockLookup = std::function<std::string(const std::string& block_hash)>;

  GuardedSigner(SignGuard& guard, PrivateKey key, std::string chain_id, BlockLookup block_of = {})
      : guard_(guard), key_(key), chain_id_(std::move(chain_id)), block_of_(std::move(block_of)) {}

  Result<pb::SignedVote> SignVote(const pb::Vote& vote) override {
    std::string block;
    if (vote.type() == pb::VOTE_PRECOMMIT && block_of_) block = block_of_(vote.block_hash());
    return guard_.Sign(vote, chain_id_, key_, block);
  }
  Result<pb::SignedProposal> SignProposal(const pb::Proposal& proposal) override {
    return guard_.SignProposal(proposal, chain_id_, key_);
  }

 private:
  SignGuard& guard_;
  PrivateKey key_;
  std::string chain_id_;
  BlockLookup block_of_;
};

}  // namespace puhui
