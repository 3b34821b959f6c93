// Using credits up: retirement for a compliance offset (抵消) within the entity's obligation,
// voluntary retirement for carbon neutrality (碳中和), and cancellation (注销) by an operator.
// Each takes grams from a holder's free balance into the batch's retired or cancelled total, which
// nothing ever decreases, and leaves a certificate (Retirement) anyone can look up by id.
#include <fmt/format.h>

#include <variant>

#include "contracts/action.h"
#include "contracts/registry_keys.h"
#include "contracts/review.h"
#include "contracts/state_keys.h"

namespace puhui {

namespace {

__extension__ typedef unsigned __int128 U128;

// floor(base × bp / 10000); never more than base, so it fits.
uint64_t BasisPoints(uint64_t base, uint32_t bp) {
  return static_cast<uint64_t>(static_cast<U128>(base) * bp / 10000);
}

uint64_t NonlocalLimit(const pb::Obligation& o) {
  return BasisPoints(o.cap_grams(), 10000 - o.min_local_share_bp());
}

// Reads the batch and the holder's free balance, refusing an unknown batch or too few grams.
struct Holding {
  pb::CreditBatch batch;
  uint64_t balance = 0;
};

Result<std::variant<Holding, ActionOutcome>> ReadHolding(const StateReader& state,
                                                         std::string_view serial,
                                                         const PublicKey& holder, uint64_t grams,
                                                         std::string_view verb) {
  using R = std::variant<Holding, ActionOutcome>;
  PUHUI_TRY(batch, ReadBatch(state, serial));
  if (!batch) {
    return R(ActionOutcome::Fail(pb::RECEIPT_BATCH_NOT_FOUND,
                                 fmt::format("credit batch '{}' does not exist", serial)));
  }
  PUHUI_TRY(balance, ReadU64(state, state_keys::Balance(serial, holder)));
  if (balance < grams) {
    return R(ActionOutcome::Fail(pb::RECEIPT_INSUFFICIENT_FUNDS,
                                 fmt::format("free balance of batch '{}' is {} g; {} g to {} "
                                             "(locked grams cannot be {}d)",
                                             serial, balance, grams, verb, verb)));
  }
  return R(Holding{std::move(*batch), balance});
}

// Moves grams from the holder's free balance into the batch's retired (or cancelled) total and
// writes the certificate. Everything has been checked.
Result<ActionOutcome> Retire(StateOverlay& state, const TxContext& ctx, Holding& h,
                             const PublicKey& holder, pb::Retirement rec, std::string_view event) {
  const uint64_t grams = rec.grams();
  const bool cancel = rec.kind() == pb::RETIREMENT_KIND_CANCELLATION;
  auto total = CheckedAdd(cancel ? h.batch.cancelled_grams() : h.batch.retired_grams(), grams);
  if (!total) return Corruption("retired or cancelled total above the issuance");
  if (cancel) {
    h.batch.set_cancelled_grams(*total);
  } else {
    h.batch.set_retired_grams(*total);
  }
  PUHUI_TRY(seq, ReadU64(state, registry_keys::Seq(kKindRetirement)));
  rec.set_id(fmt::format("{}-{}", cancel ? "CX" : "RT", seq + 1));
  rec.set_batch(h.batch.serial());
  rec.set_holder(ToString(holder.bytes));
  rec.set_height(ctx.block.height);
  rec.set_tx_hash(ToString(ctx.tx.id));
  Bytes key = registry_keys::Retirement(rec.id());
  WriteU64(state, state_keys::Balance(h.batch.serial(), holder), h.balance - grams);
  WriteProto(state, state_keys::Batch(h.batch.serial()), h.batch);
  WriteProto(state, key, rec);
  PUHUI_TRY(appended, AppendIndex(state, kKindRetirement, key));
  (void)appended;
  ActionOutcome ok;
  ok.events.push_back(MakeEvent(std::string(event), {{"id", rec.id()},
                                                     {"batch", h.batch.serial()},
                                                     {"holder", Hex(holder.bytes)},
                                                     {"grams", std::to_string(grams)}}));
  return ok;
}

}  // namespace

Result<ActionOutcome> ApplySetObligation(StateOverlay& state, const TxContext& ctx,
                                         const pb::SetObligation& a) {
  PUHUI_TRY(refused, RefuseUnlessRole(state, ctx, a.region(), pb::ROLE_AUTHORITY,
                                      "set compliance obligations there"));
  if (refused) return std::move(*refused);
  const PublicKey entity = AddressOf(a.entity());
  PUHUI_TRY(is_entity, HasRole(state, a.region(), pb::ROLE_COMPLIANCE_ENTITY, entity));
  if (!is_entity) {
    return ActionOutcome::Fail(
        pb::RECEIPT_ENTITY_NOT_COMPLIANCE,
        fmt::format("account {} is not a compliance entity of region '{}'; grant it the role first",
                    Hex(entity.bytes), a.region()));
  }
  Bytes key = registry_keys::Obligation(a.region(), a.period(), entity);
  PUHUI_TRY(existing, ReadProto<pb::Obligation>(state, key));
  pb::Obligation o;
  o.set_entity(a.entity());
  o.set_region(a.region());
  o.set_period(a.period());
  o.set_cap_base(a.cap_base());
  o.set_cap_base_grams(a.cap_base_grams());
  o.set_cap_ratio_bp(a.cap_ratio_bp());
  o.set_min_local_share_bp(a.min_local_share_bp());
  o.set_vintage_from(a.vintage_from());
  o.set_vintage_to(a.vintage_to());
  o.set_cap_grams(BasisPoints(a.cap_base_grams(), a.cap_ratio_bp()));
  o.set_set_height(ctx.block.height);
  if (existing) {
    o.set_offset_grams(existing->offset_grams());
    o.set_nonlocal_grams(existing->nonlocal_grams());
    if (o.cap_grams() < o.offset_grams() || NonlocalLimit(o) < o.nonlocal_grams()) {
      return ActionOutcome::Fail(
          pb::RECEIPT_CAP_BELOW_OFFSETS,
          fmt::format("the new cap of {} g ({} g from other regions) is below what was offset "
                      "already: {} g ({} g from other regions)",
                      o.cap_grams(), NonlocalLimit(o), o.offset_grams(), o.nonlocal_grams()));
    }
  }
  WriteProto(state, key, o);
  if (!existing) {
    PUHUI_TRY(appended, AppendIndex(state, kKindObligation, key));
    (void)appended;
  }
  ActionOutcome ok;
  ok.events.push_back(MakeEvent("obligation_set", {{"entity", Hex(entity.bytes)},
                                                   {"region", a.region()},
                                                   {"period", a.period()},
                                                   {"cap_grams", std::to_string(o.cap_grams())}}));
  return ok;
}

Result<ActionOutcome> ApplyRetireOffset(StateOverlay& state, const TxContext& ctx,
                                        const pb::RetireOffset& a) {
  PUHUI_TRY(held, ReadHolding(state, a.batch(), ctx.tx.sender, a.grams(), "retire"));
  if (auto* refused = std::get_if<ActionOutcome>(&held)) return std::move(*refused);
  Holding& h = std::get<Holding>(held);
  Bytes obl_key = registry_keys::Obligation(a.region(), a.period(), ctx.tx.sender);
  PUHUI_TRY(o, ReadProto<pb::Obligation>(state, obl_key));
  if (!o) {
    return ActionOutcome::Fail(
        pb::RECEIPT_OBLIGATION_NOT_FOUND,
        fmt::format("the sender has no compliance obligation in region '{}' for period '{}'; its "
                    "authority sets one first",
                    a.region(), a.period()));
  }
  if (h.batch.methodology_id().empty()) {
    return ActionOutcome::Fail(
        pb::RECEIPT_NOT_ELIGIBLE_REGION,
        fmt::format("batch '{}' was not issued under a methodology on chain; it cannot offset",
                    a.batch()));
  }
  PUHUI_TRY(m, ReadMethodology(state, h.batch.methodology_id(), h.batch.methodology_version()));
  if (!m) return Corruption("a batch names a methodology version that does not exist");
  if (!UsableInRegion(*m, a.region())) {
    return ActionOutcome::Fail(
        pb::RECEIPT_NOT_ELIGIBLE_REGION,
        fmt::format("methodology {} v{} of batch '{}' is neither filed in nor recognised by "
                    "region '{}'",
                    m->id(), m->version(), a.batch(), a.region()));
  }
  if (h.batch.vintage_start() < o->vintage_from() || h.batch.vintage_end() > o->vintage_to()) {
    return ActionOutcome::Fail(
        pb::RECEIPT_VINTAGE_OUTSIDE_WINDOW,
        fmt::format("batch vintage {}..{} lies outside the allowed window {}..{} of period '{}'",
                    h.batch.vintage_start(), h.batch.vintage_end(), o->vintage_from(),
                    o->vintage_to(), a.period()));
  }
  auto offset = CheckedAdd(o->offset_grams(), a.grams());
  if (!offset || *offset > o->cap_grams()) {
    return ActionOutcome::Fail(
        pb::RECEIPT_OFFSET_CAP_EXCEEDED,
        fmt::format("offsetting {} g more would exceed the cap: {} g of {} g used in period '{}'",
                    a.grams(), o->offset_grams(), o->cap_grams(), a.period()));
  }
  const bool local = h.batch.region() == a.region();
  const uint64_t nonlocal = o->nonlocal_grams() + (local ? 0 : a.grams());  // ≤ offset
  if (nonlocal > NonlocalLimit(*o)) {
    return ActionOutcome::Fail(
        pb::RECEIPT_LOCAL_SHARE_VIOLATED,
        fmt::format("at most {} g may come from outside '{}' ({} bp of the cap must be local); "
                    "{} g used, {} g more requested",
                    NonlocalLimit(*o), a.region(), o->min_local_share_bp(), o->nonlocal_grams(),
                    a.grams()));
  }
  o->set_offset_grams(*offset);
  o->set_nonlocal_grams(nonlocal);
  WriteProto(state, obl_key, *o);
  pb::Retirement rec;
  rec.set_kind(pb::RETIREMENT_KIND_OFFSET);
  rec.set_grams(a.grams());
  rec.set_region(a.region());
  rec.set_period(a.period());
  return Retire(state, ctx, h, ctx.tx.sender, std::move(rec), "credits_retired");
}

Result<ActionOutcome> ApplyRetireVoluntary(StateOverlay& state, const TxContext& ctx,
                                           const pb::RetireVoluntary& a) {
  return RetireVoluntaryOf(state, ctx, ctx.tx.sender, a);
}

Result<ActionOutcome> RetireVoluntaryOf(StateOverlay& state, const TxContext& ctx,
                                        const PublicKey& holder, const pb::RetireVoluntary& a) {
  PUHUI_TRY(held, ReadHolding(state, a.batch(), holder, a.grams(), "retire"));
  if (auto* refused = std::get_if<ActionOutcome>(&held)) return std::move(*refused);
  Holding& h = std::get<Holding>(held);
  pb::Retirement rec;
  rec.set_kind(pb::RETIREMENT_KIND_VOLUNTARY);
  rec.set_grams(a.grams());
  rec.set_region(h.batch.region());
  rec.set_beneficiary(a.beneficiary());
  rec.set_purpose(a.purpose());
  rec.set_purpose_text(a.purpose_text());
  return Retire(state, ctx, h, holder, std::move(rec), "credits_retired");
}

Result<ActionOutcome> ApplyCancelCredits(StateOverlay& state, const TxContext& ctx,
                                         const pb::CancelCredits& a) {
  const PublicKey holder = AddressOf(a.holder());
  PUHUI_TRY(held, ReadHolding(state, a.batch(), holder, a.grams(), "cancel"));
  if (auto* refused = std::get_if<ActionOutcome>(&held)) return std::move(*refused);
  Holding& h = std::get<Holding>(held);
  PUHUI_TRY(not_operator, RefuseUnlessRole(state, ctx, h.batch.region(), pb::ROLE_OPERATOR,
                                           "cancel its credits"));
  if (not_operator) return std::move(*not_operator);
  pb::Retirement rec;
  rec.set_kind(pb::RETIREMENT_KIND_CANCELLATION);
  rec.set_grams(a.grams());
  rec.set_region(h.batch.region());
  rec.set_cancel_reason(a.reason());
  rec.set_operator_(ToString(ctx.tx.sender.bytes));
  return Retire(state, ctx, h, holder, std::move(rec), "credits_cancelled");
}

}  // namespace puhui
