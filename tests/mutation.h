// Deterministic mutations of valid inputs, for the tests that feed hostile bytes to every decoder
// of outside input. Each test walks fixed lists of mutations (every bit flip, every truncation,
// ...) and a stream of random ones from std::mt19937_64 with a fixed seed, so any failure
// reproduces exactly.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace puhui::testing {

inline std::string FlipBit(std::string s, size_t bit) {
  s[bit / 8] = static_cast<char>(s[bit / 8] ^ (1 << (bit % 8)));
  return s;
}

inline std::string DeleteByte(std::string s, size_t index) {
  s.erase(index, 1);
  return s;
}

inline std::string InsertByte(std::string s, size_t index, char c) {
  s.insert(index, 1, c);
  return s;
}

// Random edits of a valid input, reproducible from the seed.
class Mutator {
 public:
  explicit Mutator(uint64_t seed) : rng_(seed) {}

  // A number in [0, n); n > 0.
  uint64_t Below(uint64_t n) { return std::uniform_int_distribution<uint64_t>(0, n - 1)(rng_); }
  char Byte() { return static_cast<char>(Below(256)); }

  std::string RandomBytes(size_t max_size) {
    std::string out(Below(max_size + 1), '\0');
    for (char& c : out) c = Byte();
    return out;
  }

  // One to four edits: bit flips, byte overwrites, insertions, deletions, truncation, a duplicated
  // or removed slice, or an "interesting" byte (0x00, 0x7f, 0x80, 0xff) at a random place.
  std::string Mutate(std::string s) {
    const uint64_t edits = 1 + Below(4);
    for (uint64_t e = 0; e < edits; ++e) {
      if (s.empty()) {
        s.push_back(Byte());
        continue;
      }
      const size_t at = Below(s.size());
      switch (Below(8)) {
        case 0: s = FlipBit(std::move(s), at * 8 + Below(8)); break;
        case 1: s[at] = Byte(); break;
        case 2: s = InsertByte(std::move(s), Below(s.size() + 1), Byte()); break;
        case 3: s = DeleteByte(std::move(s), at); break;
        case 4: s.resize(at); break;
        case 5: {
          const size_t len = 1 + Below(std::min<size_t>(s.size() - at, 16));
          s.insert(Below(s.size() + 1), s.substr(at, len));
          break;
        }
        case 6: s.erase(at, 1 + Below(std::min<size_t>(s.size() - at, 16))); break;
        default: {
          static constexpr char kInteresting[] = {'\x00', '\x7f', '\x80', '\xff'};
          s[at] = kInteresting[Below(4)];
          break;
        }
      }
    }
    return s;
  }

 private:
  std::mt19937_64 rng_;
};

// ---- protobuf wire format, for mutations that keep the framing valid

inline std::string Varint(uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
  return out;
}

// The same value in `extra` more bytes than needed: valid protobuf, but not the canonical encoding.
inline std::string PaddedVarint(uint64_t v, size_t extra) {
  std::string out = Varint(v);
  if (extra == 0) return out;
  out.back() = static_cast<char>(out.back() | 0x80);
  for (size_t i = 1; i < extra; ++i) out.push_back('\x80');
  out.push_back('\x00');
  return out;
}

inline std::string LengthDelimited(uint32_t field, std::string_view payload) {
  return Varint(uint64_t{field} << 3 | 2) + Varint(payload.size()) + std::string(payload);
}

// One top-level field of a message as it was encoded.
struct WireField {
  uint32_t number = 0;
  uint32_t wire_type = 0;
  std::string encoded;  // tag, length prefix (if any) and payload
  std::string payload;  // for a length-delimited field, the bytes after the length prefix
  uint64_t value = 0;   // for a varint field
};

