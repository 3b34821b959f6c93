// The consensus engine's Signer for a validator node: every vote and proposal goes through the
// SignGuard, so nothing is signed before it is persisted and nothing conflicting is ever signed.
#pragma once

#include <string>

#include "consensus/signer.h"
#include "node/sign_guard.h"

namespace puhui {

class GuardedSigner : public consensus::Signer {
 public:
  GuardedSigner(SignGuard& guard, PrivateKey key, std::string chain_id)
      : guard_(guard), key_(key), chain_id_(std::move(chain_id)) {}

  Result<pb::SignedVote> SignVote(const pb::Vote& vote) override {
    return guard_.Sign(vote, chain_id_, key_);
  }
  Result<pb::SignedProposal> SignProposal(const pb::Proposal& proposal) override {
    return guard_.SignProposal(proposal, chain_id_, key_);
  }

 private:
  SignGuard& guard_;
  PrivateKey key_;
  std::string chain_id_;
};

}  // namespace puhui
