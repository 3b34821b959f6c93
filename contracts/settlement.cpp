// Exchange settlement (docs/exchange.md): an exchange (ROLE_EXCHANGE in the settlement's region)
// settles trades matched off chain as one transaction of legs. Every leg needs its holder's
// authorisation of the exchange (authorisations.cpp), unless the exchange moves its own credits,
// and a free balance; authorisations are consumed by what moves. All legs apply or none: the
// handler writes leg by leg into the transaction's own overlay (executor.cpp), which is dropped
// whole when a later leg is refused — the refusal names the leg.
#include <fmt/format.h>

#include "contracts/action.h"
#include "contracts/exchange_keys.h"
#include "contracts/registry_keys.h"
#include "contracts/review.h"
#include "contracts/state_keys.h"

namespace puhui {

namespace {

ActionOutcome LegFail(int leg, pb::ReceiptCode code, std::string_view why) {
  return ActionOutcome::Fail(code, fmt::format("leg {}: {}", leg, why));
}

// Takes `grams` from the holder's authorisations of the exchange: the batch's own first, then the
// one for any batch. nullopt when done; otherwise why not (nothing written then).
Result<std::optional<ActionOutcome>> ConsumeAuthorisation(StateOverlay& state, const TxContext& ctx,
                                                          int leg, const PublicKey& holder,
                                                          const std::string& batch,
                                                          uint64_t grams) {
  using R = std::optional<ActionOutcome>;
  const PublicKey& exchange = ctx.tx.sender;
  Bytes keys[2] = {exchange_keys::Authorisation(holder, exchange, batch),
                   exchange_keys::Authorisation(holder, exchange, "")};
  std::optional<pb::Authorisation> auths[2];
  uint64_t usable = 0;
  uint64_t expired_at = 0;
  bool any = false;
  for (int i = 0; i < 2; ++i) {
    PUHUI_TRY(a, ReadProto<pb::Authorisation>(state, keys[i]));
    if (!a) continue;
    any = true;
    if (a->expiry_height() < ctx.block.height) {
      expired_at = std::max(expired_at, a->expiry_height());
      continue;
    }
    usable = CheckedAdd(usable, a->grams()).value_or(UINT64_MAX);
    auths[i] = std::move(a);
  }
  if (!any) {
    return R(LegFail(leg, pb::RECEIPT_NOT_AUTHORISED,
                     fmt::format("holder {} has not authorised exchange {} to move batch '{}' "
                                 "(nor any batch)",
                                 Hex(holder.bytes), Hex(exchange.bytes), batch)));
  }
  if (!auths[0] && !auths[1]) {
    return R(LegFail(leg, pb::RECEIPT_AUTHORISATION_EXPIRED,
                     fmt::format("holder {}'s authorisation of this exchange expired at height {}; "
                                 "the chain is at {}",
                                 Hex(holder.bytes), expired_at, ctx.block.height)));
  }
  if (usable < grams) {
    return R(LegFail(leg, pb::RECEIPT_AUTHORISATION_EXHAUSTED,
                     fmt::format("holder {} has authorised this exchange to move {} g more of "
                                 "batch '{}'; the leg moves {} g",
                                 Hex(holder.bytes), usable, batch, grams)));
  }
  uint64_t left = grams;
  for (int i = 0; i < 2 && left > 0; ++i) {
    if (!auths[i]) continue;
    const uint64_t take = std::min(left, auths[i]->grams());
    if (take == 0) continue;
    auths[i]->set_grams(auths[i]->grams() - take);
    left -= take;
    // An exhausted authorisation stays (0 g), so a later leg is told "exhausted", not "none".
    WriteProto(state, keys[i], *auths[i]);
  }
  return R();
}

std::string AttributeOf(const pb::Event& e, std::string_view key) {
  for (const auto& a : e.attributes()) {
    if (a.key() == key) return a.value();
  }
  return {};
}

}  // namespace

Result<ActionOutcome> ApplySettle(StateOverlay& state, const TxContext& ctx, const pb::Settle& a) {
  // DecodeTx checked the fields: ids and texts, 1..kMaxSettlementLegs legs, each with two distinct
  // keys on the curve, a batch serial, grams > 0 and retirement details exactly when it retires.
  PUHUI_TRY(refused, RefuseUnlessRole(state, ctx, a.region(), pb::ROLE_EXCHANGE, "settle trades"));
  if (refused) return std::move(*refused);
  const PublicKey& exchange = ctx.tx.sender;
  Bytes key = exchange_keys::Settlement(exchange, a.id());
  PUHUI_TRY(original, ReadProto<pb::Settlement>(state, key));
  if (original) {
    return ActionOutcome::Fail(
        pb::RECEIPT_SETTLEMENT_EXISTS,
        fmt::format("settlement '{}' of this exchange was settled already at height {} by "
                    "transaction {}; nothing was applied again",
                    a.id(), original->height(), Hex(AsBytes(original->tx_hash()))));
  }

  pb::Settlement rec;
  ActionOutcome ok;
  uint64_t total = 0;
  for (int i = 0; i < a.legs_size(); ++i) {
    const pb::SettlementLeg& leg = a.legs(i);
    const PublicKey from = AddressOf(leg.from());
    const PublicKey to = AddressOf(leg.to());
    PUHUI_TRY(batch, ReadBatch(state, leg.batch()));
    if (!batch) {
      return LegFail(i, pb::RECEIPT_BATCH_NOT_FOUND,
                     fmt::format("credit batch '{}' does not exist", leg.batch()));
    }
    if (!(from == exchange)) {
      PUHUI_TRY(no, ConsumeAuthorisation(state, ctx, i, from, leg.batch(), leg.grams()));
      if (no) return std::move(*no);
    }
    Bytes from_key = state_keys::Balance(leg.batch(), from);
    Bytes to_key = state_keys::Balance(leg.batch(), to);
    PUHUI_TRY(from_balance, ReadU64(state, from_key));
    if (from_balance < leg.grams()) {
      return LegFail(i, pb::RECEIPT_INSUFFICIENT_FUNDS,
                     fmt::format("free balance of batch '{}' of {} is {} g; {} g to move (locked "
                                 "and retired grams cannot move)",
                                 leg.batch(), Hex(from.bytes), from_balance, leg.grams()));
    }
    PUHUI_TRY(to_balance, ReadU64(state, to_key));
    if (to_balance > UINT64_MAX - leg.grams())
      return Corruption("balance overflow in a settlement");
    WriteU64(state, std::move(from_key), from_balance - leg.grams());
    WriteU64(state, std::move(to_key), to_balance + leg.grams());
    total = CheckedAdd(total, leg.grams()).value_or(UINT64_MAX);
    ok.events.push_back(MakeEvent("transfer", {{"batch", leg.batch()},
                                               {"from", Hex(from.bytes)},
                                               {"to", Hex(to.bytes)},
                                               {"grams", std::to_string(leg.grams())},
                                               {"exchange", Hex(exchange.bytes)},
                                               {"settlement", a.id()},
                                               {"leg", std::to_string(i)}}));
    if (leg.retire()) {
      pb::RetireVoluntary r;
      r.set_batch(leg.batch());
      r.set_grams(leg.grams());
      r.set_beneficiary(leg.beneficiary());
      r.set_purpose(leg.purpose());
      r.set_purpose_text(leg.purpose_text());
      PUHUI_TRY(retired, RetireVoluntaryOf(state, ctx, to, r));
      // The grams just arrived, so this cannot be refused; if it were, nothing applies.
      if (retired.code != pb::RECEIPT_OK) return LegFail(i, retired.code, retired.reason);
      for (auto& e : retired.events) {
        rec.add_retirements(AttributeOf(e, "id"));
        for (const auto& [k, v] :
             {std::pair<std::string, std::string>{"exchange", Hex(exchange.bytes)},
              {"settlement", a.id()}}) {
          pb::Attribute* attr = e.add_attributes();
          attr->set_key(k);
          attr->set_value(v);
        }
        ok.events.push_back(std::move(e));
      }
    }
  }

  rec.set_exchange(ToString(exchange.bytes));
  rec.set_id(a.id());
  rec.set_payment_ref(a.payment_ref());
  rec.set_region(a.region());
  *rec.mutable_legs() = a.legs();
  rec.set_height(ctx.block.height);
  rec.set_tx_hash(ToString(ctx.tx.id));
  rec.set_time_ms(ctx.block.time_ms);
  WriteProto(state, std::move(key), rec);
  state.Put(exchange_keys::ListEntry(exchange, ctx.block.height, a.id()),
            Bytes(a.id().begin(), a.id().end()));
  ok.events.push_back(MakeEvent("settlement", {{"exchange", Hex(exchange.bytes)},
                                               {"id", a.id()},
                                               {"payment_ref", a.payment_ref()},
                                               {"legs", std::to_string(a.legs_size())},
                                               {"grams", std::to_string(total)}}));
  return ok;
}

}  // namespace puhui
