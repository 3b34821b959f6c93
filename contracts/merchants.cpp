// Points and merchants (积分换权益): a merchant of a region publishes an offer (points price,
// stock, validity); a person redeems it — points are burnt, the stock goes down by one, and a
// redemption record with the hash of the person's code is kept for the merchant. Points redeemed
// never exceed points earned, so Σ balances = Σ earned − Σ redeemed at every height.
#include <fmt/format.h>

#include "contracts/action.h"
#include "contracts/personal_keys.h"
#include "contracts/registry_keys.h"
#include "contracts/review.h"
#include "contracts/state_keys.h"

namespace puhui {

Result<ActionOutcome> ApplyPublishOffer(StateOverlay& state, const TxContext& ctx,
                                        const pb::PublishOffer& a) {
  PUHUI_TRY(not_merchant,
            RefuseUnlessRole(state, ctx, a.region(), pb::ROLE_MERCHANT, "publish offers there"));
  if (not_merchant) return std::move(*not_merchant);
  Bytes key = personal_keys::Offer(a.id());
  PUHUI_TRY(existing, ReadProto<pb::Offer>(state, key));
  if (existing) {
    return ActionOutcome::Fail(pb::RECEIPT_ALREADY_EXISTS,
                               fmt::format("offer '{}' exists already", a.id()));
  }
  pb::Offer o;
  o.set_id(a.id());
  o.set_region(a.region());
  o.set_title(a.title());
  o.set_points_price(a.points_price());
  o.set_stock(a.stock());
  o.set_valid_from(a.valid_from());
  o.set_valid_to(a.valid_to());
  o.set_merchant(ToString(ctx.tx.sender.bytes));
  o.set_published_height(ctx.block.height);
  WriteProto(state, key, o);
  PUHUI_TRY(seq, AppendPersonalIndex(state, kKindOffer, key));
  (void)seq;
  ActionOutcome ok;
  ok.events.push_back(
      MakeEvent("offer_published", {{"offer", a.id()},
                                    {"points_price", std::to_string(a.points_price())},
                                    {"stock", std::to_string(a.stock())}}));
  return ok;
}

Result<ActionOutcome> ApplyRedeemOffer(StateOverlay& state, const TxContext& ctx,
                                       const pb::RedeemOffer& a) {
  Bytes offer_key = personal_keys::Offer(a.offer());
  PUHUI_TRY(o, ReadProto<pb::Offer>(state, offer_key));
  if (!o) {
    return ActionOutcome::Fail(pb::RECEIPT_OFFER_NOT_FOUND,
                               fmt::format("offer '{}' does not exist", a.offer()));
  }
  pb::PersonalAccount acct;
  PUHUI_TRY(refused, ResolveActingAccount(state, ctx, a.account(), &acct));
  if (refused) return std::move(*refused);
  const uint32_t today = DateOfDay(ctx.block.time_ms / kMsPerDay);
  if (today < o->valid_from() || today > o->valid_to()) {
    return ActionOutcome::Fail(pb::RECEIPT_OFFER_NOT_VALID,
                               fmt::format("offer '{}' is valid {}..{}; today is {}", a.offer(),
                                           o->valid_from(), o->valid_to(), today));
  }
  if (o->stock() == 0) {
    return ActionOutcome::Fail(
        pb::RECEIPT_OFFER_SOLD_OUT,
        fmt::format("offer '{}' is sold out ({} redeemed)", a.offer(), o->redeemed()));
  }
  const uint64_t balance = acct.points_earned() - acct.points_redeemed();
  if (balance < o->points_price()) {
    return ActionOutcome::Fail(pb::RECEIPT_INSUFFICIENT_POINTS,
                               fmt::format("offer '{}' costs {} points; the account has {}",
                                           a.offer(), o->points_price(), balance));
  }
  acct.set_points_redeemed(acct.points_redeemed() + o->points_price());
  acct.set_redemptions(acct.redemptions() + 1);
  o->set_stock(o->stock() - 1);
  o->set_redeemed(o->redeemed() + 1);
  PUHUI_TRY(seq_before, ReadU64(state, personal_keys::Seq(kKindRedemption)));
  pb::Redemption rd;
  rd.set_id(fmt::format("RD-{}", seq_before + 1));
  rd.set_offer(a.offer());
  rd.set_merchant(o->merchant());
  rd.set_account(acct.address());
  rd.set_points(o->points_price());
  rd.set_code_hash(a.code_hash());
  rd.set_height(ctx.block.height);
  Bytes rd_key = personal_keys::Redemption(rd.id());
  WriteProto(state, rd_key, rd);
  PUHUI_TRY(seq, AppendPersonalIndex(state, kKindRedemption, rd_key));
  (void)seq;
  acct.add_recent_redemptions(rd.id());
  if (acct.recent_redemptions_size() > kMaxRecentRedemptions) {
    acct.mutable_recent_redemptions()->DeleteSubrange(0, 1);
  }
  WriteProto(state, offer_key, *o);
  WriteProto(state, personal_keys::Account(AsBytes(acct.address())), acct);
  PUHUI_TRY(totals, ReadTotals(state));
  totals.set_points_redeemed(totals.points_redeemed() + o->points_price());
  WriteProto(state, personal_keys::Totals(), totals);
  ActionOutcome ok;
  ok.events.push_back(MakeEvent("offer_redeemed", {{"redemption", rd.id()},
                                                   {"offer", a.offer()},
                                                   {"account", Hex(AsBytes(acct.address()))},
                                                   {"points", std::to_string(o->points_price())}}));
  return ok;
}

}  // namespace puhui