inline bool ReadVarint(std::string_view& in, uint64_t& out) {
  out = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (in.empty()) return false;
    const auto b = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    out |= uint64_t{b & 0x7fu} << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

// The top-level fields of a message in wire order; nullopt for bytes that are not a message made of
// varint, fixed and length-delimited fields.
inline std::optional<std::vector<WireField>> SplitFields(std::string_view message) {
  std::vector<WireField> fields;
  std::string_view in = message;
  while (!in.empty()) {
    const std::string_view start = in;
    uint64_t tag = 0;
    if (!ReadVarint(in, tag)) return std::nullopt;
    WireField f;
    f.number = static_cast<uint32_t>(tag >> 3);
    f.wire_type = static_cast<uint32_t>(tag & 7);
    switch (f.wire_type) {
      case 0:
        if (!ReadVarint(in, f.value)) return std::nullopt;
        break;
      case 1:
      case 5: {
        const size_t n = f.wire_type == 1 ? 8 : 4;
        if (in.size() < n) return std::nullopt;
        in.remove_prefix(n);
        break;
      }
      case 2: {
        uint64_t len = 0;
        if (!ReadVarint(in, len) || len > in.size()) return std::nullopt;
        f.payload = std::string(in.substr(0, len));
        in.remove_prefix(len);
        break;
      }
      default: return std::nullopt;
    }
    f.encoded = std::string(start.substr(0, start.size() - in.size()));
    fields.push_back(std::move(f));
  }
  return fields;
}

inline std::string JoinFields(const std::vector<WireField>& fields) {
  std::string out;
  for (const auto& f : fields) out += f.encoded;
  return out;
}

// Valid re-encodings and framing attacks of a message, each with a name for failure messages:
// every field repeated (in place and at the end), removed, swapped with its neighbour, and with its
// varint or length prefix padded; length prefixes claiming up to 2^64 - 1 bytes; an unknown field;
// a varint that never ends; groups nested far past any recursion limit.
inline std::vector<std::pair<std::string, std::string>> WireMutations(std::string_view message) {
  std::vector<std::pair<std::string, std::string>> out;
  auto fields = SplitFields(message);
  if (fields) {
    const auto& fs = *fields;
    for (size_t i = 0; i < fs.size(); ++i) {
      const std::string n =
          "field #" + std::to_string(i) + " (number " + std::to_string(fs[i].number) + ")";
      auto copy = fs;
      copy.insert(copy.begin() + static_cast<std::ptrdiff_t>(i), fs[i]);
      out.emplace_back(n + " repeated in place", JoinFields(copy));
      out.emplace_back(n + " repeated at the end", JoinFields(fs) + fs[i].encoded);
      copy = fs;
      copy.erase(copy.begin() + static_cast<std::ptrdiff_t>(i));
      out.emplace_back(n + " removed", JoinFields(copy));
      if (i + 1 < fs.size()) {
        copy = fs;
        std::swap(copy[i], copy[i + 1]);
        out.emplace_back(n + " swapped with the next", JoinFields(copy));
      }
      const std::string tag = Varint(uint64_t{fs[i].number} << 3 | fs[i].wire_type);
      if (fs[i].wire_type == 0) {
        copy = fs;
        copy[i].encoded = tag + PaddedVarint(fs[i].value, 1);
        out.emplace_back(n + " with a padded varint", JoinFields(copy));
        copy[i].encoded = tag + PaddedVarint(fs[i].value, 10 - Varint(fs[i].value).size());
        out.emplace_back(n + " with a 10-byte varint", JoinFields(copy));
      }
      if (fs[i].wire_type == 2) {
        copy = fs;
        copy[i].encoded = tag + PaddedVarint(fs[i].payload.size(), 1) + fs[i].payload;
        out.emplace_back(n + " with a padded length", JoinFields(copy));
        for (uint64_t huge :
             {uint64_t{fs[i].payload.size()} + 1, uint64_t{1} << 31, (uint64_t{1} << 31) - 1,
              uint64_t{1} << 32, uint64_t{1} << 63, ~uint64_t{0}}) {
          copy[i].encoded = tag + Varint(huge) + fs[i].payload;
          out.emplace_back(n + " claiming " + std::to_string(huge) + " bytes", JoinFields(copy));
        }
        // Eleven bytes of continuation: longer than any varint may be.
        copy[i].encoded = tag + std::string(11, '\xff') + fs[i].payload;
        out.emplace_back(n + " with an endless length varint", JoinFields(copy));
      }
    }
    if (fs.size() > 1) {
      std::vector<WireField> reversed(fs.rbegin(), fs.rend());
      out.emplace_back("fields in reverse order", JoinFields(reversed));
    }
  }
  std::string m(message);
  out.emplace_back("unknown field 900 appended", m + Varint(900 << 3 | 0) + Varint(1));
  out.emplace_back("unknown bytes field 15 prepended", LengthDelimited(15, "x") + m);
  out.emplace_back("truncated varint appended", m + Varint(3 << 3 | 0) + "\xff\xff");
  out.emplace_back("100000 nested groups appended",
                   m + std::string(100'000, '\x7b'));  // field 15, start group
  out.emplace_back("100000 end-group tags appended", m + std::string(100'000, '\x7c'));
  out.emplace_back("field number 0", m + std::string("\x00\x01", 2));
  out.emplace_back("wire types 6 and 7", m + "\x0e\x0f");
  return out;
}

}  // namespace puhui::testing
