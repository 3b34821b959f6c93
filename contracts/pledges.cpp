// Pledges (质押): a holder locks grams of a batch for a pledgee. Locked grams leave the holder's
// free balance and count in the batch's locked total; only the pledgee releases them (back to the
// holder) or claims them (into its own free balance).
#include <fmt/format.h>

#include "contracts/action.h"
#include "contracts/registry_keys.h"
#include "contracts/state_keys.h"

namespace puhui {

namespace {

ActionOutcome BatchNotFound(std::string_view serial) {
  return ActionOutcome::Fail(pb::RECEIPT_BATCH_NOT_FOUND,
                             fmt::format("credit batch '{}' does not exist", serial));
}

std::string_view PledgeStatusName(pb::PledgeStatus s) {
  switch (s) {
    case pb::PLEDGE_STATUS_LOCKED: return "locked";
    case pb::PLEDGE_STATUS_RELEASED: return "released";
    case pb::PLEDGE_STATUS_CLAIMED: return "claimed";
    case pb::PLEDGE_STATUS_UNSPECIFIED:
    case pb::PledgeStatus_INT_MIN_SENTINEL_DO_NOT_USE_:
    case pb::PledgeStatus_INT_MAX_SENTINEL_DO_NOT_USE_: break;
  }
  return "unspecified";
}

// Release (to the pledger) and claim (to the pledgee) are one rule with a different recipient.
Result<ActionOutcome> ClosePledge(StateOverlay& state, const TxContext& ctx, const std::string& id,
                                  bool claim) {
  Bytes key = registry_keys::Pledge(id);
  PUHUI_TRY(pl, ReadProto<pb::Pledge>(state, key));
  if (!pl) {
    return ActionOutcome::Fail(pb::RECEIPT_PLEDGE_NOT_FOUND,
                               fmt::format("pledge '{}' does not exist", id));
  }
  if (pl->pledgee() != ToString(ctx.tx.sender.bytes)) {
    return ActionOutcome::Fail(
        pb::RECEIPT_NOT_PLEDGEE,
        fmt::format("sender is not the pledgee of pledge '{}'; only the pledgee {} it", id,
                    claim ? "claims" : "releases"));
  }
  if (pl->status() != pb::PLEDGE_STATUS_LOCKED) {
    return ActionOutcome::Fail(
        pb::RECEIPT_PLEDGE_CLOSED,
        fmt::format("pledge '{}' is {} already", id, PledgeStatusName(pl->status())));
  }
  PUHUI_TRY(batch, ReadBatch(state, pl->batch()));
  if (!batch || batch->locked_grams() < pl->grams()) {
    return Corruption("a locked pledge exceeds its batch's locked total");
  }
  const PublicKey to = AddressOf(claim ? pl->pledgee() : pl->pledger());
  Bytes to_key = state_keys::Balance(pl->batch(), to);
  PUHUI_TRY(balance, ReadU64(state, to_key));
  auto sum = CheckedAdd(balance, pl->grams());
  if (!sum) return Corruption("balance overflow closing a pledge");

  batch->set_locked_grams(batch->locked_grams() - pl->grams());
  pl->set_status(claim ? pb::PLEDGE_STATUS_CLAIMED : pb::PLEDGE_STATUS_RELEASED);
  pl->set_closed_height(ctx.block.height);
  WriteU64(state, std::move(to_key), *sum);
  WriteProto(state, state_keys::Batch(pl->batch()), *batch);
  WriteProto(state, key, *pl);
  ActionOutcome ok;
  ok.events.push_back(MakeEvent(claim ? "pledge_claimed" : "pledge_released",
                                {{"pledge", id},
                                 {"batch", pl->batch()},
                                 {"to", Hex(to.bytes)},
                                 {"grams", std::to_string(pl->grams())}}));
  return ok;
}

}  // namespace

Result<ActionOutcome> ApplyPledgeCredits(StateOverlay& state, const TxContext& ctx,
                                         const pb::PledgeCredits& a) {
  PUHUI_TRY(batch, ReadBatch(state, a.batch()));
  if (!batch) return BatchNotFound(a.batch());
  Bytes from_key = state_keys::Balance(a.batch(), ctx.tx.sender);
  PUHUI_TRY(balance, ReadU64(state, from_key));
  if (balance < a.grams()) {
    return ActionOutcome::Fail(pb::RECEIPT_INSUFFICIENT_FUNDS,
                               fmt::format("free balance of batch '{}' is {} g; {} g to pledge",
                                           a.batch(), balance, a.grams()));
  }
  auto locked = CheckedAdd(batch->locked_grams(), a.grams());
  if (!locked) return Corruption("locked total overflow");
  batch->set_locked_grams(*locked);
  PUHUI_TRY(seq, ReadU64(state, registry_keys::Seq(kKindPledge)));
  pb::Pledge pl;
  pl.set_id(fmt::format("PL-{}", seq + 1));
  pl.set_batch(a.batch());
  pl.set_pledger(ToString(ctx.tx.sender.bytes));
  pl.set_pledgee(a.pledgee());
  pl.set_grams(a.grams());
  pl.set_status(pb::PLEDGE_STATUS_LOCKED);
  pl.set_created_height(ctx.block.height);
  Bytes key = registry_keys::Pledge(pl.id());
  WriteU64(state, std::move(from_key), balance - a.grams());
  WriteProto(state, state_keys::Batch(a.batch()), *batch);
  WriteProto(state, key, pl);
  PUHUI_TRY(appended, AppendIndex(state, kKindPledge, key));
  (void)appended;
  ActionOutcome ok;
  ok.events.push_back(MakeEvent("credits_pledged", {{"pledge", pl.id()},
                                                    {"batch", a.batch()},
                                                    {"pledgee", Hex(AsBytes(a.pledgee()))},
                                                    {"grams", std::to_string(a.grams())}}));
  return ok;
}

Result<ActionOutcome> ApplyReleasePledge(StateOverlay& state, const TxContext& ctx,
                                         const pb::ReleasePledge& a) {
  return ClosePledge(state, ctx, a.pledge(), /*claim=*/false);
}

Result<ActionOutcome> ApplyClaimPledge(StateOverlay& state, const TxContext& ctx,
                                       const pb::ClaimPledge& a) {
  return ClosePledge(state, ctx, a.pledge(), /*claim=*/true);
}

}  // namespace puhui
