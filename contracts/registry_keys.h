// State keys of the registry (methodologies, projects, reports, pledges, obligations, retirements,
// governance) and the small typed helpers its handlers share. Layout (docs/formats.md):
//
//   meth/<id>/<version:010>        MethodologyVersion       methlatest/<id>      u64 latest version
//   project/<id>                   Project                  report/<id>          MonitoringReport
//   pledge/<id>                    Pledge                   retire/<id>          Retirement
//   obl/<region>/<period>/<addr>   Obligation               prop/<id>            GovernanceProposal
//   rolecount/<region>/<role>      u64 holders of a role    threshold/<region>   u64 review
//   threshold param/<name>                   u64 governed parameter   count/regions        u64
//   regions seq/<kind>                     u64 last sequence        idx/<kind>/<seq:020> the
//   record's key
//
// idx/<kind>/… lists every record of a kind in creation order, so queries can page through them
// without scanning state; seq/<kind> numbers them (and the ids PL-<n>, RT-<n>, CX-<n>).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "chain/bytes.h"
#include "chain/keys.h"
#include "chain/status.h"
#include "contracts/state.h"
#include "puhui.pb.h"

// Binds `var` to the value of a Result-returning expression, or returns its error Status.
#define PUHUI_TRY(var, expr)                              \
  auto var##_result_ = (expr);                            \
  if (!var##_result_.ok()) return var##_result_.status(); \
  auto& var = *var##_result_

namespace puhui {

// Ids a person types (methodology, project, proposal, period): short, so serials stay ≤ 128.
inline constexpr size_t kMaxRegistryIdBytes = 32;
inline constexpr size_t kMaxTitleBytes = 256;
inline constexpr size_t kMaxBeneficiaryBytes = 256;
inline constexpr size_t kMaxPurposeTextBytes = 512;
inline constexpr size_t kMaxMethodologyParams = 16;
inline constexpr uint32_t kMaxReviewThreshold = 100;
inline constexpr uint64_t kDefaultReviewThreshold = 2;

// The kinds of record the idx/ lists hold.
inline constexpr std::string_view kKindMethodology = "methodology";
inline constexpr std::string_view kKindProject = "project";
inline constexpr std::string_view kKindReport = "report";
inline constexpr std::string_view kKindBatch = "batch";
inline constexpr std::string_view kKindPledge = "pledge";
inline constexpr std::string_view kKindRetirement = "retirement";
inline constexpr std::string_view kKindProposal = "proposal";
inline constexpr std::string_view kKindObligation = "obligation";
inline constexpr std::string_view kKindRegion = "region";  // the region/<code> keys

// Network parameters that governance may change, with their allowed range.
struct GovernedParam {
  std::string_view name;
  uint64_t min = 0;
  uint64_t max = 0;
};
inline constexpr GovernedParam kGovernedParams[] = {
    {"default_review_threshold", 1, kMaxReviewThreshold},
};

}  // namespace puhui

namespace puhui::registry_keys {

Bytes Methodology(std::string_view id, uint32_t version);
Bytes MethodologyLatest(std::string_view id);
Bytes Project(std::string_view id);
Bytes Report(std::string_view id);
Bytes Pledge(std::string_view id);
Bytes Retirement(std::string_view id);
Bytes Obligation(std::string_view region, std::string_view period, const PublicKey& entity);
Bytes Proposal(std::string_view id);
Bytes RoleCount(std::string_view region, pb::Role role);
Bytes ReviewThreshold(std::string_view region);
Bytes Param(std::string_view name);
Bytes RegionCount();
Bytes Seq(std::string_view kind);
Bytes Index(std::string_view kind, uint64_t seq);

}  // namespace puhui::registry_keys

namespace puhui {

template <typename T>
Result<std::optional<T>> ReadProto(const StateReader& state, ByteView key) {
  auto raw = state.Get(key);
  if (!raw.ok()) return raw.status();
  if (!raw->has_value()) return std::optional<T>();
  T value;
  if (!value.ParseFromArray((*raw)->data(), static_cast<int>((*raw)->size()))) {
    return Corruption("a registry record does not parse");
  }
  return std::optional<T>(std::move(value));
}

// Takes the next number of `kind` (1, 2, …) and records `record_key` under it in idx/<kind>/.
Result<uint64_t> AppendIndex(StateOverlay& state, std::string_view kind, const Bytes& record_key);

// The approvals a review in `region` needs: threshold/<region>, else the governed default.
Result<uint64_t> ReviewThreshold(const StateReader& state, std::string_view region);

// Keeps rolecount/<region>/<role> in step with grants and revocations.
Status AdjustRoleCount(StateOverlay& state, std::string_view region, pb::Role role, bool grant);

// A batch's serial: <region>-<methodology>-v<version>-<project>-<start>-<end>-<sequence>, e.g.
// SH-PV-DIST-v1-SH-PV-0001-20250101-20250331-1 (Verra-style: readable, stable, unique per project).
std::string BatchSerial(std::string_view region, std::string_view methodology, uint32_t version,
                        std::string_view project, uint32_t vintage_start, uint32_t vintage_end,
                        uint32_t sequence);

// a + b, or nullopt on overflow.
std::optional<uint64_t> CheckedAdd(uint64_t a, uint64_t b);

// A calendar date written YYYYMMDD (1970..9999) that exists.
bool IsValidDate(uint32_t yyyymmdd);

PublicKey AddressOf(const std::string& raw32);  // a key DecodeTx has already checked

}  // namespace puhui
