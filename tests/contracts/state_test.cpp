#include "contracts/state.h"

#include <doctest/doctest.h>

#include "counting_reader.h"
#include "test_util.h"

using namespace puhui;

namespace {

StateChanges Values(std::initializer_list<std::pair<std::string, std::string>> kv) {
  StateChanges out;
  for (const auto& [k, v] : kv) out[ToBytes(k)] = ToBytes(v);
  return out;
}

}  // namespace

TEST_CASE("a block overlay reads each key of its base once, found or absent") {
  MemoryState committed;
  committed.Apply(Values({{"batch/A", "record"}}));
  testing::CountingReader counted(&committed);
  StateOverlay block(&counted, StateOverlay::Reads::kRemember);
  for (int i = 0; i < 3; ++i) {
    StateOverlay tx(&block);
    auto found = tx.Get(AsBytes("batch/A"));
    REQUIRE(found.ok());
    CHECK(**found == ToBytes("record"));
    auto absent = tx.Get(AsBytes("batch/B"));
    REQUIRE(absent.ok());
    CHECK_FALSE(absent->has_value());
  }
  CHECK(counted.reads == 2);
  // What it read is remembered, not changed.
  CHECK_FALSE(block.Changed(AsBytes("batch/A")));
  CHECK(block.TakeChanges().empty());
}

TEST_CASE("an overlay that passes reads through reads its base every time") {
  MemoryState committed;
  committed.Apply(Values({{"batch/A", "record"}}));
  testing::CountingReader counted(&committed);
  StateOverlay tx(&counted);
  for (int i = 0; i < 3; ++i) CHECK(**tx.Get(AsBytes("batch/A")) == ToBytes("record"));
  CHECK(counted.reads == 3);
}

TEST_CASE("a block overlay sees its own writes first and absorbs a child's") {
  MemoryState committed;
  committed.Apply(Values({{"a", "1"}, {"b", "2"}}));
  StateOverlay block(&committed, StateOverlay::Reads::kRemember);
  CHECK(**block.Get(AsBytes("a")) == ToBytes("1"));  // remembered, then written over
  block.Put(ToBytes("a"), ToBytes("10"));
  CHECK(block.Changed(AsBytes("a")));
  CHECK_FALSE(block.Changed(AsBytes("b")));
  {
    StateOverlay tx(&block);
    CHECK(**tx.Get(AsBytes("a")) == ToBytes("10"));
    tx.Put(ToBytes("a"), ToBytes("11"));
    tx.Delete(ToBytes("b"));
    tx.Put(ToBytes("c"), ToBytes("3"));
    block.Absorb(std::move(tx));
    CHECK(tx.changes().empty());
  }
  CHECK(**block.Get(AsBytes("a")) == ToBytes("11"));
  CHECK_FALSE(block.Get(AsBytes("b"))->has_value());
  CHECK(**block.Get(AsBytes("c")) == ToBytes("3"));
  CHECK(block.changes().size() == 3);
  // The committed state underneath is untouched.
  CHECK(**committed.Get(AsBytes("a")) == ToBytes("1"));
  CHECK(**committed.Get(AsBytes("b")) == ToBytes("2"));
}
