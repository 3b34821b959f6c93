// A holder's authorisation of an exchange to move its credits (docs/exchange.md). The holder sets
// the amount the exchange may still move, for one batch or any, until an expiry height; setting 0
// revokes. Settlements (settlement.cpp) consume what they move.
#include <fmt/format.h>

#include "contracts/action.h"
#include "contracts/exchange_keys.h"
#include "contracts/registry_keys.h"
#include "contracts/state_keys.h"

namespace puhui {

Result<ActionOutcome> ApplySetAuthorisation(StateOverlay& state, const TxContext& ctx,
                                            const pb::SetAuthorisation& a) {
  // DecodeTx checked: the exchange is a key on the curve other than the sender, the batch empty or
  // well formed, an expiry set unless revoking.
  const PublicKey exchange = AddressOf(a.exchange());
  const std::string what =
      a.batch().empty() ? std::string("any batch") : fmt::format("batch '{}'", a.batch());
  Bytes key = exchange_keys::Authorisation(ctx.tx.sender, exchange, a.batch());
  PUHUI_TRY(existing, ReadProto<pb::Authorisation>(state, key));
  ActionOutcome ok;
  if (a.grams() == 0) {
    if (!existing) {
      return ActionOutcome::Fail(pb::RECEIPT_NOT_FOUND,
                                 fmt::format("no authorisation of exchange {} for {} to revoke",
                                             Hex(exchange.bytes), what));
    }
    state.Delete(std::move(key));
    ok.events.push_back(MakeEvent("authorisation_revoked", {{"holder", Hex(ctx.tx.sender.bytes)},
                                                            {"exchange", Hex(exchange.bytes)},
                                                            {"batch", a.batch()}}));
    return ok;
  }
  if (a.expiry_height() < ctx.block.height) {
    return ActionOutcome::Fail(
        pb::RECEIPT_EXPIRY_IN_PAST,
        fmt::format("expiry_height {} is below the current height {}; the authorisation would "
                    "never be usable",
                    a.expiry_height(), ctx.block.height));
  }
  if (!a.batch().empty()) {
    PUHUI_TRY(batch, ReadBatch(state, a.batch()));
    if (!batch) {
      return ActionOutcome::Fail(pb::RECEIPT_BATCH_NOT_FOUND,
                                 fmt::format("credit batch '{}' does not exist", a.batch()));
    }
  }
  pb::Authorisation rec;
  rec.set_holder(ToString(ctx.tx.sender.bytes));
  rec.set_exchange(a.exchange());
  rec.set_batch(a.batch());
  rec.set_grams(a.grams());
  rec.set_expiry_height(a.expiry_height());
  rec.set_set_height(ctx.block.height);
  WriteProto(state, std::move(key), rec);
  ok.events.push_back(
      MakeEvent("authorisation_set", {{"holder", Hex(ctx.tx.sender.bytes)},
                                      {"exchange", Hex(exchange.bytes)},
                                      {"batch", a.batch()},
                                      {"grams", std::to_string(a.grams())},
                                      {"expiry_height", std::to_string(a.expiry_height())}}));
  return ok;
}

}  // namespace puhui
