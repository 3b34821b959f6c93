#include "chain/genesis_scenario.h"

#include <fmt/format.h>

#include <string_view>

#include "chain/bytes.h"

namespace puhui {

namespace {

using nlohmann::json;

Status Fail(const std::string& where, const std::string& what) {
  return InvalidArgument(fmt::format("genesis: {} {}", where, what));
}

constexpr std::string_view kStringFields[] = {
    "id", "region", "title", "methodology_id", "activity_unit", "points_only_reason"};
constexpr std::string_view kUintFields[] = {
    "methodology_version", "daily_cap_grams", "points_per_kg", "points_per_unit",
    "daily_cap_points",    "start_date",      "end_date",      "claim_window_days"};

bool In(std::string_view key, std::span<const std::string_view> names) {
  for (auto n : names) {
    if (n == key) return true;
  }
  return false;
}

}  // namespace

Status ParseGenesisScenarios(const json& list, const std::set<std::string>& region_codes,
                             std::vector<pb::RegisterScenario>* out) {
  if (!list.is_array()) return InvalidArgument("genesis: field 'scenarios' must be an array");
  std::set<std::string> ids;
  for (size_t i = 0; i < list.size(); ++i) {
    const json& s = list[i];
    const std::string where = fmt::format("scenarios[{}]", i);
    if (!s.is_object()) return Fail(where, "must be an object");
    pb::RegisterScenario r;
    const auto* d = r.GetDescriptor();
    const auto* refl = r.GetReflection();
    for (const auto& [key, value] : s.items()) {
      if (In(key, kStringFields)) {
        if (!value.is_string()) return Fail(where, fmt::format("field '{}' must be a string", key));
        refl->SetString(&r, d->FindFieldByName(key), value.get<std::string>());
      } else if (In(key, kUintFields)) {
        if (!value.is_number_unsigned()) {
          return Fail(where, fmt::format("field '{}' must be a non-negative integer", key));
        }
        const auto* f = d->FindFieldByName(key);
        const uint64_t v = value.get<uint64_t>();
        if (f->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_UINT32) {
          if (v > UINT32_MAX) return Fail(where, fmt::format("field '{}' is too large", key));
          refl->SetUInt32(&r, f, static_cast<uint32_t>(v));
        } else {
          refl->SetUInt64(&r, f, v);
        }
      } else if (key == "providers") {
        if (!value.is_array()) return Fail(where, "field 'providers' must be an array");
        for (const json& p : value) {
          auto h = p.is_string() ? Hash32FromHex(p.get<std::string>()) : std::nullopt;
          if (!h) return Fail(where, "providers must be 64-hex-character addresses");
          r.add_providers(ToString(ByteView(*h)));
        }
      } else {
        return Fail(where, fmt::format("has unknown field '{}'", key));
      }
    }
    if (!region_codes.count(r.region())) {
      return Fail(where, fmt::format("names unknown region '{}'", r.region()));
    }
    if (!ids.insert(r.id()).second) return Fail(where, fmt::format("repeats id '{}'", r.id()));
    out->push_back(std::move(r));
  }
  return Status::Ok();
}

}  // namespace puhui
