// The bundled development genesis files real methodologies whose formulas are valid and give the
// figures of their sources.
#include <doctest/doctest.h>

#include "contracts/formula.h"
#include "contracts/genesis_state.h"
#include "contracts/personal_keys.h"
#include "contracts/registry_keys.h"
#include "contracts/review.h"
#include "contracts/state_keys.h"
#include "test_util.h"

using namespace puhui;

TEST_CASE(
    "dev.json's methodologies are valid, filed at genesis, and compute their sources' figures") {
  auto g = LoadGenesisFile(std::string(PUHUI_SOURCE_DIR) + "/genesis/dev.json");
  REQUIRE(g.ok());
  CHECK(ValidateGenesisRegistry(*g).ok());
  MemoryState state;
  state.Apply(GenesisState(*g));
  auto metro = ReadMethodology(state, "SH-METRO", 1);
  REQUIRE(metro.ok());
  REQUIRE(metro->has_value());
  CHECK((*metro)->status() == pb::REVIEW_STATUS_APPROVED);
  // metro 46.8 g/person-km: 12 km → 561 g
  CHECK(EvaluateFormula((*metro)->formula(), {{"metro_pkm", 12}})->reduction_grams == 561);
  auto home = ReadMethodology(state, "SH-HOME-ELEC", 1);
  // 30 days at 8 kWh/day baseline, 200 kWh used, 536.6 g/kWh → 21,464 g
  CHECK(EvaluateFormula((*home)->formula(), {{"days", 30}, {"kwh_used", 200}})->reduction_grams ==
        21464);
  auto ev = ReadMethodology(state, "SH-EV", 1);
  CHECK(EvaluateFormula((*ev)->formula(), {{"ev_km", 100}})->reduction_grams == 10911);
  CHECK(*ReadU64(state, registry_keys::Seq(kKindMethodology)) == 9);
}

TEST_CASE("a genesis methodology with an invalid formula is refused before the state is built") {
  auto g = LoadGenesisFile(std::string(PUHUI_SOURCE_DIR) + "/genesis/dev.json");
  REQUIRE(g.ok());
  g->methodologies[0].mutable_formula()->clear_baseline();
  CHECK(ValidateGenesisRegistry(*g).message().find("SH-METRO v1 formula") != std::string::npos);
}

TEST_CASE("dev.json registers eight personal scenarios, points-only where no factor is published") {
  auto g = LoadGenesisFile(std::string(PUHUI_SOURCE_DIR) + "/genesis/dev.json");
  REQUIRE(g.ok());
  REQUIRE(ValidateGenesisRegistry(*g).ok());
  MemoryState state;
  state.Apply(GenesisState(*g));
  CHECK(*ReadU64(state, personal_keys::Seq(kKindScenario)) == 8);
  int points_only = 0;
  for (const auto& r : g->scenarios) {
    auto s = ReadProto<pb::Scenario>(state, personal_keys::Scenario(r.id()));
    REQUIRE(s.ok());
    REQUIRE(s->has_value());
    if ((*s)->points_only()) {
      ++points_only;
      CHECK((*s)->points_only_reason().find("no published") != std::string::npos);
    }
  }
  CHECK(points_only == 2);
  // walking 0.02 g/step: 10,000 steps → 200 g
  auto walk = ReadMethodology(state, "SH-WALK", 1);
  CHECK(EvaluateFormula((*walk)->formula(), {{"steps", 10000}})->reduction_grams == 200);
  // EV charging: 10 kWh × (6.67 km/kWh × 0.08 L/km × 2,370 g/L − 536.6 g/kWh) → 7,280 g
  auto ev = ReadMethodology(state, "SH-EV-CHARGE", 1);
  CHECK(EvaluateFormula((*ev)->formula(), {{"charged_kwh", 10}})->reduction_grams == 7280);
  auto home = ReadMethodology(state, "SH-HOME-SAVE", 1);
  CHECK(EvaluateFormula((*home)->formula(), {{"kwh_saved", 5}})->reduction_grams == 2683);
}

TEST_CASE(
    "a genesis scenario under a project methodology or with a provider lacking the role is "
    "refused") {
  auto g = LoadGenesisFile(std::string(PUHUI_SOURCE_DIR) + "/genesis/dev.json");
  REQUIRE(g.ok());
  auto bad = *g;
  bad.scenarios[0].set_methodology_id("SH-PV");
  CHECK(ValidateGenesisRegistry(bad).message().find("not of the personal category") !=
        std::string::npos);
  bad = *g;
  bad.scenarios[0].set_providers(0, bad.accounts[0].address.bytes.data(), 32);
  CHECK(ValidateGenesisRegistry(bad).message().find("is not a data_provider account") !=
        std::string::npos);
  bad = *g;
  bad.scenarios[0].set_daily_cap_grams(0);
  CHECK(ValidateGenesisRegistry(bad).message().find("daily_cap_grams must be > 0") !=
        std::string::npos);
}
