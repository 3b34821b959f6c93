#include "contracts/executor.h"

#include <fmt/format.h>

#include "chain/merkle.h"
#include "contracts/action.h"
#include "contracts/state_keys.h"
#include "contracts/supply.h"
#include "contracts/validator_changes.h"

namespace puhui {

namespace {

Result<ActionOutcome> ApplyAction(StateOverlay& state, const TxContext& ctx) {
  const pb::TxBody& body = *ctx.tx.body;
  switch (body.action_case()) {
    case pb::TxBody::kGrantRole: return ApplyGrantRole(state, ctx, body.grant_role());
    case pb::TxBody::kRevokeRole: return ApplyRevokeRole(state, ctx, body.revoke_role());
    case pb::TxBody::kTransfer: return ApplyTransfer(state, ctx, body.transfer());
    case pb::TxBody::kFileMethodology:
      return ApplyFileMethodology(state, ctx, body.file_methodology());
    case pb::TxBody::kReviewMethodology:
      return ApplyReviewMethodology(state, ctx, body.review_methodology());
    case pb::TxBody::kDeprecateMethodology:
      return ApplyDeprecateMethodology(state, ctx, body.deprecate_methodology());
    case pb::TxBody::kRecognizeMethodology:
      return ApplyRecognizeMethodology(state, ctx, body.recognize_methodology());
    case pb::TxBody::kSetReviewThreshold:
      return ApplySetReviewThreshold(state, ctx, body.set_review_threshold());
    case pb::TxBody::kRegisterProject:
      return ApplyRegisterProject(state, ctx, body.register_project());
    case pb::TxBody::kReviewProject: return ApplyReviewProject(state, ctx, body.review_project());
    case pb::TxBody::kSubmitReport: return ApplySubmitReport(state, ctx, body.submit_report());
    case pb::TxBody::kVerifyReport: return ApplyVerifyReport(state, ctx, body.verify_report());
    case pb::TxBody::kIssueCredits: return ApplyIssueCredits(state, ctx, body.issue_credits());
    case pb::TxBody::kPledgeCredits: return ApplyPledgeCredits(state, ctx, body.pledge_credits());
    case pb::TxBody::kReleasePledge: return ApplyReleasePledge(state, ctx, body.release_pledge());
    case pb::TxBody::kClaimPledge: return ApplyClaimPledge(state, ctx, body.claim_pledge());
    case pb::TxBody::kSetObligation: return ApplySetObligation(state, ctx, body.set_obligation());
    case pb::TxBody::kRetireOffset: return ApplyRetireOffset(state, ctx, body.retire_offset());
    case pb::TxBody::kRetireVoluntary:
      return ApplyRetireVoluntary(state, ctx, body.retire_voluntary());
    case pb::TxBody::kCancelCredits: return ApplyCancelCredits(state, ctx, body.cancel_credits());
    case pb::TxBody::kSubmitProposal:
      return ApplySubmitProposal(state, ctx, body.submit_proposal());
    case pb::TxBody::kVoteProposal: return ApplyVoteProposal(state, ctx, body.vote_proposal());
    case pb::TxBody::kRegisterScenario:
      return ApplyRegisterScenario(state, ctx, body.register_scenario());
    case pb::TxBody::kOpenPersonalAccount:
      return ApplyOpenPersonalAccount(state, ctx, body.open_personal_account());
    case pb::TxBody::kAttestBehaviour:
      return ApplyAttestBehaviour(state, ctx, body.attest_behaviour());
    case pb::TxBody::kPublishOffer: return ApplyPublishOffer(state, ctx, body.publish_offer());
    case pb::TxBody::kRedeemOffer: return ApplyRedeemOffer(state, ctx, body.redeem_offer());
    case pb::TxBody::kConsignReductions:
      return ApplyConsignReductions(state, ctx, body.consign_reductions());
    case pb::TxBody::kIssuePooledCredits:
      return ApplyIssuePooledCredits(state, ctx, body.issue_pooled_credits());
    case pb::TxBody::kSetAuthorisation:
      return ApplySetAuthorisation(state, ctx, body.set_authorisation());
    case pb::TxBody::kSettle: return ApplySettle(state, ctx, body.settle());
    case pb::TxBody::ACTION_NOT_SET: break;
  }
  return ActionOutcome::Fail(pb::RECEIPT_INVALID_ARGUMENT, "transaction has no action");
}

}  // namespace

pb::Event MakeEvent(std::string_view kind,
                    std::initializer_list<std::pair<std::string_view, std::string_view>> attrs) {
  pb::Event e;
  e.set_kind(std::string(kind));
  e.mutable_attributes()->Reserve(static_cast<int>(attrs.size()));
  for (const auto& [k, v] : attrs) {
    pb::Attribute* a = e.add_attributes();
    a->set_key(std::string(k));
    a->set_value(std::string(v));
  }
  return e;
}

void AddAttribute(pb::Event& e, std::string_view key, std::string value) {
  pb::Attribute* a = e.add_attributes();
  a->set_key(std::string(key));
  a->set_value(std::move(value));
}

Result<pb::Receipt> ApplyTx(StateOverlay& state, const BlockContext& ctx, const DecodedTx& tx,
                            uint32_t index) {
  if (tx.body->expiry_height() < ctx.height) {
    return FailedPrecondition(fmt::format("transaction expired at height {}; the chain is at {}",
                                          tx.body->expiry_height(), ctx.height));
  }
  Bytes account_key = state_keys::Account(tx.sender);
  auto account = ReadAccountAt(state, account_key);
  if (!account.ok()) return account.status();
  if (tx.body->nonce() != account->nonce()) {
    return FailedPrecondition(fmt::format("nonce {} is not the sender's next nonce {}",
                                          tx.body->nonce(), account->nonce()));
  }

  StateOverlay scratch(&state);
  TxContext tctx{ctx, tx};
  auto outcome = ApplyAction(scratch, tctx);
  if (!outcome.ok()) return outcome.status();
  if (outcome->code == pb::RECEIPT_OK) {
    const bool touched = scratch.Changed(account_key);
    state.Absorb(std::move(scratch));
    if (touched) {
      account = ReadAccountAt(state, account_key);  // the action changed the sender's record
      if (!account.ok()) return account.status();
    }
  }
  account->set_nonce(account->nonce() + 1);
  WriteProto(state, std::move(account_key), *account);

  pb::Receipt receipt;
  receipt.set_tx_hash(ToString(tx.id));
  receipt.set_height(ctx.height);
  receipt.set_index(index);
  receipt.set_code(outcome->code);
  // An empty string is not serialised (proto3), so setting one only allocated: same bytes.
  if (!outcome->reason.empty()) receipt.set_reason(std::move(outcome->reason));
  receipt.mutable_events()->Reserve(static_cast<int>(outcome->events.size()));
  for (auto& e : outcome->events) *receipt.add_events() = std::move(e);
  return receipt;
}

Result<BlockOutcome> ApplyBlock(const StateReader& committed, const BlockContext& ctx,
                                std::span<const DecodedTx> txs) {
  StateOverlay state(&committed, StateOverlay::Reads::kRemember);
  BlockOutcome out;
  out.receipts.reserve(txs.size());
  for (size_t i = 0; i < txs.size(); ++i) {
    auto receipt = ApplyTx(state, ctx, txs[i], static_cast<uint32_t>(i));
    if (!receipt.ok()) {
      return Status(receipt.status().code(),
                    fmt::format("transaction {} ({}) of block {}: {}", i, Hex(txs[i].id),
                                ctx.height, receipt.status().message()));
    }
    out.receipts.push_back(std::move(*receipt));
  }
  PUHUI_RETURN_IF_ERROR(ApplyValidatorChanges(state, ctx.height));
  out.changes = state.TakeChanges();
  PUHUI_RETURN_IF_ERROR(CheckSupplyConserved(committed, out.changes));
  return out;
}

Hash32 ReceiptsRoot(std::span<const std::string> serialised) {
  std::vector<Hash32> leaves;
  leaves.reserve(serialised.size());
  for (const auto& r : serialised) leaves.push_back(MerkleLeafHash(AsBytes(r)));
  return MerkleRoot(leaves);
}

Hash32 ReceiptsRoot(std::span<const pb::Receipt> receipts) {
  std::vector<std::string> serialised;
  serialised.reserve(receipts.size());
  for (const auto& r : receipts) serialised.push_back(r.SerializeAsString());
  return ReceiptsRoot(serialised);
}

}  // namespace puhui
