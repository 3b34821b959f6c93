#include "contracts/formula.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <string>

using namespace puhui;

namespace {

using Activity = std::map<std::string, uint64_t>;

void AddInput(pb::Formula& f, const std::string& name, const std::string& unit,
              uint64_t max_value) {
  pb::ActivityInput* in = f.add_inputs();
  in->set_name(name);
  in->set_unit(unit);
  in->set_max_value(max_value);
}

void AddFactor(pb::Formula& f, const std::string& name, uint64_t value, uint32_t decimals,
               const std::string& unit, const std::string& source) {
  pb::Factor* fa = f.add_factors();
  fa->set_name(name);
  fa->set_value(value);
  fa->set_decimals(decimals);
  fa->set_unit(unit);
  fa->set_source(source);
}

void AddTerm(google::protobuf::RepeatedPtrField<pb::Term>* part, const std::string& input,
             std::initializer_list<std::string> factors) {
  pb::Term* t = part->Add();
  t->set_input(input);
  for (const std::string& f : factors) t->add_factors(f);
}

constexpr char kShenzhen[] = "Shenzhen low-carbon public-travel methodology (trial), 2021";
constexpr char kMee2022[] = "MEE release, Dec 2024 (China average grid factor 2022)";

// 0.5366 kgCO2/kWh = 536.6 g/kWh: value 5366 with one decimal.
void AddGridFactor(pb::Formula& f) { AddFactor(f, "grid_2022", 5366, 1, "gCO2/kWh", kMee2022); }

// "Average" method: the metro's reduction factor (baseline factor − the metro's own) per person-km.
pb::Formula MetroFormula() {
  pb::Formula f;
  AddInput(f, "metro_pkm", "person-km", 1000);
  AddFactor(f, "metro_saving", 468, 1, "gCO2/person-km", kShenzhen);  // 46.8 g
  AddTerm(f.mutable_baseline(), "metro_pkm", {"metro_saving"});
  return f;
}

pb::Formula BusAndMetroFormula() {
  pb::Formula f;
  AddInput(f, "bus_pkm", "person-km", 1000);
  AddInput(f, "metro_pkm", "person-km", 1000);
  AddFactor(f, "bus_saving", 269, 1, "gCO2/person-km", kShenzhen);    // 26.9 g
  AddFactor(f, "metro_saving", 468, 1, "gCO2/person-km", kShenzhen);  // 46.8 g
  AddTerm(f.mutable_baseline(), "bus_pkm", {"bus_saving"});
  AddTerm(f.mutable_baseline(), "metro_pkm", {"metro_saving"});
  return f;
}

// T/CSAE 235-2021: baseline = km × fuel per km × fuel factor; project = km × kWh per km × grid.
pb::Formula EvFormula() {
  pb::Formula f;
  AddInput(f, "ev_km", "km", 100'000);
  AddFactor(f, "petrol_per_km", 8, 2, "L/km", "reference petrol car, 0.08 L/km");
  AddFactor(f, "petrol", 2370, 0, "gCO2/L", "T/CSAE 235-2021 (2.37 kgCO2/L)");
  AddFactor(f, "ev_kwh_per_km", 15, 2, "kWh/km", "reference EV, 0.15 kWh/km");
  AddGridFactor(f);
  AddTerm(f.mutable_baseline(), "ev_km", {"petrol_per_km", "petrol"});
  AddTerm(f.mutable_project(), "ev_km", {"ev_kwh_per_km", "grid_2022"});
  return f;
}

// (baseline kWh − actual kWh) × grid factor, with the baseline a per-day parameter of the scheme.
pb::Formula HouseholdFormula() {
  pb::Formula f;
  AddInput(f, "days", "day", 366);
  AddInput(f, "electricity_kwh", "kWh", 100'000);
  AddFactor(f, "household_baseline", 8, 0, "kWh/day",
            "Shenzhen residential carbon-inclusive scheme, 2022");
  AddGridFactor(f);
  AddTerm(f.mutable_baseline(), "days", {"household_baseline", "grid_2022"});
  AddTerm(f.mutable_project(), "electricity_kwh", {"grid_2022"});
  return f;
}

pb::Formula PvFormula() {
  pb::Formula f;
  AddInput(f, "pv_kwh", "kWh", 1'000'000'000);
  AddGridFactor(f);
  AddTerm(f.mutable_baseline(), "pv_kwh", {"grid_2022"});
  return f;
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

void CheckInvalid(const pb::Formula& f, const std::string& expected_part) {
  Status s = ValidateFormula(f);
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK_MESSAGE(Contains(s.message(), expected_part), s.message());
}

}  // namespace

// ---------------------------------------------------------------- the DOMAIN.md methods

TEST_CASE("every example formula is valid") {
  for (const pb::Formula& f :
       {MetroFormula(), BusAndMetroFormula(), EvFormula(), HouseholdFormula(), PvFormula()}) {
    Status s = ValidateFormula(f);
    CHECK_MESSAGE(s.ok(), s.ToString());
  }
}

TEST_CASE("a 12 km metro trip saves 561 g at 46.8 g per person-km, rounded down") {
  // 12 × 46.8 = 561.6 g → 561 g.
  auto r = EvaluateFormula(MetroFormula(), {{"metro_pkm", 12}});
  REQUIRE(r.ok());
  CHECK(r->baseline_grams == 561);
  CHECK(r->project_grams == 0);
  CHECK(r->leakage_grams == 0);
  CHECK(r->reduction_grams == 561);
}

TEST_CASE("a sum of terms is rounded down once, not term by term") {
  // Bus 3 × 26.9 = 80.7 g, metro 3 × 46.8 = 140.4 g; exact sum 221.1 g → 221 g.
  // Rounding each term first would give 80 + 140 = 220 g.
  auto r = EvaluateFormula(BusAndMetroFormula(), {{"bus_pkm", 3}, {"metro_pkm", 3}});
  REQUIRE(r.ok());
  CHECK(r->baseline_grams == 221);
  CHECK(r->reduction_grams == 221);
}

TEST_CASE("100 km in an EV saves the petrol car's emissions less the grid's") {
  // Baseline: 100 km × 0.08 L/km × 2370 g/L = 18,960 g.
  // Project:  100 km × 0.15 kWh/km × 536.6 g/kWh = 8,049 g.
  // Reduction: 18,960 − 8,049 = 10,911 g.
  auto r = EvaluateFormula(EvFormula(), {{"ev_km", 100}});
  REQUIRE(r.ok());
  CHECK(r->baseline_grams == 18'960);
  CHECK(r->project_grams == 8'049);
  CHECK(r->reduction_grams == 10'911);
}

TEST_CASE("the reduction is rounded from the exact difference, not from the rounded parts") {
  // 2 km: baseline 2 × 0.08 × 2370 = 379.2 g, project 2 × 0.15 × 536.6 = 160.98 g.
  // Exact reduction 218.22 g → 218 g; the rounded parts would suggest 379 − 160 = 219 g.
  auto r = EvaluateFormula(EvFormula(), {{"ev_km", 2}});
  REQUIRE(r.ok());
  CHECK(r->baseline_grams == 379);
  CHECK(r->project_grams == 160);
  CHECK(r->reduction_grams == 218);

  // 37 km: 7,015.2 g − 2,978.13 g = 4,037.07 g → 4,037 g.
  auto r37 = EvaluateFormula(EvFormula(), {{"ev_km", 37}});
  REQUIRE(r37.ok());
  CHECK(r37->baseline_grams == 7'015);
  CHECK(r37->project_grams == 2'978);
  CHECK(r37->reduction_grams == 4'037);
}

TEST_CASE("a household using 200 kWh in 30 days against 8 kWh a day saves 40 kWh of grid power") {
  // Baseline: 30 days × 8 kWh/day × 536.6 g/kWh = 128,784 g.
  // Project:  200 kWh × 536.6 g/kWh = 107,320 g.
  // Reduction: (240 − 200) kWh × 536.6 g/kWh = 21,464 g.
  auto r = EvaluateFormula(HouseholdFormula(), {{"days", 30}, {"electricity_kwh", 200}});
  REQUIRE(r.ok());
  CHECK(r->baseline_grams == 128'784);
  CHECK(r->project_grams == 107'320);
  CHECK(r->reduction_grams == 21'464);
}

TEST_CASE("1,000 kWh of distributed PV displaces 536,600 g of grid emissions") {
  // 1,000 kWh × 536.6 g/kWh = 536,600 g.
  auto r = EvaluateFormula(PvFormula(), {{"pv_kwh", 1000}});
  REQUIRE(r.ok());
  CHECK(r->baseline_grams == 536'600);
  CHECK(r->reduction_grams == 536'600);
}

TEST_CASE("leakage is subtracted from the reduction") {
  pb::Formula f = PvFormula();
  AddFactor(f, "leak", 5, 1, "gCO2/kWh", "illustrative leakage, 0.5 g/kWh");
  AddTerm(f.mutable_leakage(), "pv_kwh", {"leak"});
  // Baseline 536,600 g; leakage 1,000 × 0.5 = 500 g; reduction 536,100 g.
  auto r = EvaluateFormula(f, {{"pv_kwh", 1000}});
  REQUIRE(r.ok());
  CHECK(r->leakage_grams == 500);
  CHECK(r->reduction_grams == 536'100);
}

TEST_CASE("a reduction of exactly zero is not an error") {
  // 240 kWh used against a 30 × 8 = 240 kWh baseline.
  auto r = EvaluateFormula(HouseholdFormula(), {{"days", 30}, {"electricity_kwh", 240}});
  REQUIRE(r.ok());
  CHECK(r->baseline_grams == r->project_grams);
  CHECK(r->reduction_grams == 0);
}

TEST_CASE("a negative reduction is refused with both figures in the message") {
  // 250 kWh × 536.6 = 134,150 g against a baseline of 128,784 g.
  auto r = EvaluateFormula(HouseholdFormula(), {{"days", 30}, {"electricity_kwh", 250}});
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kFailedPrecondition);
  CHECK_MESSAGE(Contains(r.status().message(), "134150 g"), r.status().message());
  CHECK_MESSAGE(Contains(r.status().message(), "128784 g"), r.status().message());
  CHECK(Contains(r.status().message(), "no credits"));
}

TEST_CASE("a negative reduction of a fraction of a gram is refused with exact figures") {
  // Baseline 1 km × 189.6 g/km; project 1 km × 189.65 g/km exceeds it by 0.05 g, though both
  // round down to 189 g.
  pb::Formula f;
  AddInput(f, "km", "km", 10);
  AddFactor(f, "base", 1896, 1, "gCO2/km", "test");
  AddFactor(f, "proj", 18965, 2, "gCO2/km", "test");
  AddTerm(f.mutable_baseline(), "km", {"base"});
  AddTerm(f.mutable_project(), "km", {"proj"});
  auto r = EvaluateFormula(f, {{"km", 1}});
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kFailedPrecondition);
  CHECK_MESSAGE(Contains(r.status().message(), "189.65 g"), r.status().message());
  CHECK_MESSAGE(Contains(r.status().message(), "189.6 g"), r.status().message());
}

// ---------------------------------------------------------------- activity data

TEST_CASE("a missing activity input is refused by name") {
  auto r = EvaluateFormula(HouseholdFormula(), {{"days", 30}});
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kInvalidArgument);
  CHECK(Contains(r.status().message(), "'electricity_kwh'"));
  CHECK(Contains(r.status().message(), "missing"));
}

TEST_CASE("an activity the formula does not declare is refused by name") {
  auto r = EvaluateFormula(MetroFormula(), {{"metro_pkm", 12}, {"bike_km", 3}});
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kInvalidArgument);
  CHECK(Contains(r.status().message(), "'bike_km'"));
}

TEST_CASE("an unknown activity name that is not an id is not echoed") {
  auto r = EvaluateFormula(MetroFormula(), {{"metro_pkm", 12}, {std::string(500, '/'), 3}});
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kInvalidArgument);
  CHECK(r.status().message().size() < 200);
}

TEST_CASE("an activity above its input's maximum is refused, the maximum itself is accepted") {
  auto over = EvaluateFormula(MetroFormula(), {{"metro_pkm", 1001}});
  REQUIRE_FALSE(over.ok());
  CHECK(over.status().code() == StatusCode::kInvalidArgument);
  CHECK(Contains(over.status().message(), "'metro_pkm'"));
  CHECK(Contains(over.status().message(), "1001"));
  CHECK(Contains(over.status().message(), "1000"));

  auto at_max = EvaluateFormula(MetroFormula(), {{"metro_pkm", 1000}});
  REQUIRE(at_max.ok());
  CHECK(at_max->reduction_grams == 46'800);  // 1000 × 46.8
}

TEST_CASE("an activity of zero gives zero grams") {
  auto r = EvaluateFormula(PvFormula(), {{"pv_kwh", 0}});
  REQUIRE(r.ok());
  CHECK(r->reduction_grams == 0);
}

// ---------------------------------------------------------------- overflow

TEST_CASE("a huge activity times huge factors overflows into an error, not a wrapped value") {
  pb::Formula f;
  AddInput(f, "x", "unit", UINT64_MAX);
  AddFactor(f, "a", UINT64_MAX, 0, "g/unit", "test");
  AddFactor(f, "b", UINT64_MAX, 0, "1", "test");
  AddTerm(f.mutable_baseline(), "x", {"a", "b"});
  auto r = EvaluateFormula(f, {{"x", UINT64_MAX}});
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kInvalidArgument);
  CHECK_MESSAGE(Contains(r.status().message(), "baseline[0] overflows"), r.status().message());
  CHECK(Contains(r.status().message(), "'x'"));
}

TEST_CASE("a part beyond uint64 grams is an error") {
  // (2^64 − 1) × 2 fits 128 bits but not the ledger's uint64 grams.
  pb::Formula f;
  AddInput(f, "x", "unit", UINT64_MAX);
  AddFactor(f, "two", 2, 0, "g/unit", "test");
  AddTerm(f.mutable_baseline(), "x", {"two"});
  auto r = EvaluateFormula(f, {{"x", UINT64_MAX}});
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kInvalidArgument);
  CHECK(Contains(r.status().message(), "baseline emissions exceed"));
}

TEST_CASE("a sum of terms that overflows 128 bits is an error") {
  // Each term is (2^64 − 1)^2 ≈ 2^128 − 2^65: it fits, but two of them do not.
  pb::Formula f;
  AddInput(f, "x", "unit", UINT64_MAX);
  AddFactor(f, "big", UINT64_MAX, 0, "g/unit", "test");
  AddTerm(f.mutable_baseline(), "x", {"big"});
  AddTerm(f.mutable_baseline(), "x", {"big"});
  auto r = EvaluateFormula(f, {{"x", UINT64_MAX}});
  REQUIRE_FALSE(r.ok());
  CHECK(Contains(r.status().message(), "baseline[1] overflows"));
}

TEST_CASE("the largest quantity, 2^64 - 1 g, is reached exactly at 18 decimals") {
  // A factor of exactly 1 g written as 10^18 × 10^-18: the common denominator is 10^18, so the
  // exact sum is (2^64 − 1) × 10^18 over 10^18, within 128 bits, and rounds to 2^64 − 1 g.
  pb::Formula f;
  AddInput(f, "x", "g", UINT64_MAX);
  AddFactor(f, "one", 1'000'000'000'000'000'000ULL, 18, "g/g", "test");
  AddTerm(f.mutable_baseline(), "x", {"one"});
  auto r = EvaluateFormula(f, {{"x", UINT64_MAX}});
  REQUIRE(r.ok());
  CHECK(r->baseline_grams == UINT64_MAX);
  CHECK(r->reduction_grams == UINT64_MAX);
}

TEST_CASE("a project and leakage together beyond 2^64 g are reported, not wrapped") {
  pb::Formula f;
  AddInput(f, "x", "unit", UINT64_MAX);
  AddFactor(f, "one", 1, 0, "g/unit", "test");
  AddTerm(f.mutable_baseline(), "x", {"one"});
  AddTerm(f.mutable_project(), "x", {"one"});
  AddTerm(f.mutable_leakage(), "x", {"one"});
  auto r = EvaluateFormula(f, {{"x", UINT64_MAX}});
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kFailedPrecondition);
  CHECK_MESSAGE(Contains(r.status().message(), "36893488147419103230 g"), r.status().message());
}

// ---------------------------------------------------------------- determinism

TEST_CASE("the same formula and activity give identical results every time") {
  const pb::Formula f = EvFormula();
  const Activity a = {{"ev_km", 37}};
  auto first = EvaluateFormula(f, a);
  auto second = EvaluateFormula(f, a);
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  CHECK(*first == *second);

  // The formula as it travels in a transaction and is read back from state evaluates the same.
  pb::Formula decoded;
  REQUIRE(decoded.ParseFromString(f.SerializeAsString()));
  auto third = EvaluateFormula(decoded, a);
  REQUIRE(third.ok());
  CHECK(*third == *first);
}

TEST_CASE("the order of terms does not change the result") {
  pb::Formula f = BusAndMetroFormula();
  pb::Formula reversed = f;
  std::reverse(reversed.mutable_baseline()->begin(), reversed.mutable_baseline()->end());
  std::reverse(reversed.mutable_inputs()->begin(), reversed.mutable_inputs()->end());
  const Activity a = {{"bus_pkm", 7}, {"metro_pkm", 11}};
  auto r1 = EvaluateFormula(f, a);
  auto r2 = EvaluateFormula(reversed, a);
  REQUIRE(r1.ok());
  REQUIRE(r2.ok());
  CHECK(*r1 == *r2);
  CHECK(r1->reduction_grams == 703);  // 7 × 26.9 + 11 × 46.8 = 188.3 + 514.8 = 703.1
}

// ---------------------------------------------------------------- validation rules

TEST_CASE("a formula without a baseline term is invalid") {
  pb::Formula f = EvFormula();
  f.clear_baseline();
  CheckInvalid(f, "no baseline term");
  CheckInvalid(pb::Formula{}, "no baseline term");
}

TEST_CASE("names must be ids") {
  pb::Formula f = MetroFormula();
  f.mutable_inputs(0)->set_name("metro km");
  CheckInvalid(f, "inputs[0]: name is not an id");

  pb::Formula g = MetroFormula();
  g.mutable_factors(0)->set_name("");
  CheckInvalid(g, "factors[0]: name is not an id");
}

TEST_CASE("names are unique across inputs and factors") {
  pb::Formula f = MetroFormula();
  AddInput(f, "metro_pkm", "person-km", 10);
  CheckInvalid(f, "'metro_pkm' is declared twice");

  pb::Formula g = MetroFormula();
  AddFactor(g, "metro_saving", 1, 0, "g", "test");
  CheckInvalid(g, "'metro_saving' is declared twice");

  pb::Formula h = MetroFormula();
  AddFactor(h, "metro_pkm", 1, 0, "g", "test");
  CheckInvalid(h, "'metro_pkm' is declared twice");
}

TEST_CASE("inputs need a unit and a maximum of at least 1") {
  pb::Formula f = MetroFormula();
  f.mutable_inputs(0)->set_unit("");
  CheckInvalid(f, "the unit of input 'metro_pkm' is empty");

  pb::Formula g = MetroFormula();
  g.mutable_inputs(0)->set_max_value(0);
  CheckInvalid(g, "max_value 0");

  pb::Formula h = MetroFormula();
  h.mutable_inputs(0)->set_unit(std::string(kMaxUnitBytes + 1, 'k'));
  CheckInvalid(h, "the unit of input 'metro_pkm' is 65 bytes");
}

TEST_CASE("factors need a unit, a source and at most 18 decimals") {
  pb::Formula f = MetroFormula();
  f.mutable_factors(0)->set_unit("");
  CheckInvalid(f, "the unit of factor 'metro_saving' is empty");

  pb::Formula g = MetroFormula();
  g.mutable_factors(0)->set_source("");
  CheckInvalid(g, "the source of factor 'metro_saving' is empty");

  pb::Formula h = MetroFormula();
  h.mutable_factors(0)->set_source(std::string(kMaxFactorSourceBytes + 1, 's'));
  CheckInvalid(h, "the source of factor 'metro_saving' is 257 bytes");

  pb::Formula i = MetroFormula();
  i.mutable_factors(0)->set_decimals(19);
  CheckInvalid(i, "factor 'metro_saving' has 19 decimals; at most 18");

  pb::Formula j = MetroFormula();
  j.mutable_factors(0)->set_decimals(18);
  CHECK(ValidateFormula(j).ok());
}

TEST_CASE("a term's factors have at most 18 decimals together") {
  pb::Formula f;
  AddInput(f, "x", "unit", 10);
  AddFactor(f, "a", 1, 10, "g/unit", "test");
  AddFactor(f, "b", 1, 9, "1", "test");
  AddTerm(f.mutable_baseline(), "x", {"a", "b"});
  CheckInvalid(f, "baseline[0]: its factors have 19 decimals together");

  f.mutable_factors(1)->set_decimals(8);
  CHECK(ValidateFormula(f).ok());
}

TEST_CASE("every term names a declared input and declared factors") {
  pb::Formula f = EvFormula();
  f.mutable_project(0)->set_input("ev_miles");
  CheckInvalid(f, "project[0] names input 'ev_miles', which the formula does not declare");

  pb::Formula g = EvFormula();
  g.mutable_project(0)->set_factors(1, "grid_2021");
  CheckInvalid(g, "project[0] names factor 'grid_2021', which the formula does not declare");

  pb::Formula h = PvFormula();
  AddTerm(h.mutable_leakage(), "pv_kwh", {"nope"});
  CheckInvalid(h, "leakage[0] names factor 'nope'");
}

TEST_CASE("a term has one to four factors") {
  pb::Formula f = PvFormula();
  f.mutable_baseline(0)->clear_factors();
  CheckInvalid(f, "baseline[0] has 0 factors; a term has 1 to 4");

  pb::Formula g = PvFormula();
  for (int i = 0; i < 4; ++i) g.mutable_baseline(0)->add_factors("grid_2022");
  CheckInvalid(g, "baseline[0] has 5 factors");
}

TEST_CASE("an input that no term uses is invalid") {
  pb::Formula f = PvFormula();
  AddInput(f, "pv_hours", "h", 10);
  CheckInvalid(f, "input 'pv_hours' is used by no term");
}

TEST_CASE("a factor that no term uses is allowed, as a documented alternative") {
  pb::Formula f = EvFormula();
  AddFactor(f, "diesel", 2600, 0, "gCO2/L", "T/CSAE 235-2021 (2.60 kgCO2/L)");
  CHECK(ValidateFormula(f).ok());
}

TEST_CASE("counts of inputs, factors and terms are bounded") {
  pb::Formula f = PvFormula();
  for (size_t i = 0; i < kMaxFormulaInputs; ++i) AddInput(f, "in" + std::to_string(i), "u", 1);
  CheckInvalid(f, "33 inputs; at most 32");

  pb::Formula g = PvFormula();
  for (size_t i = 0; i < kMaxFormulaFactors; ++i) {
    AddFactor(g, "f" + std::to_string(i), 1, 0, "u", "test");
  }
  CheckInvalid(g, "65 factors; at most 64");

  pb::Formula h = PvFormula();
  for (size_t i = 0; i < kMaxFormulaTerms; ++i)
    AddTerm(h.mutable_project(), "pv_kwh", {"grid_2022"});
  CheckInvalid(h, "65 terms; at most 64");
}

TEST_CASE("evaluation refuses an invalid formula before looking at activity") {
  pb::Formula f = MetroFormula();
  f.mutable_factors(0)->set_decimals(40);
  auto r = EvaluateFormula(f, {{"metro_pkm", 12}});
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kInvalidArgument);
  CHECK(Contains(r.status().message(), "decimals"));
}
