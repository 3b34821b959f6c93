#include "chain/bytes.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

using namespace puhui;

TEST_CASE("hex has two lower-case digits per byte, for every byte value, and reads back") {
  Bytes all;
  std::string expected;
  for (int b = 0; b < 256; ++b) {
    all.push_back(static_cast<uint8_t>(b));
    expected += fmt::format("{:02x}", b);
  }
  CHECK(Hex(all) == expected);
  CHECK(FromHex(Hex(all)) == all);
  CHECK(Hex(Bytes{}).empty());
}
