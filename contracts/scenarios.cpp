// Personal scenarios (个人减排场景): an operator of a region registers what a behaviour earns —
// reductions quantified by a filed one-input personal methodology and points per kilogram, or,
// where no published factor exists, points only — with the providers allowed to attest it, a
// per-person daily cap and an active period.
#include <fmt/format.h>

#include "contracts/action.h"
#include "contracts/personal.h"
#include "contracts/personal_keys.h"
#include "contracts/registry_keys.h"
#include "contracts/review.h"
#include "contracts/state_keys.h"

namespace puhui {

pb::Scenario ScenarioFrom(const pb::RegisterScenario& a) {
  pb::Scenario s;
  s.set_id(a.id());
  s.set_region(a.region());
  s.set_title(a.title());
  s.set_methodology_id(a.methodology_id());
  s.set_methodology_version(a.methodology_version());
  *s.mutable_providers() = a.providers();
  s.set_activity_unit(a.activity_unit());
  s.set_daily_cap_grams(a.daily_cap_grams());
  s.set_points_per_kg(a.points_per_kg());
  s.set_points_per_unit(a.points_per_unit());
  s.set_daily_cap_points(a.daily_cap_points());
  s.set_start_date(a.start_date());
  s.set_end_date(a.end_date());
  s.set_claim_window_days(a.claim_window_days());
  s.set_points_only_reason(a.points_only_reason());
  s.set_points_only(a.methodology_id().empty());
  return s;
}

std::optional<std::string> ScenarioMethodologyProblem(const pb::MethodologyVersion& m) {
  if (m.category() != pb::METHODOLOGY_CATEGORY_PERSONAL) {
    return fmt::format("methodology {} v{} is not of the personal category", m.id(), m.version());
  }
  if (m.formula().inputs_size() != 1) {
    return fmt::format(
        "methodology {} v{} has {} activity inputs; a scenario quantifies one amount per record, "
        "so it needs exactly one",
        m.id(), m.version(), m.formula().inputs_size());
  }
  return std::nullopt;
}

Result<ActionOutcome> ApplyRegisterScenario(StateOverlay& state, const TxContext& ctx,
                                            const pb::RegisterScenario& a) {
  PUHUI_TRY(not_operator, RefuseUnlessRole(state, ctx, a.region(), pb::ROLE_OPERATOR,
                                           "register its personal scenarios"));
  if (not_operator) return std::move(*not_operator);
  Bytes key = personal_keys::Scenario(a.id());
  PUHUI_TRY(existing, ReadProto<pb::Scenario>(state, key));
  if (existing) {
    return ActionOutcome::Fail(pb::RECEIPT_ALREADY_EXISTS,
                               fmt::format("scenario '{}' exists already", a.id()));
  }
  if (!a.methodology_id().empty()) {
    pb::MethodologyVersion m;
    PUHUI_TRY(unusable, RefuseUnusableMethodology(state, ctx, a.methodology_id(),
                                                  a.methodology_version(), a.region(), &m));
    if (unusable) return std::move(*unusable);
    if (auto problem = ScenarioMethodologyProblem(m)) {
      return ActionOutcome::Fail(pb::RECEIPT_SCENARIO_METHODOLOGY, *problem);
    }
  }
  for (const auto& p : a.providers()) {
    PUHUI_TRY(is_provider, HasRole(state, a.region(), pb::ROLE_DATA_PROVIDER, AddressOf(p)));
    if (!is_provider) {
      return ActionOutcome::Fail(
          pb::RECEIPT_PROVIDER_NOT_ALLOWED,
          fmt::format("provider {} is not a data provider of region '{}'; its authority grants "
                      "the role first",
                      Hex(AsBytes(p)), a.region()));
    }
  }
  pb::Scenario s = ScenarioFrom(a);
  s.set_registered_by(ToString(ctx.tx.sender.bytes));
  s.set_registered_height(ctx.block.height);
  WriteProto(state, key, s);
  PUHUI_TRY(seq, AppendPersonalIndex(state, kKindScenario, key));
  (void)seq;
  ActionOutcome ok;
  ok.events.push_back(
      MakeEvent("scenario_registered", {{"scenario", a.id()},
                                        {"region", a.region()},
                                        {"points_only", s.points_only() ? "1" : "0"}}));
  return ok;
}

}  // namespace puhui
