// Methodologies (方法学): filed by an operator or authority of a region, reviewed by the region's
// experts (k of n), revised as new versions, deprecated from a height, recognised by other regions.
#include <fmt/format.h>

#include <algorithm>

#include "chain/genesis.h"
#include "contracts/action.h"
#include "contracts/registry_keys.h"
#include "contracts/review.h"
#include "contracts/state_keys.h"

namespace puhui {

namespace {

ActionOutcome NotFound(std::string_view id, uint32_t version) {
  return ActionOutcome::Fail(pb::RECEIPT_METHODOLOGY_NOT_FOUND,
                             fmt::format("methodology {} v{} does not exist", id, version));
}

Result<std::optional<ActionOutcome>> RefuseUnlessAuthority(const StateReader& state,
                                                           const TxContext& ctx,
                                                           std::string_view region,
                                                           std::string_view what) {
  return RefuseUnlessRole(state, ctx, region, pb::ROLE_AUTHORITY, what);
}

}  // namespace

Result<ActionOutcome> ApplyFileMethodology(StateOverlay& state, const TxContext& ctx,
                                           const pb::FileMethodology& a) {
  PUHUI_TRY(exists, RegionExists(state, a.region()));
  if (!exists) {
    return ActionOutcome::Fail(pb::RECEIPT_NOT_FOUND,
                               fmt::format("region '{}' does not exist", a.region()));
  }
  PUHUI_TRY(op, HasRole(state, a.region(), pb::ROLE_OPERATOR, ctx.tx.sender));
  PUHUI_TRY(auth, HasRole(state, a.region(), pb::ROLE_AUTHORITY, ctx.tx.sender));
  if (!op && !auth) {
    return ActionOutcome::Fail(
        pb::RECEIPT_PERMISSION_DENIED,
        fmt::format("sender is neither an operator nor an authority of region '{}'; only they "
                    "file its methodologies",
                    a.region()));
  }
  PUHUI_TRY(latest, ReadU64(state, registry_keys::MethodologyLatest(a.id())));
  if (a.version() <= latest) {
    return ActionOutcome::Fail(pb::RECEIPT_ALREADY_EXISTS,
                               fmt::format("methodology {} v{} exists already; a revision is v{}",
                                           a.id(), a.version(), latest + 1));
  }
  if (a.version() != latest + 1) {
    return ActionOutcome::Fail(
        pb::RECEIPT_METHODOLOGY_VERSION_GAP,
        fmt::format("methodology {} is at v{}; the next version must be v{}, not v{}", a.id(),
                    latest, latest + 1, a.version()));
  }
  if (latest > 0) {
    PUHUI_TRY(first, ReadMethodology(state, a.id(), 1));
    if (!first) return Corruption("methodology has a latest version but no v1");
    if (first->region() != a.region()) {
      return ActionOutcome::Fail(
          pb::RECEIPT_METHODOLOGY_REGION_MISMATCH,
          fmt::format("methodology {} belongs to region '{}'; a revision cannot move it to '{}'",
                      a.id(), first->region(), a.region()));
    }
  }
  PUHUI_TRY(threshold, ReviewThreshold(state, a.region()));

  pb::MethodologyVersion m;
  m.set_id(a.id());
  m.set_version(a.version());
  m.set_title(a.title());
  m.set_category(a.category());
  m.set_region(a.region());
  m.set_document_hash(a.document_hash());
  *m.mutable_formula() = a.formula();
  *m.mutable_params() = a.params();
  m.set_status(pb::REVIEW_STATUS_PENDING);
  m.set_filer(ToString(ctx.tx.sender.bytes));
  m.set_filed_height(ctx.block.height);
  m.set_threshold(static_cast<uint32_t>(threshold));
  Bytes key = registry_keys::Methodology(a.id(), a.version());
  WriteProto(state, key, m);
  WriteU64(state, registry_keys::MethodologyLatest(a.id()), a.version());
  PUHUI_TRY(seq, AppendIndex(state, kKindMethodology, key));
  (void)seq;
  ActionOutcome ok;
  ok.events.push_back(MakeEvent("methodology_filed", {{"id", a.id()},
                                                      {"version", std::to_string(a.version())},
                                                      {"region", a.region()},
                                                      {"threshold", std::to_string(threshold)}}));
  return ok;
}

Result<ActionOutcome> ApplyReviewMethodology(StateOverlay& state, const TxContext& ctx,
                                             const pb::ReviewMethodology& a) {
  PUHUI_TRY(m, ReadMethodology(state, a.id(), a.version()));
  if (!m) return NotFound(a.id(), a.version());
  const std::string what = fmt::format("methodology {} v{}", a.id(), a.version());
  PUHUI_TRY(refused,
            CheckReview(state, ctx, what, m->region(), m->status(), m->filer(), m->reviews()));
  if (refused) return std::move(*refused);
  PUHUI_TRY(status, RecordReview(state, ctx, m->region(), m->threshold(), a.approve(),
                                 a.comment_hash(), *m->mutable_reviews()));
  m->set_status(status);
  if (status != pb::REVIEW_STATUS_PENDING) m->set_decided_height(ctx.block.height);
  WriteProto(state, registry_keys::Methodology(a.id(), a.version()), *m);
  ActionOutcome ok;
  ok.events.push_back(
      MakeEvent("methodology_reviewed", {{"id", a.id()},
                                         {"version", std::to_string(a.version())},
                                         {"approve", a.approve() ? "true" : "false"},
                                         {"status", std::string(StatusName(status))}}));
  return ok;
}

Result<ActionOutcome> ApplyDeprecateMethodology(StateOverlay& state, const TxContext& ctx,
                                                const pb::DeprecateMethodology& a) {
  PUHUI_TRY(m, ReadMethodology(state, a.id(), a.version()));
  if (!m) return NotFound(a.id(), a.version());
  PUHUI_TRY(refused, RefuseUnlessAuthority(state, ctx, m->region(), "deprecate its methodologies"));
  if (refused) return std::move(*refused);
  if (m->status() != pb::REVIEW_STATUS_APPROVED) {
    return ActionOutcome::Fail(
        pb::RECEIPT_METHODOLOGY_NOT_FILED,
        fmt::format("methodology {} v{} is {}; only a filed version is deprecated", a.id(),
                    a.version(), StatusName(m->status())));
  }
  if (m->deprecated_from_height() != 0) {
    return ActionOutcome::Fail(
        pb::RECEIPT_ALREADY_DEPRECATED,
        fmt::format("methodology {} v{} is deprecated from height {} already", a.id(), a.version(),
                    m->deprecated_from_height()));
  }
  if (a.from_height() < ctx.block.height) {
    return ActionOutcome::Fail(
        pb::RECEIPT_DEPRECATION_IN_PAST,
        fmt::format("from_height {} is below the current height {}; deprecation never reaches back",
                    a.from_height(), ctx.block.height));
  }
  m->set_deprecated_from_height(a.from_height());
  WriteProto(state, registry_keys::Methodology(a.id(), a.version()), *m);
  ActionOutcome ok;
  ok.events.push_back(
      MakeEvent("methodology_deprecated", {{"id", a.id()},
                                           {"version", std::to_string(a.version())},
                                           {"from_height", std::to_string(a.from_height())}}));
  return ok;
}

Result<ActionOutcome> ApplyRecognizeMethodology(StateOverlay& state, const TxContext& ctx,
                                                const pb::RecognizeMethodology& a) {
  PUHUI_TRY(m, ReadMethodology(state, a.id(), a.version()));
  if (!m) return NotFound(a.id(), a.version());
  PUHUI_TRY(refused,
            RefuseUnlessAuthority(state, ctx, a.region(), "recognise methodologies for it"));
  if (refused) return std::move(*refused);
  if (m->region() == a.region()) {
    return ActionOutcome::Fail(
        pb::RECEIPT_RECOGNITION_SAME_REGION,
        fmt::format("methodology {} v{} is filed in '{}' itself; recognition is for other regions",
                    a.id(), a.version(), a.region()));
  }
  if (m->status() != pb::REVIEW_STATUS_APPROVED) {
    return ActionOutcome::Fail(
        pb::RECEIPT_METHODOLOGY_NOT_FILED,
        fmt::format("methodology {} v{} is {}; only a filed version is recognised", a.id(),
                    a.version(), StatusName(m->status())));
  }
  if (UsableInRegion(*m, a.region())) {
    return ActionOutcome::Fail(pb::RECEIPT_ALREADY_RECOGNISED,
                               fmt::format("region '{}' recognised methodology {} v{} already",
                                           a.region(), a.id(), a.version()));
  }
  if (DeprecatedAt(*m, ctx.block.height)) {
    return ActionOutcome::Fail(pb::RECEIPT_METHODOLOGY_DEPRECATED,
                               fmt::format("methodology {} v{} is deprecated since height {}",
                                           a.id(), a.version(), m->deprecated_from_height()));
  }
  m->add_recognized_in(a.region());
  WriteProto(state, registry_keys::Methodology(a.id(), a.version()), *m);
  ActionOutcome ok;
  ok.events.push_back(MakeEvent(
      "methodology_recognised",
      {{"id", a.id()}, {"version", std::to_string(a.version())}, {"region", a.region()}}));
  return ok;
}

Result<ActionOutcome> ApplySetReviewThreshold(StateOverlay& state, const TxContext& ctx,
                                              const pb::SetReviewThreshold& a) {
  PUHUI_TRY(refused, RefuseUnlessAuthority(state, ctx, a.region(), "set its review threshold"));
  if (refused) return std::move(*refused);
  WriteU64(state, registry_keys::ReviewThreshold(a.region()), a.threshold());
  ActionOutcome ok;
  ok.events.push_back(
      MakeEvent("review_threshold_set",
                {{"region", a.region()}, {"threshold", std::to_string(a.threshold())}}));
  return ok;
}

}  // namespace puhui
