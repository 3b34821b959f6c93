// Monitoring reports, verification and issuance (量化/核证/签发). The chain computes a report's
// reduction from the methodology's filed formula and refuses a claim that differs; a verifier of
// the region verifies; an operator other than the verifier issues one batch per report to the
// project's owner (maker–checker).
#include <fmt/format.h>

#include <map>

#include "contracts/action.h"
#include "contracts/formula.h"
#include "contracts/registry_keys.h"
#include "contracts/review.h"
#include "contracts/state_keys.h"

namespace puhui {

namespace {

ActionOutcome ReportNotFound(std::string_view id) {
  return ActionOutcome::Fail(pb::RECEIPT_REPORT_NOT_FOUND,
                             fmt::format("monitoring report '{}' does not exist", id));
}

// A report and the project it belongs to.
struct ReportAndProject {
  pb::MonitoringReport report;
  pb::Project project;
};

Result<std::optional<ReportAndProject>> ReadReport(const StateReader& state, std::string_view id) {
  PUHUI_TRY(r, ReadProto<pb::MonitoringReport>(state, registry_keys::Report(id)));
  if (!r) return std::optional<ReportAndProject>();
  PUHUI_TRY(p, ReadProto<pb::Project>(state, registry_keys::Project(r->project())));
  if (!p) return Corruption("a monitoring report names a project that does not exist");
  return std::optional<ReportAndProject>(ReportAndProject{std::move(*r), std::move(*p)});
}

}  // namespace

Result<ActionOutcome> ApplySubmitReport(StateOverlay& state, const TxContext& ctx,
                                        const pb::SubmitReport& a) {
  Bytes project_key = registry_keys::Project(a.project());
  PUHUI_TRY(p, ReadProto<pb::Project>(state, project_key));
  if (!p) {
    return ActionOutcome::Fail(pb::RECEIPT_PROJECT_NOT_FOUND,
                               fmt::format("project '{}' does not exist", a.project()));
  }
  if (p->owner() != ToString(ctx.tx.sender.bytes)) {
    return ActionOutcome::Fail(
        pb::RECEIPT_PERMISSION_DENIED,
        fmt::format("sender is not the owner of project '{}'; only its owner reports",
                    a.project()));
  }
  if (p->status() != pb::REVIEW_STATUS_APPROVED) {
    return ActionOutcome::Fail(pb::RECEIPT_PROJECT_NOT_APPROVED,
                               fmt::format("project '{}' is {}; only an approved project reports",
                                           a.project(), StatusName(p->status())));
  }
  if (a.period_start() < p->crediting_start() || a.period_end() > p->crediting_end()) {
    return ActionOutcome::Fail(
        pb::RECEIPT_PERIOD_OUTSIDE_CREDITING,
        fmt::format("report period {}..{} lies outside the crediting period {}..{} of project '{}'",
                    a.period_start(), a.period_end(), p->crediting_start(), p->crediting_end(),
                    a.project()));
  }
  if (a.period_start() <= p->last_period_end()) {
    return ActionOutcome::Fail(
        pb::RECEIPT_PERIOD_OVERLAP,
        fmt::format("report period {}..{} overlaps: project '{}' has reported up to {}; a new "
                    "period starts after that",
                    a.period_start(), a.period_end(), a.project(), p->last_period_end()));
  }
  PUHUI_TRY(m, ReadMethodology(state, p->methodology_id(), p->methodology_version()));
  if (!m) return Corruption("a project names a methodology version that does not exist");
  std::map<std::string, uint64_t> activity;
  for (const auto& v : a.activity()) activity[v.name()] = v.value();
  auto result = EvaluateFormula(m->formula(), activity);
  if (!result.ok()) {
    if (result.status().code() == StatusCode::kFailedPrecondition) {
      return ActionOutcome::Fail(pb::RECEIPT_NO_REDUCTION,
                                 fmt::format("the formula of {} v{} yields no reduction: {}",
                                             m->id(), m->version(), result.status().message()));
    }
    return ActionOutcome::Fail(pb::RECEIPT_ACTIVITY_INVALID,
                               fmt::format("activity data do not fit the formula of {} v{}: {}",
                                           m->id(), m->version(), result.status().message()));
  }
  if (result->reduction_grams == 0) {
    return ActionOutcome::Fail(
        pb::RECEIPT_NO_REDUCTION,
        fmt::format("the formula of {} v{} gives 0 g for this activity; nothing to issue", m->id(),
                    m->version()));
  }
  if (result->reduction_grams != a.claimed_grams()) {
    return ActionOutcome::Fail(
        pb::RECEIPT_CLAIM_MISMATCH,
        fmt::format("claimed {} g, but the filed formula of {} v{} gives {} g (baseline {} g − "
                    "project {} g − leakage {} g)",
                    a.claimed_grams(), m->id(), m->version(), result->reduction_grams,
                    result->baseline_grams, result->project_grams, result->leakage_grams));
  }

  p->set_report_count(p->report_count() + 1);
  p->set_last_period_end(a.period_end());
  pb::MonitoringReport r;
  r.set_id(fmt::format("{}-R{}", a.project(), p->report_count()));
  r.set_project(a.project());
  r.set_period_start(a.period_start());
  r.set_period_end(a.period_end());
  *r.mutable_activity() = a.activity();
  r.set_claimed_grams(a.claimed_grams());
  r.set_baseline_grams(result->baseline_grams);
  r.set_project_grams(result->project_grams);
  r.set_leakage_grams(result->leakage_grams);
  r.set_status(pb::REPORT_STATUS_SUBMITTED);
  r.set_submitted_height(ctx.block.height);
  Bytes key = registry_keys::Report(r.id());
  WriteProto(state, key, r);
  WriteProto(state, project_key, *p);
  PUHUI_TRY(seq, AppendIndex(state, kKindReport, key));
  (void)seq;
  ActionOutcome ok;
  ok.events.push_back(
      MakeEvent("report_submitted", {{"report", r.id()},
                                     {"project", a.project()},
                                     {"grams", std::to_string(a.claimed_grams())}}));
  return ok;
}

Result<ActionOutcome> ApplyVerifyReport(StateOverlay& state, const TxContext& ctx,
                                        const pb::VerifyReport& a) {
  PUHUI_TRY(rp, ReadReport(state, a.report()));
  if (!rp) return ReportNotFound(a.report());
  auto& [r, p] = *rp;
  PUHUI_TRY(not_verifier, RefuseUnlessRole(state, ctx, p.region(), pb::ROLE_VERIFIER,
                                           "verify its monitoring reports"));
  if (not_verifier) return std::move(*not_verifier);
  if (r.status() != pb::REPORT_STATUS_SUBMITTED) {
    return ActionOutcome::Fail(
        pb::RECEIPT_REPORT_NOT_SUBMITTED,
        fmt::format("monitoring report '{}' is verified already", a.report()));
  }
  if (p.owner() == ToString(ctx.tx.sender.bytes)) {
    return ActionOutcome::Fail(
        pb::RECEIPT_VERIFIER_CONFLICT,
        fmt::format("the sender owns project '{}'; an owner may not verify its own report",
                    p.id()));
  }
  r.set_status(pb::REPORT_STATUS_VERIFIED);
  r.set_verifier(ToString(ctx.tx.sender.bytes));
  r.set_opinion_hash(a.opinion_hash());
  r.set_verified_height(ctx.block.height);
  WriteProto(state, registry_keys::Report(a.report()), r);
  ActionOutcome ok;
  ok.events.push_back(MakeEvent("report_verified", {{"report", a.report()}}));
  return ok;
}

Result<ActionOutcome> ApplyIssueCredits(StateOverlay& state, const TxContext& ctx,
                                        const pb::IssueCredits& a) {
  PUHUI_TRY(rp, ReadReport(state, a.report()));
  if (!rp) return ReportNotFound(a.report());
  auto& [r, p] = *rp;
  PUHUI_TRY(not_operator,
            RefuseUnlessRole(state, ctx, p.region(), pb::ROLE_OPERATOR, "issue its credits"));
  if (not_operator) return std::move(*not_operator);
  if (r.status() == pb::REPORT_STATUS_ISSUED) {
    return ActionOutcome::Fail(pb::RECEIPT_REPORT_ALREADY_ISSUED,
                               fmt::format("monitoring report '{}' was issued as batch '{}'; a "
                                           "report issues once",
                                           a.report(), r.batch()));
  }
  if (r.status() != pb::REPORT_STATUS_VERIFIED) {
    return ActionOutcome::Fail(
        pb::RECEIPT_REPORT_NOT_VERIFIED,
        fmt::format("monitoring report '{}' is not verified; a verifier of '{}' verifies it first",
                    a.report(), p.region()));
  }
  if (r.verifier() == ToString(ctx.tx.sender.bytes)) {
    return ActionOutcome::Fail(
        pb::RECEIPT_MAKER_CHECKER,
        fmt::format("the sender verified report '{}'; another account (an operator) must issue",
                    a.report()));
  }
  PUHUI_TRY(m, ReadMethodology(state, p.methodology_id(), p.methodology_version()));
  if (!m) return Corruption("a project names a methodology version that does not exist");
  if (DeprecatedAt(*m, ctx.block.height)) {
    return ActionOutcome::Fail(
        pb::RECEIPT_METHODOLOGY_DEPRECATED,
        fmt::format("methodology {} v{} is deprecated since height {}; no issuance under it",
                    m->id(), m->version(), m->deprecated_from_height()));
  }
  const uint32_t sequence = p.batch_count() + 1;
  const std::string serial = BatchSerial(p.region(), p.methodology_id(), p.methodology_version(),
                                         p.id(), r.period_start(), r.period_end(), sequence);
  PUHUI_TRY(clash, ReadBatch(state, serial));
  if (clash) {
    return ActionOutcome::Fail(pb::RECEIPT_ALREADY_EXISTS,
                               fmt::format("credit batch '{}' exists already", serial));
  }
  const PublicKey owner = AddressOf(p.owner());
  pb::CreditBatch b;
  b.set_serial(serial);
  b.set_region(p.region());
  b.set_issued_grams(r.claimed_grams());
  b.set_issued_height(ctx.block.height);
  b.set_issuer(ToString(ctx.tx.sender.bytes));
  b.set_methodology_id(p.methodology_id());
  b.set_methodology_version(p.methodology_version());
  b.set_project(p.id());
  b.set_vintage_start(r.period_start());
  b.set_vintage_end(r.period_end());
  b.set_report(r.id());
  b.set_owner(p.owner());
  p.set_batch_count(sequence);
  r.set_status(pb::REPORT_STATUS_ISSUED);
  r.set_issuer(ToString(ctx.tx.sender.bytes));
  r.set_batch(serial);
  r.set_issued_height(ctx.block.height);

  Bytes batch_key = state_keys::Batch(serial);
  WriteProto(state, batch_key, b);
  WriteU64(state, state_keys::Balance(serial, owner), r.claimed_grams());
  WriteProto(state, registry_keys::Report(r.id()), r);
  WriteProto(state, registry_keys::Project(p.id()), p);
  PUHUI_TRY(seq, AppendIndex(state, kKindBatch, batch_key));
  (void)seq;
  ActionOutcome ok;
  ok.events.push_back(MakeEvent("credits_issued", {{"batch", serial},
                                                   {"report", r.id()},
                                                   {"owner", Hex(owner.bytes)},
                                                   {"grams", std::to_string(r.claimed_grams())}}));
  return ok;
}

}  // namespace puhui
