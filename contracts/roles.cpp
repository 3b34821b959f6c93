// Roles per region. An authority (regional ecology bureau) grants and revokes roles in its own
// region. Authorities themselves come from genesis and, later, network governance — never from one
// authority.
#include <fmt/format.h>

#include "chain/genesis.h"
#include "contracts/action.h"
#include "contracts/registry_keys.h"
#include "contracts/state_keys.h"

namespace puhui {

namespace {

// Shared checks of grant and revoke; nullopt when the action may proceed.
Result<std::optional<ActionOutcome>> CheckRoleChange(const StateReader& state, const TxContext& ctx,
                                                     const std::string& account_bytes,
                                                     pb::Role role, const std::string& region,
                                                     PublicKey& account) {
  using R = std::optional<ActionOutcome>;
  // DecodeTx checked the fields: a known role, a well-formed region code, an account key on the
  // curve.
  if (role == pb::ROLE_AUTHORITY) {
    return R(ActionOutcome::Fail(pb::RECEIPT_PERMISSION_DENIED,
                                 "the authority role changes only through network governance"));
  }
  account = PublicKey{*ToHash32(AsBytes(account_bytes))};
  auto exists = RegionExists(state, region);
  if (!exists.ok()) return exists.status();
  if (!*exists) {
    return R(ActionOutcome::Fail(pb::RECEIPT_NOT_FOUND,
                                 fmt::format("region '{}' does not exist", region)));
  }
  auto is_authority = HasRole(state, region, pb::ROLE_AUTHORITY, ctx.tx.sender);
  if (!is_authority.ok()) return is_authority.status();
  if (!*is_authority) {
    return R(ActionOutcome::Fail(
        pb::RECEIPT_PERMISSION_DENIED,
        fmt::format("sender is not an authority of region '{}'; only that region's authority may "
                    "change its roles",
                    region)));
  }
  return R();
}

// Grant and revoke are one rule with the sense flipped: the grant must not exist yet, or must.
Result<ActionOutcome> ChangeRole(StateOverlay& state, const TxContext& ctx,
                                 const std::string& account_bytes, pb::Role role,
                                 const std::string& region, bool grant) {
  PublicKey account;
  auto refused = CheckRoleChange(state, ctx, account_bytes, role, region, account);
  if (!refused.ok()) return refused.status();
  if (*refused) return std::move(**refused);
  auto held = HasRole(state, region, role, account);
  if (!held.ok()) return held.status();
  if (*held == grant) {
    return ActionOutcome::Fail(
        grant ? pb::RECEIPT_ALREADY_EXISTS : pb::RECEIPT_NOT_FOUND,
        fmt::format("account {} role '{}' in region '{}'",
                    grant ? "already holds" : "does not hold", RoleName(role), region));
  }
  Bytes key = state_keys::RoleGrant(region, role, account);
  PUHUI_RETURN_IF_ERROR(AdjustRoleCount(state, region, role, grant));
  if (grant) {
    state.Put(std::move(key), EncodeU64(ctx.block.height));
  } else {
    state.Delete(std::move(key));
  }
  ActionOutcome ok;
  ok.events.push_back(
      MakeEvent(grant ? "role_granted" : "role_revoked", {{"account", Hex(account.bytes)},
                                                          {"role", std::string(RoleName(role))},
                                                          {"region", region}}));
  return ok;
}

}  // namespace

Result<ActionOutcome> ApplyGrantRole(StateOverlay& state, const TxContext& ctx,
                                     const pb::GrantRole& a) {
  return ChangeRole(state, ctx, a.account(), a.role(), a.region(), /*grant=*/true);
}

Result<ActionOutcome> ApplyRevokeRole(StateOverlay& state, const TxContext& ctx,
                                      const pb::RevokeRole& a) {
  return ChangeRole(state, ctx, a.account(), a.role(), a.region(), /*grant=*/false);
}

}  // namespace puhui
