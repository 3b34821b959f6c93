#include "chain/recent_nodes.h"

#include <doctest/doctest.h>

using namespace puhui;

namespace {

Bytes Filled(size_t n, uint8_t first) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(first + i);
  return b;
}

}  // namespace

TEST_CASE("the last blocks' nodes are read back by their place in the node log") {
  RecentNodes recent(1000);
  const Bytes first = Filled(100, 0);
  const Bytes second = Filled(50, 100);
  recent.Add(1000, first);
  recent.Add(1100, second);
  Bytes out;
  REQUIRE(recent.Read({1000, 10}, out));
  CHECK(out == Bytes(first.begin(), first.begin() + 10));
  REQUIRE(recent.Read({1090, 10}, out));  // the last bytes of the first block
  CHECK(out == Bytes(first.end() - 10, first.end()));
  REQUIRE(recent.Read({1120, 30}, out));
  CHECK(out == Bytes(second.begin() + 20, second.end()));
  // Before the first block, across a block's end, past the last one, or of no length: not held.
  CHECK_FALSE(recent.Read({999, 1}, out));
  CHECK_FALSE(recent.Read({1095, 10}, out));
  CHECK_FALSE(recent.Read({1145, 10}, out));
  CHECK_FALSE(recent.Read({1150, 1}, out));
  CHECK_FALSE(recent.Read({1000, 0}, out));
}

TEST_CASE(
    "beyond its budget the oldest blocks' nodes are dropped, and a block larger than it is not "
    "kept, nor any before it") {
  RecentNodes recent(250);
  recent.Add(0, Filled(100, 0));
  recent.Add(100, Filled(100, 1));
  Bytes out;
  CHECK(recent.Read({0, 1}, out));
  recent.Add(200, Filled(100, 2));  // 300 > 250: the block at 0 goes
  CHECK_FALSE(recent.Read({0, 1}, out));
  REQUIRE(recent.Read({100, 1}, out));
  CHECK(out == Bytes{1});
  REQUIRE(recent.Read({200, 1}, out));
  CHECK(out == Bytes{2});
  CHECK(recent.bytes() == 200);
  // What is held stays the log's last blocks: a block too large to keep clears the older ones.
  recent.Add(300, Filled(251, 3));
  CHECK_FALSE(recent.Read({300, 1}, out));
  CHECK_FALSE(recent.Read({200, 1}, out));
  CHECK(recent.bytes() == 0);
}

TEST_CASE("a block kept in the buffer of a dropped one holds its own bytes and size only") {
  RecentNodes recent(250);
  recent.Add(0, Filled(200, 7));
  recent.Add(200, Filled(40, 9));
  recent.Add(240, Filled(30, 50));  // 270 > 250: the block at 0 goes, its buffer kept for the next
  recent.Add(270, Filled(20, 80));  // into that buffer: 20 bytes, not 200
  CHECK(recent.bytes() == 90);
  Bytes out;
  REQUIRE(recent.Read({270, 20}, out));
  CHECK(out == Filled(20, 80));
  CHECK_FALSE(recent.Read({270, 21}, out));  // nothing of the old buffer shows past its end
  CHECK_FALSE(recent.Read({290, 1}, out));
  REQUIRE(recent.Read({240, 30}, out));
  CHECK(out == Filled(30, 50));
  REQUIRE(recent.Read({200, 40}, out));
  CHECK(out == Filled(40, 9));
}
