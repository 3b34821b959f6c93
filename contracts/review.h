// What methodologies, projects and offsets share: expert review with a k-of-n threshold, and
// whether a methodology version may be used in a region at a height.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "chain/keys.h"
#include "chain/status.h"
#include "contracts/action.h"
#include "contracts/state.h"
#include "puhui.pb.h"

namespace puhui {

using Reviews = google::protobuf::RepeatedPtrField<pb::Review>;

// The checks every expert review makes before it is recorded: the sender is an expert of
// `region`, the thing is pending, the sender is not its filer or owner, and has not reviewed it.
// nullopt when the review may be recorded.
Result<std::optional<ActionOutcome>> CheckReview(const StateReader& state, const TxContext& ctx,
                                                 std::string_view what, std::string_view region,
                                                 pb::ReviewStatus status, const std::string& author,
                                                 const Reviews& reviews);

// Appends the review and returns the new status: approved once approvals reach `threshold`;
// rejected once the experts of the region who have not rejected are fewer than `threshold`, so
// approval can no longer be reached; pending otherwise.
Result<pb::ReviewStatus> RecordReview(const StateReader& state, const TxContext& ctx,
                                      std::string_view region, uint32_t threshold, bool approve,
                                      const std::string& comment_hash, Reviews& reviews);

Result<std::optional<pb::MethodologyVersion>> ReadMethodology(const StateReader& state,
                                                              std::string_view id,
                                                              uint32_t version);

// Filed in `region` or recognised by it (方法学互认).
bool UsableInRegion(const pb::MethodologyVersion& m, std::string_view region);

// Deprecated at `height`.
bool DeprecatedAt(const pb::MethodologyVersion& m, uint64_t height);

// nullopt when version `version` of `id` exists, is filed, may be used in `region` and is not
// deprecated at the block's height; otherwise the refusal, naming the rule.
Result<std::optional<ActionOutcome>> RefuseUnusableMethodology(
    const StateReader& state, const TxContext& ctx, std::string_view id, uint32_t version,
    std::string_view region, pb::MethodologyVersion* out);

// nullopt when `region` exists and the sender holds `role` there; else the refusal, saying that
// only that role may `what` ("file its methodologies").
Result<std::optional<ActionOutcome>> RefuseUnlessRole(const StateReader& state,
                                                      const TxContext& ctx, std::string_view region,
                                                      pb::Role role, std::string_view what);

std::string_view StatusName(pb::ReviewStatus s);

}  // namespace puhui
