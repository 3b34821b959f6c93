// Seeded runs of the cluster simulator (cluster.h). Each scenario runs a few dozen seeds by
// default;
//   PUHUI_SIM_SEEDS=N        runs N seeds per scenario
//   PUHUI_SIM_FIRST_SEED=S   starts at seed S (with PUHUI_SIM_SEEDS=1: reproduce one run)
//   PUHUI_SIM_TRACE=1        prints each run's commits, network changes and failures
#include <doctest/doctest.h>

#include <cstdlib>
#include <string>

#include "cluster.h"

using namespace puhui::sim;

namespace {

uint64_t EnvOr(const char* name, uint64_t fallback) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return fallback;
  return std::strtoull(value, nullptr, 10);
}

constexpr uint64_t kDefaultSeeds = 60;

void RunSeeds(const Scenario& scenario) {
  const uint64_t first = EnvOr("PUHUI_SIM_FIRST_SEED", 1);
  const uint64_t count = EnvOr("PUHUI_SIM_SEEDS", kDefaultSeeds);
  const bool trace = EnvOr("PUHUI_SIM_TRACE", 0) != 0;
  uint64_t passed = 0;
  uint64_t max_height = 0;
  uint32_t max_round = 0;
  uint64_t evidence = 0;
  uint64_t faults = 0;
  uint64_t slowest_recovery_ms = 0;
  for (uint64_t seed = first; seed < first + count; ++seed) {
    Outcome outcome = Run(scenario, seed, trace);
    if (trace) MESSAGE(outcome.Summary());
    if (!outcome.ok()) {
      FAIL(scenario.name << ": " << outcome.Summary() << "\n  reproduce: PUHUI_SIM_FIRST_SEED="
                         << seed << " PUHUI_SIM_SEEDS=1 PUHUI_SIM_TRACE=1 puhui_sim_tests -tc='"
                         << scenario.name << "'");
    }
    ++passed;
    max_height = std::max(max_height, outcome.max_height);
    max_round = std::max(max_round, outcome.max_round);
    evidence += outcome.evidence;
    faults += outcome.faults_dropped;
    slowest_recovery_ms = std::max(slowest_recovery_ms, outcome.end_ms - outcome.heal_ms);
  }
  MESSAGE(scenario.name << ": " << passed << " of " << count << " seeds passed (from seed " << first
                        << "); highest height " << max_height << ", highest round " << max_round
                        << ", evidence " << evidence << ", faulty inputs dropped " << faults
                        << ", slowest recovery after healing " << slowest_recovery_ms << " ms");
}

Scenario FourValidators(const std::string& name, Behaviour fourth) {
  Scenario s;
  s.name = name;
  s.powers = {10, 10, 10, 10};
  s.behaviours = {Behaviour::kHonest, Behaviour::kHonest, Behaviour::kHonest, fourth};
  return s;
}

}  // namespace

TEST_CASE("4 honest validators stay safe on a lossy, partitioned network and recover") {
  RunSeeds(
      FourValidators("4 honest validators stay safe on a lossy, partitioned network and recover",
                     Behaviour::kHonest));
}

TEST_CASE("3 honest validators carry on past a silent fourth") {
  RunSeeds(FourValidators("3 honest validators carry on past a silent fourth", Behaviour::kSilent));
}

TEST_CASE("an equivocating validator cannot split 3 honest ones and is caught") {
  RunSeeds(FourValidators("an equivocating validator cannot split 3 honest ones and is caught",
                          Behaviour::kEquivocate));
}

TEST_CASE("garbage from one validator is dropped and blamed on it alone") {
  RunSeeds(FourValidators("garbage from one validator is dropped and blamed on it alone",
                          Behaviour::kGarbage));
}

TEST_CASE("7 validators of unequal power with three kinds of misbehaviour") {
  Scenario s;
  s.name = "7 validators of unequal power with three kinds of misbehaviour";
  // 100 in all; the equivocator, garbage sender and silent node hold 25.
  s.powers = {10, 20, 10, 30, 10, 15, 5};
  s.behaviours = {Behaviour::kHonest, Behaviour::kHonest,  Behaviour::kEquivocate,
                  Behaviour::kHonest, Behaviour::kGarbage, Behaviour::kHonest,
                  Behaviour::kSilent};
  RunSeeds(s);
}

TEST_CASE(
    "two equivocators with just under a third of the power, on a network that keeps changing") {
  Scenario s;
  s.name =
      "two equivocators with just under a third of the power, on a network that keeps changing";
  s.powers = {14, 14, 14, 14, 11, 16, 16};  // 99 in all; the equivocators hold 32
  s.behaviours = {Behaviour::kHonest,    Behaviour::kHonest, Behaviour::kHonest,
                  Behaviour::kHonest,    Behaviour::kHonest, Behaviour::kEquivocate,
                  Behaviour::kEquivocate};
  s.min_network_period_ms = 200;
  s.max_network_period_ms = 1'500;
  s.max_drop_per_mille = 400;
  RunSeeds(s);
}

TEST_CASE("a seed reproduces its run exactly") {
  Scenario s = FourValidators("determinism", Behaviour::kEquivocate);
  for (uint64_t seed : {7u, 8u}) {
    Outcome a = Run(s, seed);
    Outcome b = Run(s, seed);
    CHECK(a.Summary() == b.Summary());
  }
}
