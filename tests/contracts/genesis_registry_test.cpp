// The bundled development genesis files real methodologies whose formulas are valid and give the
// figures of their sources.
#include <doctest/doctest.h>

#include "contracts/formula.h"
#include "contracts/genesis_state.h"
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
  CHECK(*ReadU64(state, registry_keys::Seq(kKindMethodology)) == 6);
}

TEST_CASE("a genesis methodology with an invalid formula is refused before the state is built") {
  auto g = LoadGenesisFile(std::string(PUHUI_SOURCE_DIR) + "/genesis/dev.json");
  REQUIRE(g.ok());
  g->methodologies[0].mutable_formula()->clear_baseline();
  CHECK(ValidateGenesisRegistry(*g).message().find("SH-METRO v1 formula") != std::string::npos);
}
