#include "node/sign_guard.h"

#include <fmt/format.h>

#include <filesystem>
#include <tuple>

#include "chain/signing.h"
#include "consensus/signer.h"
#include "consensus/validator_set.h"
#include "node/files.h"

namespace puhui {

Result<SignGuard> SignGuard::Open(const std::string& path) {
  SignGuard guard;
  guard.path_ = path;
  if (std::filesystem::exists(path)) {
    auto raw = ReadFile(path);
    if (!raw.ok()) return raw.status();
    pb::LastSigned last;
    if (!last.ParseFromString(*raw)) {
      return Corruption(fmt::format("sign record '{}' does not parse; refusing to sign", path));
    }
    guard.last_ = last;
  }
  return guard;
}

namespace {

constexpr uint32_t kStepProposal = 1;
constexpr uint32_t kStepPrevote = 2;
constexpr uint32_t kStepPrecommit = 3;

uint32_t StepOf(pb::VoteType type) {
  return type == pb::VOTE_PRECOMMIT ? kStepPrecommit : kStepPrevote;
}

uint32_t StepOf(const pb::LastSigned& last) {
  return last.step() != 0 ? last.step() : StepOf(last.type());
}

const char* StepName(uint32_t step) {
  switch (step) {
    case kStepProposal: return "proposal";
    case kStepPrevote: return "prevote";
    case kStepPrecommit: return "precommit";
  }
  return "message";
}

}  // namespace

Result<std::string> SignGuard::Guard(uint64_t height, uint32_t round, uint32_t step,
                                     pb::VoteType type, const std::string& block_hash,
                                     const std::string& bytes, SignKind kind,
                                     const std::string& chain_id, const PrivateKey& key,
                                     const std::string& block) {
  if (last_) {
    auto prev = std::make_tuple(last_->height(), last_->round(), StepOf(*last_));
    auto next = std::make_tuple(height, round, step);
    if (next == prev) {
      if (last_->signed_bytes() == bytes) return last_->signature();
      return FailedPrecondition(
          fmt::format("refusing to sign a second, different {} at height {} round {}",
                      StepName(step), height, round));
    }
    if (next < prev) {
      return FailedPrecondition(fmt::format(
          "refusing to sign a {} at height {} round {}: already signed a {} at height {} round {}",
          StepName(step), height, round, StepName(StepOf(*last_)), last_->height(),
          last_->round()));
    }
  }
  Signature sig = key.Sign(SigningHash(chain_id, kind, AsBytes(bytes)));
  std::string sig_bytes(reinterpret_cast<const char*>(sig.data()), sig.size());
  pb::LastSigned record;
  record.set_height(height);
  record.set_round(round);
  record.set_type(type);
  record.set_step(step);
  record.set_block_hash(block_hash);
  record.set_signed_bytes(bytes);
  record.set_signature(sig_bytes);
  record.set_block(block);
  PUHUI_RETURN_IF_ERROR(WriteFileDurably(path_, record.SerializeAsString(), 0600));
  last_ = std::move(record);
  return sig_bytes;
}

Result<pb::SignedVote> SignGuard::Sign(const pb::Vote& vote, const std::string& chain_id,
                                       const PrivateKey& key, const std::string& block) {
  std::string bytes = EncodeVote(vote);
  auto sig = Guard(vote.height(), vote.round(), StepOf(vote.type()), vote.type(), vote.block_hash(),
                   bytes, SignKind::kVote, chain_id, key, block);
  if (!sig.ok()) return sig.status();
  pb::SignedVote sv;
  sv.set_vote(std::move(bytes));
  sv.set_signature(std::move(*sig));
  return sv;
}

Result<pb::SignedProposal> SignGuard::SignProposal(const pb::Proposal& proposal,
                                                   const std::string& chain_id,
                                                   const PrivateKey& key) {
  std::string bytes = consensus::EncodeProposal(proposal);
  auto sig = Guard(proposal.height(), proposal.round(), kStepProposal, pb::VOTE_UNSPECIFIED,
                   proposal.block_hash(), bytes, SignKind::kProposal, chain_id, key, {});
  if (!sig.ok()) return sig.status();
  pb::SignedProposal sp;
  sp.set_proposal(std::move(bytes));
  sp.set_signature(std::move(*sig));
  return sp;
}

Result<bool> SignGuard::Observe(pb::LastSigned seen) {
  if (last_) {
    auto prev = std::make_tuple(last_->height(), last_->round(), StepOf(*last_));
    auto next = std::make_tuple(seen.height(), seen.round(), StepOf(seen));
    if (next <= prev) return false;
  }
  PUHUI_RETURN_IF_ERROR(WriteFileDurably(path_, seen.SerializeAsString(), 0600));
  last_ = std::move(seen);
  return true;
}

Result<bool> SignGuard::ObserveVote(const pb::SignedVote& signed_vote) {
  pb::Vote vote;
  if (!vote.ParseFromString(signed_vote.vote())) return InvalidArgument("vote does not parse");
  pb::LastSigned seen;
  seen.set_height(vote.height());
  seen.set_round(vote.round());
  seen.set_type(vote.type());
  seen.set_step(StepOf(vote.type()));
  seen.set_block_hash(vote.block_hash());
  seen.set_signed_bytes(signed_vote.vote());
  seen.set_signature(signed_vote.signature());
  return Observe(std::move(seen));
}

Result<bool> SignGuard::ObserveProposal(const pb::SignedProposal& signed_proposal) {
  pb::Proposal proposal;
  if (!proposal.ParseFromString(signed_proposal.proposal())) {
    return InvalidArgument("proposal does not parse");
  }
  pb::LastSigned seen;
  seen.set_height(proposal.height());
  seen.set_round(proposal.round());
  seen.set_step(kStepProposal);
  seen.set_block_hash(proposal.block_hash());
  seen.set_signed_bytes(signed_proposal.proposal());
  seen.set_signature(signed_proposal.signature());
  return Observe(std::move(seen));
}

}  // namespace puhui
