// Byte strings and fixed-size digests, with hex encoding for the RPC edge and logs.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace puhui {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

// A 32-byte digest or x-only key. Ordered, so usable as a std::map key.
using Hash32 = std::array<uint8_t, 32>;

inline constexpr Hash32 kZeroHash{};

inline ByteView AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline std::string_view AsString(ByteView b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}
inline Bytes ToBytes(std::string_view s) { return Bytes(s.begin(), s.end()); }
inline std::string ToString(ByteView b) { return std::string(AsString(b)); }

// Lower-case hex without prefix.
std::string Hex(ByteView data);
inline std::string Hex(const Hash32& h) { return Hex(ByteView(h)); }

// Accepts upper or lower case, no prefix; nullopt on odd length or a non-hex digit.
std::optional<Bytes> FromHex(std::string_view hex);
// As FromHex, into bytes held in a string (a transaction envelope as submitted over RPC).
std::optional<std::string> FromHexToString(std::string_view hex);
// As FromHex, but requires exactly 32 bytes.
std::optional<Hash32> Hash32FromHex(std::string_view hex);
// Appends the low `bytes` bytes of `v`, most significant first (keys that sort by number).
inline void AppendBigEndian(Bytes& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
// Writes the low `bytes` bytes of `v` at `out`, most significant first.
inline void WriteBigEndian(uint8_t* out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i, v >>= 8) out[i] = static_cast<uint8_t>(v);
}
// The number whose bytes, most significant first, are `in` (at most 8 of them).
inline uint64_t ReadBigEndian(ByteView in) {
  uint64_t v = 0;
  for (uint8_t b : in) v = v << 8 | b;
  return v;
}

// Byte-wise order for maps keyed by Bytes that also accepts a ByteView for lookups (no copy of
// the key): `std::map<Bytes, V, BytesLess>::find(view)`.
struct BytesLess {
  using is_transparent = void;
  bool operator()(ByteView a, ByteView b) const {
    const size_t n = a.size() < b.size() ? a.size() : b.size();
    const int c = n == 0 ? 0 : std::memcmp(a.data(), b.data(), n);
    return c < 0 || (c == 0 && a.size() < b.size());
  }
};

// Copies a 32-byte view into a Hash32; nullopt if the size differs.
std::optional<Hash32> ToHash32(ByteView b);

}  // namespace puhui
