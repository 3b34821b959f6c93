// Validator-set changes take effect a fixed number of blocks after they are decided, and the sets
// for the tip and the next height are always known from state.
#include "contracts/validator_changes.h"

#include <doctest/doctest.h>

#include "contracts/genesis_state.h"
#include "test_util.h"

using namespace puhui;
using namespace puhui::testing;

namespace {

pb::ValidatorSet SetOf(std::vector<std::string> names) {
  std::vector<std::string> keys;
  for (const auto& n : names) keys.push_back(RawAddr(n));
  std::sort(keys.begin(), keys.end());
  pb::ValidatorSet set;
  for (const auto& k : keys) {
    pb::Validator* v = set.add_validators();
    v->set_pub_key(k);
    v->set_power(10);
    v->set_region("SH");
  }
  return set;
}

MemoryState Genesis() {
  MemoryState s;
  s.Apply(GenesisState(TestGenesis()));
  return s;
}

}  // namespace

TEST_CASE("genesis state holds the genesis validator set for both the tip and the next height") {
  MemoryState s = Genesis();
  auto sets = ReadValidatorSets(s, 0);
  REQUIRE(sets.ok());
  REQUIRE(sets->next.has_value());
  CHECK(sets->next->SerializeAsString() == TestGenesis().validators.SerializeAsString());
  CHECK(sets->at_tip->SerializeAsString() == sets->next->SerializeAsString());
}

TEST_CASE("a change decided at height h signs blocks from h + kValidatorChangeDelay on") {
  MemoryState s = Genesis();
  const pb::ValidatorSet old_set = TestGenesis().validators;
  const pb::ValidatorSet new_set = SetOf({"validator", "alice"});
  const uint64_t decided = 10;
  {
    StateOverlay o(&s);
    auto at = ScheduleValidatorChange(o, decided, new_set);
    REQUIRE(at.ok());
    CHECK(*at == decided + kValidatorChangeDelay);
    REQUIRE(ApplyValidatorChanges(o, decided).ok());
    s.Apply(o.TakeChanges());
  }
  // Blocks up to the effective height - 1 keep the old set.
  for (uint64_t h = decided + 1; h + 1 < decided + kValidatorChangeDelay; ++h) {
    StateOverlay o(&s);
    REQUIRE(ApplyValidatorChanges(o, h).ok());
    s.Apply(o.TakeChanges());
    auto sets = ReadValidatorSets(s, h);
    CHECK(sets->next->SerializeAsString() == old_set.SerializeAsString());
  }
  const uint64_t last_old = decided + kValidatorChangeDelay - 1;
  StateOverlay o(&s);
  REQUIRE(ApplyValidatorChanges(o, last_old).ok());
  s.Apply(o.TakeChanges());
  auto sets = ReadValidatorSets(s, last_old);
  REQUIRE(sets.ok());
  CHECK(sets->next->SerializeAsString() == new_set.SerializeAsString());
  CHECK(sets->at_tip->SerializeAsString() == old_set.SerializeAsString());
  // One block later both are the new set, and nothing is left pending.
  StateOverlay o2(&s);
  REQUIRE(ApplyValidatorChanges(o2, last_old + 1).ok());
  s.Apply(o2.TakeChanges());
  auto later = ReadValidatorSets(s, last_old + 1);
  CHECK(later->at_tip->SerializeAsString() == new_set.SerializeAsString());
  auto pending = s.Get(state_keys::ValidatorsPending(last_old + 1));
  REQUIRE(pending.ok());
  CHECK_FALSE(pending->has_value());
}

TEST_CASE("a validator set that a chain could not run on is refused") {
  auto refused = [](const pb::ValidatorSet& set, const char* words) {
    Status s = CheckValidatorSet(set);
    CHECK(s.code() == StatusCode::kInvalidArgument);
    CHECK_MESSAGE(s.message().find(words) != std::string::npos, s.message());
  };
  refused(pb::ValidatorSet(), "needs a validator");
  pb::ValidatorSet unsorted = SetOf({"validator", "alice"});
  std::swap(*unsorted.mutable_validators(0), *unsorted.mutable_validators(1));
  refused(unsorted, "sorted");
  pb::ValidatorSet twice = SetOf({"validator"});
  *twice.add_validators() = twice.validators(0);
  refused(twice, "sorted");
  pb::ValidatorSet powerless = SetOf({"validator"});
  powerless.mutable_validators(0)->set_power(0);
  refused(powerless, "power");
  pb::ValidatorSet short_key = SetOf({"validator"});
  short_key.mutable_validators(0)->set_pub_key("abc");
  refused(short_key, "32 bytes");
  pb::ValidatorSet bad_node = SetOf({"validator"});
  bad_node.mutable_validators(0)->set_node_key("abc");
  refused(bad_node, "node key");
  MemoryState s = Genesis();
  StateOverlay o(&s);
  CHECK_FALSE(ScheduleValidatorChange(o, 5, powerless).ok());
  CHECK(o.changes().empty());
}
