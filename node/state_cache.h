// Committed state values of recently read and changed keys, as of the ledger's head, kept beside
// the store for the blocks that execute on top of it. A block of transfers reads ~9,000 keys that
// are not in the block's own read cache yet, and most of them — each sender's account and balance,
// a recipient paid a few blocks ago — were read or written by a recent block: without this each
// is a LevelDB lookup (memtable, then every level's filter), ~13 % of a block's apply CPU.
//
// A value is cached only as the head holds it: read through the head, or written by a block that
// became the head (Committed, for every key it changed). Two generations: entries go into the
// young one; when it holds half the budget the old one is dropped whole and the young one takes
// its place. A lookup asks the young generation first, and every write goes there, so a value the
// old generation still holds for a key is never returned once the key was written again.
//
// Each generation is an append-only arena of entries ([key length][value length][key][value])
// with an open-addressing index of small slots (linear probing on a seeded hash of the key, never
// iterated: nothing here reaches consensus but values that are the head's by construction). An
// entry costs no allocation of its own, and dropping a generation frees a few large chunks. The
// seed is secret, so keys chosen by users cannot crowd one run of slots. Not thread-safe: used on
// the ledger's committing thread (Propose, Validate, Commit), as the head moves only there.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "chain/bytes.h"
#include "chain/smt.h"

namespace puhui {

class StateCache {
 public:
  explicit StateCache(size_t max_bytes);
  StateCache(const StateCache&) = delete;
  StateCache& operator=(const StateCache&) = delete;

  // The head's value under `key` into `value` (nullopt: absent), if cached.
  bool Find(ByteView key, std::optional<Bytes>& value);
  // `value` was read under `key` at the head.
  void Put(ByteView key, const std::optional<Bytes>& value);
  // A block became the head: its changes are the head's values now.
  void Committed(const StateChanges& changes);

  size_t bytes() const { return young_.bytes() + old_.bytes(); }

 private:
  class Generation {
   public:
    explicit Generation(size_t chunk_bytes) : chunk_bytes_(chunk_bytes) {}
    // The entry under `key` (its value: `present`, bytes), if held.
    bool Find(ByteView key, uint64_t hash, bool& present, ByteView& value) const;
    void Put(ByteView key, uint64_t hash, const Bytes* value);
    // Memory held: the arena's chunks and the index.
    size_t bytes() const { return arena_.size() * chunk_bytes_ + slots_.size() * sizeof(Slot); }

   private:
    static constexpr uint32_t kEmptySlot = 0xffffffff;
    struct Slot {
      uint64_t hash = 0;
      uint32_t chunk = kEmptySlot;
      uint32_t offset = 0;
    };
    const uint8_t* Entry(const Slot& s) const { return arena_[s.chunk].data() + s.offset; }
    // The slot holding `key`, or the empty one where it would go (slots_ must not be empty).
    size_t SlotOf(ByteView key, uint64_t hash) const;
    void Grow();

    size_t chunk_bytes_;
    std::vector<Slot> slots_;   // a power of two in size, at most 3/4 full
    std::vector<Bytes> arena_;  // chunks of chunk_bytes_ (or one entry, if larger), never moved
    size_t size_ = 0;
  };

  void Rotate();

  const size_t generation_bytes_;
  const size_t chunk_bytes_;
  const uint64_t seed_;
  Generation young_;
  Generation old_;
};

}  // namespace puhui
