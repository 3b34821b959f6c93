// Projects (项目): registered by a project owner of a region under a filed (or recognised),
// non-deprecated methodology version of the project category, then reviewed by the region's
// experts like a methodology.
#include <fmt/format.h>

#include "chain/limits.h"
#include "contracts/action.h"
#include "contracts/registry_keys.h"
#include "contracts/review.h"
#include "contracts/state_keys.h"

namespace puhui {

Result<ActionOutcome> ApplyRegisterProject(StateOverlay& state, const TxContext& ctx,
                                           const pb::RegisterProject& a) {
  Bytes key = registry_keys::Project(a.id());
  PUHUI_TRY(existing, ReadProto<pb::Project>(state, key));
  if (existing) {
    return ActionOutcome::Fail(pb::RECEIPT_ALREADY_EXISTS,
                               fmt::format("project '{}' exists already", a.id()));
  }
  PUHUI_TRY(not_owner, RefuseUnlessRole(state, ctx, a.region(), pb::ROLE_PROJECT_OWNER,
                                        "register projects there"));
  if (not_owner) return std::move(*not_owner);
  pb::MethodologyVersion m;
  PUHUI_TRY(unusable, RefuseUnusableMethodology(state, ctx, a.methodology_id(),
                                                a.methodology_version(), a.region(), &m));
  if (unusable) return std::move(*unusable);
  if (m.category() != pb::METHODOLOGY_CATEGORY_PROJECT) {
    return ActionOutcome::Fail(
        pb::RECEIPT_METHODOLOGY_CATEGORY,
        fmt::format("methodology {} v{} is for personal scenarios; a project needs a "
                    "project-category methodology",
                    a.methodology_id(), a.methodology_version()));
  }
  const std::string longest = BatchSerial(a.region(), a.methodology_id(), a.methodology_version(),
                                          a.id(), 99991231, 99991231, UINT32_MAX);
  if (longest.size() > kMaxIdBytes) {
    return ActionOutcome::Fail(
        pb::RECEIPT_SERIAL_TOO_LONG,
        fmt::format("the serials of this project's batches could reach {} characters; at most {} "
                    "(choose a shorter project id)",
                    longest.size(), kMaxIdBytes));
  }
  PUHUI_TRY(threshold, ReviewThreshold(state, a.region()));

  pb::Project p;
  p.set_id(a.id());
  p.set_region(a.region());
  p.set_owner(ToString(ctx.tx.sender.bytes));
  p.set_methodology_id(a.methodology_id());
  p.set_methodology_version(a.methodology_version());
  p.set_location_hash(a.location_hash());
  p.set_boundary_hash(a.boundary_hash());
  p.set_baseline_hash(a.baseline_hash());
  p.set_crediting_start(a.crediting_start());
  p.set_crediting_end(a.crediting_end());
  p.set_title(a.title());
  p.set_status(pb::REVIEW_STATUS_PENDING);
  p.set_registered_height(ctx.block.height);
  p.set_threshold(static_cast<uint32_t>(threshold));
  WriteProto(state, key, p);
  PUHUI_TRY(seq, AppendIndex(state, kKindProject, key));
  (void)seq;
  ActionOutcome ok;
  ok.events.push_back(MakeEvent(
      "project_registered",
      {{"id", a.id()},
       {"region", a.region()},
       {"methodology", fmt::format("{} v{}", a.methodology_id(), a.methodology_version())}}));
  return ok;
}

Result<ActionOutcome> ApplyReviewProject(StateOverlay& state, const TxContext& ctx,
                                         const pb::ReviewProject& a) {
  Bytes key = registry_keys::Project(a.id());
  PUHUI_TRY(p, ReadProto<pb::Project>(state, key));
  if (!p) {
    return ActionOutcome::Fail(pb::RECEIPT_PROJECT_NOT_FOUND,
                               fmt::format("project '{}' does not exist", a.id()));
  }
  const std::string what = fmt::format("project '{}'", a.id());
  PUHUI_TRY(refused,
            CheckReview(state, ctx, what, p->region(), p->status(), p->owner(), p->reviews()));
  if (refused) return std::move(*refused);
  PUHUI_TRY(status, RecordReview(state, ctx, p->region(), p->threshold(), a.approve(),
                                 a.comment_hash(), *p->mutable_reviews()));
  p->set_status(status);
  if (status != pb::REVIEW_STATUS_PENDING) p->set_decided_height(ctx.block.height);
  WriteProto(state, key, *p);
  ActionOutcome ok;
  ok.events.push_back(MakeEvent("project_reviewed", {{"id", a.id()},
                                                     {"approve", a.approve() ? "true" : "false"},
                                                     {"status", std::string(StatusName(status))}}));
  return ok;
}

}  // namespace puhui
