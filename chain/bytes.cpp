#include "chain/bytes.h"

#include <algorithm>

namespace puhui {

namespace {
// The two hex digits of every byte value: one table load per byte instead of two, and no shifts.
constexpr std::array<std::array<char, 2>, 256> kHexPairs = [] {
  constexpr char kDigits[] = "0123456789abcdef";
  std::array<std::array<char, 2>, 256> pairs{};
  for (int b = 0; b < 256; ++b) pairs[b] = {kDigits[b >> 4], kDigits[b & 0xf]};
  return pairs;
}();
}  // namespace

std::string Hex(ByteView data) {
  std::string out(data.size() * 2, '0');
  // Through a pointer: indexing the string reloaded its data pointer for each digit (every
  // transfer's receipt holds two 32-byte addresses in hex).
  char* at = out.data();
  for (uint8_t b : data) {
    std::memcpy(at, kHexPairs[b].data(), 2);
    at += 2;
  }
  return out;
}

namespace {
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::optional<Bytes> FromHex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  Bytes out(hex.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = HexValue(hex[2 * i]);
    int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return out;
}

std::optional<Hash32> ToHash32(ByteView b) {
  if (b.size() != 32) return std::nullopt;
  Hash32 h;
  std::copy(b.begin(), b.end(), h.begin());
  return h;
}

std::optional<Hash32> Hash32FromHex(std::string_view hex) {
  if (hex.size() != 64) return std::nullopt;
  auto b = FromHex(hex);
  if (!b) return std::nullopt;
  return ToHash32(*b);
}

}  // namespace puhui
