// The consensus engine's Signer for a validator node: every vote and proposal goes through the
// SignGuard, so nothing is signed before it is persisted and nothing conflicting is ever signed.
// A barrier runs before each signature: the node waits there until the block committed last is
// durable (Ledger::WaitDurable), so nothing signed for a height leaves before the block under it
// is on disk, and the sign record never runs ahead of the store by more than the height at work.
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

  // Runs before every signature; an error is returned instead of signing.
  using Barrier = std::function<Status()>;

  GuardedSigner(SignGuard& guard, PrivateKey key, std::string chain_id, Barrier before_sign = {},
                BlockLookup block_of = {})
      : guard_(guard),
        key_(key),
        chain_id_(std::move(chain_id)),
        before_sign_(std::move(before_sign)),
        block_of_(std::move(block_of)) {}

  Result<pb::SignedVote> SignVote(const pb::Vote& vote) override {
    if (before_sign_) PUHUI_RETURN_IF_ERROR(before_sign_());
    std::string block;
    if (vote.type() == pb::VOTE_PRECOMMIT && block_of_) block = block_of_(vote.block_hash());
    return guard_.Sign(vote, chain_id_, key_, block);
  }
  Result<pb::SignedProposal> SignProposal(const pb::Proposal& proposal) override {
    if (before_sign_) PUHUI_RETURN_IF_ERROR(before_sign_());
    return guard_.SignProposal(proposal, chain_id_, key_);
  }

 private:
  SignGuard& guard_;
  PrivateKey key_;
  std::string chain_id_;
  Barrier before_sign_;
  BlockLookup block_of_;
};

}  // namespace puhui
