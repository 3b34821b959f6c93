#include "contracts/review.h"

#include <fmt/format.h>

#include <algorithm>

#include "chain/genesis.h"
#include "contracts/registry_keys.h"
#include "contracts/state_keys.h"

namespace puhui {

Result<std::optional<ActionOutcome>> CheckReview(const StateReader& state, const TxContext& ctx,
                                                 std::string_view what, std::string_view region,
                                                 pb::ReviewStatus status, const std::string& author,
                                                 const Reviews& reviews) {
  using R = std::optional<ActionOutcome>;
  PUHUI_TRY(expert, HasRole(state, region, pb::ROLE_EXPERT, ctx.tx.sender));
  if (!expert) {
    return R(ActionOutcome::Fail(
        pb::RECEIPT_PERMISSION_DENIED,
        fmt::format("sender is not an expert of region '{}'; only its experts review {}", region,
                    what)));
  }
  if (status != pb::REVIEW_STATUS_PENDING) {
    return R(ActionOutcome::Fail(
        pb::RECEIPT_REVIEW_CLOSED,
        fmt::format("{} is {}, no longer pending review", what, StatusName(status))));
  }
  const std::string sender = ToString(ctx.tx.sender.bytes);
  if (sender == author) {
    return R(ActionOutcome::Fail(pb::RECEIPT_REVIEWER_CONFLICT,
                                 fmt::format("the sender filed {}; an expert may not review "
                                             "their own filing",
                                             what)));
  }
  for (const auto& r : reviews) {
    if (r.expert() == sender) {
      return R(ActionOutcome::Fail(
          pb::RECEIPT_ALREADY_REVIEWED,
          fmt::format("the sender reviewed {} at height {}; each expert reviews once", what,
                      r.height())));
    }
  }
  return R();
}

Result<pb::ReviewStatus> RecordReview(const StateReader& state, const TxContext& ctx,
                                      std::string_view region, uint32_t threshold, bool approve,
                                      const std::string& comment_hash, Reviews& reviews) {
  PUHUI_TRY(experts, ReadU64(state, registry_keys::RoleCount(region, pb::ROLE_EXPERT)));
  pb::Review* r = reviews.Add();
  r->set_expert(ToString(ctx.tx.sender.bytes));
  r->set_approve(approve);
  r->set_comment_hash(comment_hash);
  r->set_height(ctx.block.height);
  uint64_t approvals = 0, rejections = 0;
  for (const auto& x : reviews) (x.approve() ? approvals : rejections) += 1;
  if (approvals >= threshold) return pb::REVIEW_STATUS_APPROVED;
  const uint64_t could_approve = experts > rejections ? experts - rejections : 0;
  if (could_approve < threshold) return pb::REVIEW_STATUS_REJECTED;
  return pb::REVIEW_STATUS_PENDING;
}

Result<std::optional<pb::MethodologyVersion>> ReadMethodology(const StateReader& state,
                                                              std::string_view id,
                                                              uint32_t version) {
  return ReadProto<pb::MethodologyVersion>(state, registry_keys::Methodology(id, version));
}

bool UsableInRegion(const pb::MethodologyVersion& m, std::string_view region) {
  return m.region() == region || std::find(m.recognized_in().begin(), m.recognized_in().end(),
                                           region) != m.recognized_in().end();
}

bool DeprecatedAt(const pb::MethodologyVersion& m, uint64_t height) {
  return m.deprecated_from_height() != 0 && height >= m.deprecated_from_height();
}

Result<std::optional<ActionOutcome>> RefuseUnusableMethodology(
    const StateReader& state, const TxContext& ctx, std::string_view id, uint32_t version,
    std::string_view region, pb::MethodologyVersion* out) {
  using R = std::optional<ActionOutcome>;
  PUHUI_TRY(m, ReadMethodology(state, id, version));
  if (!m) {
    return R(ActionOutcome::Fail(pb::RECEIPT_METHODOLOGY_NOT_FOUND,
                                 fmt::format("methodology {} v{} does not exist", id, version)));
  }
  if (m->status() != pb::REVIEW_STATUS_APPROVED) {
    return R(ActionOutcome::Fail(
        pb::RECEIPT_METHODOLOGY_NOT_FILED,
        fmt::format("methodology {} v{} is {}, not filed; it needs the experts' approval first", id,
                    version, StatusName(m->status()))));
  }
  if (!UsableInRegion(*m, region)) {
    return R(ActionOutcome::Fail(
        pb::RECEIPT_METHODOLOGY_NOT_IN_REGION,
        fmt::format("methodology {} v{} is filed in '{}' and not recognised by '{}'; an authority "
                    "of '{}' must recognise it first",
                    id, version, m->region(), region, region)));
  }
  if (DeprecatedAt(*m, ctx.block.height)) {
    PUHUI_TRY(latest, ReadU64(state, registry_keys::MethodologyLatest(id)));
    return R(ActionOutcome::Fail(
        pb::RECEIPT_METHODOLOGY_DEPRECATED,
        fmt::format("methodology {} v{} is deprecated since height {}; the latest version is v{}",
                    id, version, m->deprecated_from_height(), latest)));
  }
  if (out) *out = std::move(*m);
  return R();
}

Result<std::optional<ActionOutcome>> RefuseUnlessRole(const StateReader& state,
                                                      const TxContext& ctx, std::string_view region,
                                                      pb::Role role, std::string_view what) {
  using R = std::optional<ActionOutcome>;
  PUHUI_TRY(exists, RegionExists(state, region));
  if (!exists) {
    return R(ActionOutcome::Fail(pb::RECEIPT_NOT_FOUND,
                                 fmt::format("region '{}' does not exist", region)));
  }
  PUHUI_TRY(holds, HasRole(state, region, role, ctx.tx.sender));
  if (!holds) {
    return R(ActionOutcome::Fail(
        pb::RECEIPT_PERMISSION_DENIED,
        fmt::format(
            "sender is not {} {} of region '{}'; only its {}s may {}",
            role == pb::ROLE_AUTHORITY || role == pb::ROLE_OPERATOR || role == pb::ROLE_EXPERT
                ? "an"
                : "a",
            RoleName(role), region, RoleName(role), what)));
  }
  return R();
}

std::string_view StatusName(pb::ReviewStatus s) {
  switch (s) {
    case pb::REVIEW_STATUS_PENDING: return "pending";
    case pb::REVIEW_STATUS_APPROVED: return "approved";
    case pb::REVIEW_STATUS_REJECTED: return "rejected";
    case pb::REVIEW_STATUS_UNSPECIFIED:
    case pb::ReviewStatus_INT_MIN_SENTINEL_DO_NOT_USE_:
    case pb::ReviewStatus_INT_MAX_SENTINEL_DO_NOT_USE_: break;
  }
  return "unspecified";
}

}  // namespace puhui
