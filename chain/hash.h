// SHA-256 (OpenSSL) and BIP340-style tagged hashes; Mix64 for in-memory table indexes.
// TaggedHash(tag, m) = SHA256(SHA256(tag) || SHA256(tag) || m): a hash of one tag can never be
// mistaken for a hash of another, which is how every signed or committed structure is separated.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "chain/bytes.h"

namespace puhui {

Hash32 Sha256(ByteView data);
inline Hash32 Sha256(std::string_view s) { return Sha256(AsBytes(s)); }

Hash32 TaggedHash(std::string_view tag, ByteView data);

// The murmur3 64-bit finaliser: not cryptographic, only for in-memory table indexes. Mixed with a
// seed secret to the process (MemorySmtNodes, the parsed-key table in chain/keys.cpp), it keeps
// peers from choosing keys that crowd one slot of an index.
constexpr uint64_t Mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

// 8 random bytes from OpenSSL's generator: the secret seed of an in-memory index.
uint64_t SecretSeed();

// A seeded mix of all of `data`, eight bytes at a time, for in-memory indexes that only look up
// (never iterate into anything that reaches consensus): with a seed secret to the process
// (SecretSeed), keys chosen by peers or users cannot crowd one bucket or slot.
inline uint64_t SeededHash(uint64_t seed, ByteView data) {
  uint64_t x = seed ^ data.size();
  size_t i = 0;
  for (; i + 8 <= data.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, data.data() + i, sizeof word);
    x = Mix64(x ^ word);
  }
  if (i == data.size()) return x;
  uint64_t tail = 0;
  std::memcpy(&tail, data.data() + i, data.size() - i);
  return Mix64(x ^ tail);
}

// SeededHash of 32-byte ids, digests and keys (unordered containers, the parsed-key table in
// chain/keys.cpp).
struct SeededHash32 {
  uint64_t seed = SecretSeed();
  size_t operator()(const Hash32& h) const { return static_cast<size_t>(SeededHash(seed, h)); }
};

// A tag for hot paths: SHA256(tag)||SHA256(tag) is absorbed once, when the tag is made, and each
// hash starts from a copy of that midstate instead of two extra compressions. Define instances as
// long-lived constants (e.g. namespace-scope statics); Hash is thread-safe.
class HashTag {
 public:
  explicit HashTag(std::string_view tag);
  ~HashTag();
  HashTag(const HashTag&) = delete;
  HashTag& operator=(const HashTag&) = delete;
  // TaggedHash(tag, a || b) without concatenating.
  Hash32 Hash(ByteView a, ByteView b = {}) const;
  const std::string& tag() const { return tag_; }

 private:
  struct Prefix;  // the absorbed prefix (an OpenSSL context, kept out of this header)
  std::string tag_;
  std::unique_ptr<const Prefix> prefix_;
};

// Incremental SHA-256 for hashing several pieces without concatenating them.
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;

  Sha256Hasher& Update(ByteView data);
  Sha256Hasher& Update(const Hash32& h) { return Update(ByteView(h)); }
  Hash32 Finish();

 private:
  struct Impl;
  Impl* impl_ = nullptr;
};

// A tagged hasher whose prefix SHA256(tag)||SHA256(tag) is already absorbed.
class TaggedHasher {
 public:
  explicit TaggedHasher(std::string_view tag);
  TaggedHasher& Update(ByteView data) {
    h_.Update(data);
    return *this;
  }
  TaggedHasher& Update(const Hash32& h) {
    h_.Update(h);
    return *this;
  }
  Hash32 Finish() { return h_.Finish(); }

 private:
  Sha256Hasher h_;
};

}  // namespace puhui
