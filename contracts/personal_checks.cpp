// The stateless checks of personal carbon accounts' actions, run by DecodeTx at admission.
#include <fmt/format.h>

#include <set>

#include "chain/genesis.h"
#include "chain/limits.h"
#include "contracts/personal_keys.h"
#include "contracts/registry_checks.h"
#include "contracts/registry_keys.h"

namespace puhui {

namespace {

// Bounds that keep points arithmetic far from overflow: a kilogram earns at most a million
// points, a unit of a points-only scenario at most a million.
constexpr uint64_t kMaxPointsRate = 1'000'000;

Status Id(const std::string& v, const char* field, size_t max = kMaxRegistryIdBytes) {
  if (!IsValidId(v) || v.size() > max) {
    return InvalidArgument(
        fmt::format("{} must be 1..{} characters of [A-Za-z0-9._:-]", field, max));
  }
  return Status::Ok();
}

Status Bytes32(const std::string& v, const char* field) {
  if (v.size() != 32) return InvalidArgument(fmt::format("{} must be 32 bytes", field));
  return Status::Ok();
}

Status Text(const std::string& v, const char* field, size_t max) {
  if (v.empty() || v.size() > max) {
    return InvalidArgument(fmt::format("{} must be 1..{} bytes", field, max));
  }
  return Status::Ok();
}

Status Dates(uint32_t start, uint32_t end, const char* what) {
  if (!IsValidDate(start) || !IsValidDate(end)) {
    return InvalidArgument(fmt::format("{} dates must be real dates written YYYYMMDD", what));
  }
  if (start > end) return InvalidArgument(fmt::format("{} starts after it ends", what));
  return Status::Ok();
}

Status Month(uint32_t month) {
  uint32_t first = 0, last = 0;
  if (!MonthRange(month, &first, &last)) {
    return InvalidArgument("month must be a calendar month written YYYYMM");
  }
  return Status::Ok();
}

Status OptionalAccount(const std::string& v) {
  if (!v.empty() && v.size() != 32) {
    return InvalidArgument("account must be empty (the sender's own) or a 32-byte address");
  }
  return Status::Ok();
}

Status CheckScenario(const pb::RegisterScenario& a) {
  PUHUI_RETURN_IF_ERROR(Id(a.id(), "scenario id"));
  PUHUI_RETURN_IF_ERROR(Id(a.region(), "region", kMaxIdBytes));
  PUHUI_RETURN_IF_ERROR(Text(a.title(), "title", kMaxTitleBytes));
  PUHUI_RETURN_IF_ERROR(Text(a.activity_unit(), "activity_unit", kMaxActivityUnitBytes));
  PUHUI_RETURN_IF_ERROR(Dates(a.start_date(), a.end_date(), "the active period"));
  if (a.claim_window_days() == 0 || a.claim_window_days() > kMaxClaimWindowDays) {
    return InvalidArgument(fmt::format("claim_window_days must be 1..{}", kMaxClaimWindowDays));
  }
  if (a.providers_size() == 0 || static_cast<size_t>(a.providers_size()) > kMaxScenarioProviders) {
    return InvalidArgument(fmt::format("a scenario needs 1..{} providers", kMaxScenarioProviders));
  }
  std::set<std::string> seen;
  for (const auto& p : a.providers()) {
    if (!ParsePublicKey(AsBytes(p)).ok()) {
      return InvalidArgument("providers must be 32-byte x-only public keys");
    }
    if (!seen.insert(p).second) return InvalidArgument("a provider is listed twice");
  }
  if (a.methodology_id().empty()) {  // points-only
    if (a.methodology_version() != 0 || a.daily_cap_grams() != 0 || a.points_per_kg() != 0) {
      return InvalidArgument(
          "a points-only scenario (no methodology) takes no methodology_version, "
          "daily_cap_grams or points_per_kg");
    }
    if (a.points_per_unit() == 0 || a.points_per_unit() > kMaxPointsRate ||
        a.daily_cap_points() == 0) {
      return InvalidArgument(
          fmt::format("a points-only scenario needs points_per_unit 1..{} and daily_cap_points > 0",
                      kMaxPointsRate));
    }
    return Text(a.points_only_reason(), "points_only_reason", kMaxTitleBytes);
  }
  PUHUI_RETURN_IF_ERROR(Id(a.methodology_id(), "methodology id"));
  if (a.methodology_version() == 0) return InvalidArgument("methodology_version must be ≥ 1");
  if (a.points_per_unit() != 0 || a.daily_cap_points() != 0 || !a.points_only_reason().empty()) {
    return InvalidArgument(
        "a reduction scenario takes no points_per_unit, daily_cap_points or points_only_reason");
  }
  if (a.daily_cap_grams() == 0) return InvalidArgument("daily_cap_grams must be > 0");
  if (a.points_per_kg() > kMaxPointsRate) {
    return InvalidArgument(fmt::format("points_per_kg must be 0..{}", kMaxPointsRate));
  }
  return Status::Ok();
}

Status CheckAttest(const pb::AttestBehaviour& a) {
  if (a.records_size() == 0 || static_cast<size_t>(a.records_size()) > kMaxAttestRecords) {
    return InvalidArgument(fmt::format("a batch carries 1..{} records; it has {}",
                                       kMaxAttestRecords, a.records_size()));
  }
  std::set<std::string> ids;
  for (int i = 0; i < a.records_size(); ++i) {
    const auto& r = a.records(i);
    if (r.account().size() != 32 || r.record_id().size() != 32) {
      return InvalidArgument(fmt::format(
          "record {}: account and record_id must be 32 bytes (an address; an opaque hash)", i));
    }
    if (!IsValidId(r.scenario()) || r.scenario().size() > kMaxRegistryIdBytes) {
      return InvalidArgument(fmt::format("record {}: scenario must be a scenario id", i));
    }
    if (r.amount() == 0) return InvalidArgument(fmt::format("record {}: amount must be > 0", i));
    if (r.time_ms() == 0 || r.time_ms() > kMaxBlockTimeMs) {
      return InvalidArgument(fmt::format("record {}: time_ms must be a time after 1970", i));
    }
    if (!ids.insert(r.record_id()).second) {
      return InvalidArgument(fmt::format(
          "record {}: record_id {} appears twice in this batch; a batch counts a record once", i,
          Hex(AsBytes(r.record_id()))));
    }
  }
  return Status::Ok();
}

}  // namespace

Status CheckPersonalAction(const pb::TxBody& body, const PublicKey& sender) {
  (void)sender;
  if (body.has_register_scenario()) return CheckScenario(body.register_scenario());
  if (body.has_attest_behaviour()) return CheckAttest(body.attest_behaviour());
  if (body.has_open_personal_account()) {
    const auto& a = body.open_personal_account();
    PUHUI_RETURN_IF_ERROR(Id(a.region(), "region", kMaxIdBytes));
    return Bytes32(a.external_id_hash(), "external_id_hash (a salted SHA-256)");
  }
  if (body.has_publish_offer()) {
    const auto& a = body.publish_offer();
    PUHUI_RETURN_IF_ERROR(Id(a.id(), "offer id"));
    PUHUI_RETURN_IF_ERROR(Id(a.region(), "region", kMaxIdBytes));
    PUHUI_RETURN_IF_ERROR(Text(a.title(), "title", kMaxTitleBytes));
    if (a.points_price() == 0 || a.stock() == 0) {
      return InvalidArgument("points_price and stock must be > 0");
    }
    return Dates(a.valid_from(), a.valid_to(), "the validity");
  }
  if (body.has_redeem_offer()) {
    const auto& a = body.redeem_offer();
    PUHUI_RETURN_IF_ERROR(Id(a.offer(), "offer id"));
    PUHUI_RETURN_IF_ERROR(OptionalAccount(a.account()));
    return Bytes32(a.code_hash(), "code_hash");
  }
  if (body.has_consign_reductions()) {
    const auto& a = body.consign_reductions();
    PUHUI_RETURN_IF_ERROR(OptionalAccount(a.account()));
    PUHUI_RETURN_IF_ERROR(Id(a.scenario(), "scenario id"));
    PUHUI_RETURN_IF_ERROR(Month(a.month()));
    if (a.grams() == 0) return InvalidArgument("grams must be > 0");
    return Status::Ok();
  }
  if (body.has_issue_pooled_credits()) {
    const auto& a = body.issue_pooled_credits();
    PUHUI_RETURN_IF_ERROR(Id(a.scenario(), "scenario id"));
    return Month(a.month());
  }
  return Status::Ok();
}

}  // namespace puhui
