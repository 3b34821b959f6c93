// Pooling (消纳): a person consigns credited reductions of one scenario and month to the
// scenario's regional pool; an operator of that region issues the pool's unissued grams of a
// scenario and month as a credit batch through the registry path — the scenario's methodology
// version, vintage = that month, owned by the issuing operator — which then moves, is pledged and
// retired like any other batch. Each gram is counted once: consigned ≤ credited per account,
// scenario and month; issued ≤ consigned per pool bucket.
#include <fmt/format.h>

#include <algorithm>

#include "chain/limits.h"
#include "contracts/action.h"
#include "contracts/personal_keys.h"
#include "contracts/registry_keys.h"
#include "contracts/review.h"
#include "contracts/state_keys.h"

namespace puhui {

namespace {

Result<std::optional<pb::Scenario>> ReadScenario(const StateReader& state, std::string_view id) {
  return ReadProto<pb::Scenario>(state, personal_keys::Scenario(id));
}

ActionOutcome ScenarioNotFound(std::string_view id) {
  return ActionOutcome::Fail(pb::RECEIPT_SCENARIO_NOT_FOUND,
                             fmt::format("scenario '{}' does not exist", id));
}

ActionOutcome PointsOnly(const pb::Scenario& s) {
  return ActionOutcome::Fail(
      pb::RECEIPT_POINTS_ONLY_SCENARIO,
      fmt::format("scenario '{}' is points-only ({}); it credits no grams to pool", s.id(),
                  s.points_only_reason()));
}

}  // namespace

Result<ActionOutcome> ApplyConsignReductions(StateOverlay& state, const TxContext& ctx,
                                             const pb::ConsignReductions& a) {
  PUHUI_TRY(s, ReadScenario(state, a.scenario()));
  if (!s) return ScenarioNotFound(a.scenario());
  if (s->points_only()) return PointsOnly(*s);
  pb::PersonalAccount acct;
  PUHUI_TRY(refused, ResolveActingAccount(state, ctx, a.account(), &acct));
  if (refused) return std::move(*refused);
  pb::AccountMonth* month = nullptr;
  for (auto& m : *acct.mutable_months()) {
    if (m.scenario() == a.scenario() && m.month() == a.month()) month = &m;
  }
  const uint64_t available = month ? month->credited_grams() - month->consigned_grams() : 0;
  if (available < a.grams()) {
    return ActionOutcome::Fail(
        pb::RECEIPT_INSUFFICIENT_REDUCTIONS,
        fmt::format("the account has {} unconsigned g of scenario '{}' in {}; {} g asked",
                    available, a.scenario(), a.month(), a.grams()));
  }
  month->set_consigned_grams(month->consigned_grams() + a.grams());
  acct.set_consigned_grams(acct.consigned_grams() + a.grams());
  Bytes pool_key = personal_keys::Pool(a.scenario(), a.month());
  PUHUI_TRY(existing, ReadProto<pb::PoolBucket>(state, pool_key));
  pb::PoolBucket pool = existing ? *existing : pb::PoolBucket();
  pool.set_scenario(a.scenario());
  pool.set_month(a.month());
  pool.set_consigned_grams(pool.consigned_grams() + a.grams());
  WriteProto(state, pool_key, pool);
  WriteProto(state, personal_keys::Account(AsBytes(acct.address())), acct);
  PUHUI_TRY(totals, ReadTotals(state));
  totals.set_consigned_grams(totals.consigned_grams() + a.grams());
  WriteProto(state, personal_keys::Totals(), totals);
  ActionOutcome ok;
  ok.events.push_back(MakeEvent("reductions_consigned", {{"account", Hex(AsBytes(acct.address()))},
                                                         {"scenario", a.scenario()},
                                                         {"month", std::to_string(a.month())},
                                                         {"grams", std::to_string(a.grams())}}));
  return ok;
}

Result<ActionOutcome> ApplyIssuePooledCredits(StateOverlay& state, const TxContext& ctx,
                                              const pb::IssuePooledCredits& a) {
  PUHUI_TRY(s, ReadScenario(state, a.scenario()));
  if (!s) return ScenarioNotFound(a.scenario());
  PUHUI_TRY(not_operator, RefuseUnlessRole(state, ctx, s->region(), pb::ROLE_OPERATOR,
                                           "issue its pooled personal reductions"));
  if (not_operator) return std::move(*not_operator);
  if (s->points_only()) return PointsOnly(*s);
  Bytes pool_key = personal_keys::Pool(a.scenario(), a.month());
  PUHUI_TRY(existing, ReadProto<pb::PoolBucket>(state, pool_key));
  const uint64_t unissued = existing ? existing->consigned_grams() - existing->issued_grams() : 0;
  if (unissued == 0) {
    return ActionOutcome::Fail(
        pb::RECEIPT_NOTHING_TO_ISSUE,
        fmt::format("the pool of scenario '{}' for {} holds no unissued consigned grams",
                    a.scenario(), a.month()));
  }
  pb::PoolBucket pool = *existing;
  PUHUI_TRY(unusable, RefuseUnusableMethodology(state, ctx, s->methodology_id(),
                                                s->methodology_version(), s->region(), nullptr));
  if (unusable) return std::move(*unusable);
  uint32_t first = 0, last = 0;
  if (!MonthRange(a.month(), &first, &last)) return Internal("a pool month is not a month");
  const std::string project = "POOL-" + s->id();
  const std::string serial = BatchSerial(s->region(), s->methodology_id(), s->methodology_version(),
                                         project, first, last, pool.batches() + 1);
  if (serial.size() > kMaxIdBytes) {
    return ActionOutcome::Fail(pb::RECEIPT_SERIAL_TOO_LONG,
                               fmt::format("the pooled batch's serial '{}' would exceed {} "
                                           "characters; register the scenario with a shorter id",
                                           serial, kMaxIdBytes));
  }
  PUHUI_TRY(clash, ReadBatch(state, serial));
  if (clash) {
    return ActionOutcome::Fail(pb::RECEIPT_ALREADY_EXISTS,
                               fmt::format("credit batch '{}' exists already", serial));
  }
  pb::CreditBatch b;
  b.set_serial(serial);
  b.set_region(s->region());
  b.set_issued_grams(unissued);
  b.set_issued_height(ctx.block.height);
  b.set_issuer(ToString(ctx.tx.sender.bytes));
  b.set_note(fmt::format("pooled personal reductions of scenario {} in {}", s->id(), a.month()));
  b.set_methodology_id(s->methodology_id());
  b.set_methodology_version(s->methodology_version());
  b.set_project(project);
  b.set_vintage_start(first);
  b.set_vintage_end(last);
  b.set_owner(ToString(ctx.tx.sender.bytes));
  pool.set_issued_grams(pool.consigned_grams());
  pool.set_batches(pool.batches() + 1);
  pool.add_serials(serial);
  Bytes batch_key = state_keys::Batch(serial);
  WriteProto(state, batch_key, b);
  WriteU64(state, state_keys::Balance(serial, ctx.tx.sender), unissued);
  WriteProto(state, pool_key, pool);
  PUHUI_TRY(seq, AppendIndex(state, kKindBatch, batch_key));
  (void)seq;
  PUHUI_TRY(totals, ReadTotals(state));
  totals.set_pooled_issued_grams(totals.pooled_issued_grams() + unissued);
  WriteProto(state, personal_keys::Totals(), totals);
  ActionOutcome ok;
  ok.events.push_back(MakeEvent("pooled_credits_issued", {{"batch", serial},
                                                          {"scenario", s->id()},
                                                          {"month", std::to_string(a.month())},
                                                          {"owner", Hex(ctx.tx.sender.bytes)},
                                                          {"grams", std::to_string(unissued)}}));
  return ok;
}

}  // namespace puhui
