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
// Each character's value as a hex digit, or 0x10 for one that is not: a table load per digit and
// one test per string, instead of a branch per digit that random bytes mispredict.
constexpr std::array<uint8_t, 256> kHexValues = [] {
  std::array<uint8_t, 256> values{};
  values.fill(0x10);
  for (int c = '0'; c <= '9'; ++c) values[c] = static_cast<uint8_t>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c) values[c] = static_cast<uint8_t>(c - 'a' + 10);
  for (int c = 'A'; c <= 'F'; ++c) values[c] = static_cast<uint8_t>(c - 'A' + 10);
  return values;
}();

// Decodes hex.size() / 2 bytes into `out`; false if any character is not a hex digit.
bool DecodeHex(std::string_view hex, uint8_t* out) {
  uint8_t bad = 0;
  for (size_t i = 0; i < hex.size() / 2; ++i) {
    const uint8_t hi = kHexValues[static_cast<uint8_t>(hex[2 * i])];
    const uint8_t lo = kHexValues[static_cast<uint8_t>(hex[2 * i + 1])];
    bad |= hi | lo;
    out[i] = static_cast<uint8_t>(hi << 4 | (lo & 0xf));
  }
  return (bad & 0x10) == 0;
}
}  // namespace

std::optional<Bytes> FromHex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  Bytes out(hex.size() / 2);
  if (!DecodeHex(hex, out.data())) return std::nullopt;
  return out;
}

std::optional<std::string> FromHexToString(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out(hex.size() / 2, '\0');
  if (!DecodeHex(hex, reinterpret_cast<uint8_t*>(out.data()))) return std::nullopt;
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
