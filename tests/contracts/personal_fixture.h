// A network for the personal-account tests: the registry fixture's accounts plus data providers
// "prov" and "prov2" and merchant "shop" in SH, provider "jsprov" in JS; a filed personal
// methodology METRO (person-km × 46.8 g, at most 200 km) and two scenarios of SH: TRIP (METRO,
// cap 1,000 g/day, 1,000 points/kg, providers prov and jsprov-less) and SORT (points-only, 5 points
// a drop-off, cap 20 points/day), both attested by "prov". Blocks are at 2026-01-01T00:00Z plus
// the height in ms.
#pragma once

#include <nlohmann/json.hpp>

#include "contracts/personal_keys.h"
#include "registry_fixture.h"

namespace puhui::testing {

inline constexpr uint64_t kDay0Ms = 1'767'225'600'000;  // 2026-01-01T00:00:00Z
inline constexpr uint64_t kHourMs = 3'600'000;

inline std::string PersonalGenesisJson() {
  auto g = nlohmann::json::parse(RegistryGenesisJson());
  auto role = [](const char* r, const char* region) {
    return nlohmann::json{{"role", r}, {"region", region}};
  };
  g["accounts"].push_back({{"address", Addr("prov")}, {"roles", {role("data_provider", "SH")}}});
  g["accounts"].push_back({{"address", Addr("prov2")}, {"roles", {role("data_provider", "SH")}}});
  g["accounts"].push_back({{"address", Addr("jsprov")}, {"roles", {role("data_provider", "JS")}}});
  g["accounts"].push_back({{"address", Addr("shop")}, {"roles", {role("merchant", "SH")}}});
  g["methodologies"] = nlohmann::json::parse(R"([
    {"id": "METRO", "version": 1, "title": "Metro", "category": "personal", "region": "SH",
     "document_hash": "de8cf048272e748b246565d489d483cba2a440013af7eb92587a02993cb2e5ab",
     "formula": {"inputs": [{"name": "pkm", "unit": "person-km", "max_value": 200}],
                 "factors": [{"name": "saving", "value": 468, "decimals": 1, "unit": "g/pkm",
                              "source": "Shenzhen 2021"}],
                 "baseline": [{"input": "pkm", "factors": ["saving"]}]}},
    {"id": "PV", "version": 1, "title": "PV", "category": "project", "region": "SH",
     "document_hash": "de8cf048272e748b246565d489d483cba2a440013af7eb92587a02993cb2e5ab",
     "formula": {"inputs": [{"name": "kwh", "unit": "kWh", "max_value": 2000}],
                 "factors": [{"name": "grid", "value": 5366, "decimals": 1, "unit": "g/kWh",
                              "source": "MEE 2024"}],
                 "baseline": [{"input": "kwh", "factors": ["grid"]}]}}])");
  g["scenarios"] = {{{"id", "TRIP"},
                     {"region", "SH"},
                     {"title", "Metro trips"},
                     {"methodology_id", "METRO"},
                     {"methodology_version", 1},
                     {"providers", {Addr("prov")}},
                     {"activity_unit", "person-km"},
                     {"daily_cap_grams", 1000},
                     {"points_per_kg", 1000},
                     {"start_date", 20251201},
                     {"end_date", 20261231},
                     {"claim_window_days", 7}},
                    {{"id", "SORT"},
                     {"region", "SH"},
                     {"title", "Garbage sorting"},
                     {"providers", {Addr("prov")}},
                     {"activity_unit", "drop-offs"},
                     {"points_per_unit", 5},
                     {"daily_cap_points", 20},
                     {"points_only_reason", "no published factor"},
                     {"start_date", 20251201},
                     {"end_date", 20261231},
                     {"claim_window_days", 7}}};
  return g.dump();
}

// One behaviour record: `who`'s address, the record id hash of `id`, at `time_ms`.
inline pb::BehaviourRecord Rec(const std::string& who, const std::string& id,
                               const std::string& scenario, uint64_t amount,
                               uint64_t time_ms = kDay0Ms - kHourMs) {
  pb::BehaviourRecord r;
  r.set_account(RawAddr(who));
  r.set_record_id(HashOf("record " + id));
  r.set_scenario(scenario);
  r.set_amount(amount);
  r.set_time_ms(time_ms);
  return r;
}

inline std::function<void(pb::TxBody&)> Attest(std::vector<pb::BehaviourRecord> records) {
  return [records = std::move(records)](pb::TxBody& b) {
    b.mutable_attest_behaviour();  // set even when empty
    for (const auto& r : records) *b.mutable_attest_behaviour()->add_records() = r;
  };
}

struct Personal : Registry {
  Personal() : Registry(PersonalGenesisJson()) {}

  pb::PersonalAccount Account(const std::string& who) {
    auto a = Read<pb::PersonalAccount>(personal_keys::Account(AsBytes(RawAddr(who))));
    REQUIRE(a.has_value());
    return *a;
  }
  pb::PersonalTotals Totals() { return *ReadTotals(state); }
  // The attestation event's attribute `key` of a receipt.
  static std::string Attr(const pb::Receipt& r, const std::string& key) {
    for (const auto& e : r.events()) {
      for (const auto& a : e.attributes()) {
        if (a.key() == key) return a.value();
      }
    }
    return "";
  }
};

}  // namespace puhui::testing
