// Holding and moving credits. A batch's supply always adds up:
//   issued = held (sum of balances) + locked + retired + cancelled.
// A transfer moves free balance only; it never changes the batch's totals.
#include <fmt/format.h>

#include "contracts/action.h"
#include "contracts/state_keys.h"

namespace puhui {

Result<ActionOutcome> ApplyTransfer(StateOverlay& state, const TxContext& ctx,
                                    const pb::Transfer& a) {
  // DecodeTx checked the fields: grams > 0, a well-formed serial, a recipient key on the curve
  // other than the sender's.
  const PublicKey to{*ToHash32(AsBytes(a.to()))};
  const PublicKey& from = ctx.tx.sender;

  auto batch = BatchExists(state, a.batch());
  if (!batch.ok()) return batch.status();
  if (!*batch) {
    return ActionOutcome::Fail(pb::RECEIPT_NOT_FOUND,
                               fmt::format("credit batch '{}' does not exist", a.batch()));
  }
  Bytes from_key = state_keys::Balance(a.batch(), from);
  Bytes to_key = state_keys::Balance(a.batch(), to);
  auto from_balance = ReadU64(state, from_key);
  if (!from_balance.ok()) return from_balance.status();
  if (*from_balance < a.grams()) {
    return ActionOutcome::Fail(pb::RECEIPT_INSUFFICIENT_FUNDS,
                               fmt::format("free balance of batch '{}' is {} g; {} g requested",
                                           a.batch(), *from_balance, a.grams()));
  }
  auto to_balance = ReadU64(state, to_key);
  if (!to_balance.ok()) return to_balance.status();
  // Balances of one batch never exceed its issuance, itself a uint64: overflow means corruption.
  if (*to_balance > UINT64_MAX - a.grams()) return Corruption("balance overflow in a transfer");

  WriteU64(state, std::move(from_key), *from_balance - a.grams());
  WriteU64(state, std::move(to_key), *to_balance + a.grams());
  // The event MakeEvent would build, with the new strings moved in instead of copied: one event
  // per transfer, hashed into the receipts root, so its bytes must not change.
  ActionOutcome ok;
  pb::Event& event = ok.events.emplace_back();
  event.set_kind("transfer");
  event.mutable_attributes()->Reserve(4);
  AddAttribute(event, "batch", a.batch());
  AddAttribute(event, "from", Hex(from.bytes));
  AddAttribute(event, "to", Hex(to.bytes));
  AddAttribute(event, "grams", std::to_string(a.grams()));
  return ok;
}

}  // namespace puhui
