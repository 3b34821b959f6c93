// Committed state values of recently read and changed keys, as of the ledger's head, kept beside
// the store for the blocks that execute on top of it. A block of transfers reads ~9,000 keys that
// are not in the block's own read cache yet, and most of them — each sender's account and balance,
// a recipient paid a few blocks ago — were read or written by a recent block: without this each
// is a LevelDB lookup (memtable, then every level's filter), ~13 % of a block's apply CPU.
//
// Two generations of hash maps (lookups only, never iterated: nothing here reaches consensus
// except values that are the head's by construction): entries go into the young one; when it
// holds half the budget the old one is dropped whole and the young one takes its place. A value is
// cached only as the head holds it: read through the head, or written by a block that became the
// head (Committed, for every key it changed). Keys are hashed with a secret seed, so that keys
// chosen by users cannot crowd one bucket. Not thread-safe: used on the ledger's committing thread
// (Propose, Validate, Commit), as the head moves only there.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "chain/bytes.h"
#include "chain/hash.h"
#include "chain/smt.h"

namespace puhui {

// For StateCache's maps: a seeded hash of a whole key, and key equality, both taking views.
struct StateKeyHash {
  using is_transparent = void;
  uint64_t seed = SecretSeed();
  size_t operator()(ByteView key) const;
  size_t operator()(const Bytes& key) const { return (*this)(ByteView(key)); }
};
struct StateKeyEq {
  using is_transparent = void;
  bool operator()(ByteView a, ByteView b) const {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
  }
};

class StateCache {
 public:
  explicit StateCache(size_t max_bytes) : generation_bytes_(max_bytes / 2) {}
  StateCache(const StateCache&) = delete;
  StateCache& operator=(const StateCache&) = delete;

  // The head's value under `key` into `value` (nullopt: absent), if cached.
  bool Find(ByteView key, std::optional<Bytes>& value);
  // `value` was read under `key` at the head.
  void Put(ByteView key, const std::optional<Bytes>& value);
  // A block became the head: its changes are the head's values now.
  void Committed(const StateChanges& changes);

  size_t bytes() const { return young_bytes_ + old_bytes_; }

 private:
  using Map = std::unordered_map<Bytes, std::optional<Bytes>, StateKeyHash, StateKeyEq>;
  static size_t Size(ByteView key, const std::optional<Bytes>& value);

  const size_t generation_bytes_;
  Map young_;
  Map old_;
  size_t young_bytes_ = 0;
  size_t old_bytes_ = 0;
};

}  // namespace puhui
