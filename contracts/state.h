// State as the contracts see it: read a key, write a key. Writes are buffered in an overlay over a
// read-only base, so a transaction that fails leaves nothing behind (its overlay is dropped) and a
// whole block's changes come out as one ordered change set for the store and the state root.
#pragma once

#include <deque>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "chain/block_store.h"
#include "chain/bytes.h"
#include "chain/status.h"

namespace puhui {

class StateReader {
 public:
  virtual ~StateReader() = default;
  virtual Result<std::optional<Bytes>> Get(ByteView key) const = 0;

  // The value of `key` without a copy where the reader holds it: a pointer to the value, or
  // nullptr when the key is absent. A reader that holds no values (the default, in terms of Get)
  // puts the value in `scratch` and points there. The pointer is valid until the next write to
  // this reader or to one over it, or until `scratch` changes. Reads during execution pass through
  // two overlays and a cache; returning by value copied the value once per layer.
  virtual Result<const Bytes*> Find(ByteView key, std::optional<Bytes>& scratch) const;
};

// The latest committed state of a BlockStore.
class StoreStateReader : public StateReader {
 public:
  explicit StoreStateReader(const BlockStore& store) : store_(store) {}
  Result<std::optional<Bytes>> Get(ByteView key) const override { return store_.GetState(key); }

 private:
  const BlockStore& store_;
};

// State held in a map: genesis replay, audits and tests.
class MemoryState : public StateReader {
 public:
  Result<std::optional<Bytes>> Get(ByteView key) const override {
    auto it = values_.find(Bytes(key.begin(), key.end()));
    if (it == values_.end()) return std::optional<Bytes>();
    return std::optional<Bytes>(it->second);
  }
  Result<const Bytes*> Find(ByteView key, std::optional<Bytes>&) const override {
    auto it = values_.find(Bytes(key.begin(), key.end()));
    return it == values_.end() ? nullptr : &it->second;
  }
  void Apply(const StateChanges& changes) {
    for (const auto& [k, v] : changes) {
      if (v)
        values_[k] = *v;
      else
        values_.erase(k);
    }
  }
  const std::map<Bytes, Bytes>& values() const { return values_; }

 private:
  std::map<Bytes, Bytes> values_;
};

// Buffered writes over a base reader. Not thread-safe; one overlay per executing thread.
//
// A block's overlay (Reads::kRemember) also keeps what it reads from its base, found or absent, so
// each key is read from the base once however often the block's transactions read it (the credit
// batch of every transfer, each sender's account before and after its action): the base,
// committed state, does not change while a block executes. A transaction's overlay reads its
// block's overlay, which already keeps them, so it passes reads through.
//
// Entries live in a deque, so a value found stays where it is while other keys are read (and
// remembered). The first kFew are searched linearly, which costs less than hashing for a
// transaction's handful (a transfer writes two balances and an account); past that, an
// open-addressing index on a seeded hash of the key finds them. The index is never iterated:
// the changes come out sorted by key (TakeChanges), so nothing about it reaches consensus.
class StateOverlay : public StateReader {
 public:
  static constexpr size_t kFew = 8;
  enum class Reads { kPassThrough, kRemember };

  // A pointer, not a reference, so that an overlay over another overlay is never mistaken for a
  // copy.
  explicit StateOverlay(const StateReader* base, Reads reads = Reads::kPassThrough)
      : base_(*base), remember_(reads == Reads::kRemember) {}
  StateOverlay(const StateOverlay&) = delete;
  StateOverlay& operator=(const StateOverlay&) = delete;

  Result<std::optional<Bytes>> Get(ByteView key) const override;
  // Points into the overlay where it holds the key (written, or read and remembered): valid
  // until the next write of that key, absorb or TakeChanges.
  Result<const Bytes*> Find(ByteView key, std::optional<Bytes>& scratch) const override;
  // Whether this overlay holds a write (or delete) of `key`.
  bool Changed(ByteView key) const;
  void Put(Bytes key, Bytes value) { Set(std::move(key), std::move(value)); }
  void Delete(Bytes key) { Set(std::move(key), std::nullopt); }

  // Moves a child overlay's writes into this one (the child's base must be this overlay).
  void Absorb(StateOverlay&& child);

  // The writes in key order (a copy; for tests and checks).
  StateChanges changes() const;
  // The writes in key order, moved out; the overlay is left empty.
  StateChanges TakeChanges();

 private:
  struct Entry {
    Bytes key;
    std::optional<Bytes> value;
    uint64_t hash = 0;     // of the key, once the index is in use
    bool written = false;  // false: a remembered read
  };

  Entry* Lookup(ByteView key) const;
  Entry& Add(Bytes key, std::optional<Bytes> value, bool written) const;
  void Index(uint32_t entry) const;
  void Set(Bytes key, std::optional<Bytes> value);
  // The written entries, in key order.
  std::vector<Entry*> WrittenInOrder() const;

  const StateReader& base_;
  const bool remember_;
  mutable std::deque<Entry> entries_;
  // Empty while entries_ holds at most kFew; then a power of two in size, at most half full, each
  // slot an entry's position + 1 (0: empty).
  mutable std::vector<uint32_t> slots_;
};

}  // namespace puhui
