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

TEST_CASE(
    "hex decoding refuses every non-hex byte value in either place of a pair, into bytes or a "
    "string") {
  CHECK(FromHex("00ff7Fa0") == Bytes{0x00, 0xff, 0x7f, 0xa0});
  CHECK(FromHex("") == Bytes{});
  CHECK(FromHexToString("4142") == std::string("AB"));
  CHECK_FALSE(FromHex("abc"));
  CHECK_FALSE(FromHexToString("abc"));
  // Every byte value that is not a hex digit, in either place of a pair, is refused.
  for (int c = 0; c < 256; ++c) {
    const bool digit = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (digit) continue;
    std::string first = "00" + std::string(1, static_cast<char>(c)) + "0";
    std::string second = "000" + std::string(1, static_cast<char>(c));
    CHECK_FALSE(FromHex(first));
    CHECK_FALSE(FromHexToString(second));
  }
}
