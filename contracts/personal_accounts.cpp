// Personal carbon accounts (个人碳账户) hold no identity. An app-held account is the address of a
// key on the person's phone and comes into being with its first credited record. A custodial
// account is opened by an operator for a salted hash of an external id (a phone number, a transit
// card): its address is derived from that hash, and the operator acts for it.
#include <fmt/format.h>

#include "contracts/action.h"
#include "contracts/personal_keys.h"
#include "contracts/registry_keys.h"
#include "contracts/review.h"
#include "contracts/state_keys.h"

namespace puhui {

Result<ActionOutcome> ApplyOpenPersonalAccount(StateOverlay& state, const TxContext& ctx,
                                               const pb::OpenPersonalAccount& a) {
  PUHUI_TRY(not_operator, RefuseUnlessRole(state, ctx, a.region(), pb::ROLE_OPERATOR,
                                           "open custodial personal accounts"));
  if (not_operator) return std::move(*not_operator);
  const Hash32 address = CustodialAddress(a.region(), AsBytes(a.external_id_hash()));
  Bytes key = personal_keys::Account(ByteView(address));
  PUHUI_TRY(existing, ReadProto<pb::PersonalAccount>(state, key));
  if (existing) {
    return ActionOutcome::Fail(
        pb::RECEIPT_ALREADY_EXISTS,
        fmt::format("personal account {} exists already for this id hash in '{}'", Hex(address),
                    a.region()));
  }
  pb::PersonalAccount acct;
  acct.set_address(ToString(ByteView(address)));
  acct.set_custodian(ToString(ctx.tx.sender.bytes));
  acct.set_region(a.region());
  acct.set_opened_height(ctx.block.height);
  WriteProto(state, key, acct);
  PUHUI_TRY(totals, ReadTotals(state));
  totals.set_accounts(totals.accounts() + 1);
  WriteProto(state, personal_keys::Totals(), totals);
  ActionOutcome ok;
  ok.events.push_back(
      MakeEvent("personal_account_opened", {{"address", Hex(address)}, {"region", a.region()}}));
  return ok;
}

}  // namespace puhui
