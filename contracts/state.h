// State as the contracts see it: read a key, write a key. Writes are buffered in an overlay over a
// read-only base, so a transaction that fails leaves nothing behind (its overlay is dropped) and a
// whole block's changes come out as one ordered change set for the store and the state root.
#pragma once

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

  // True if reads are answered from memory after the first (a reader with a cache of its own), so
  // that a block's execution needs no CachedReader over it.
  virtual bool CachesReads() const { return false; }
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

// Remembers every read of its base, found or absent. A block's execution reads the same records
// many times over (the credit batch of every transfer, each sender's account before and after its
// action, each changed balance again for the supply check); the base (committed state) does not
// change while a block executes, so each is read from the store once. Lives as long as one
// block's execution; not thread-safe.
class CachedReader : public StateReader {
 public:
  explicit CachedReader(const StateReader* base) : base_(*base) {}
  CachedReader(const CachedReader&) = delete;
  CachedReader& operator=(const CachedReader&) = delete;

  Result<std::optional<Bytes>> Get(ByteView key) const override;
  // Points into the cache: valid as long as the reader.
  Result<const Bytes*> Find(ByteView key, std::optional<Bytes>& scratch) const override;

 private:
  const StateReader& base_;
  mutable std::map<Bytes, std::optional<Bytes>, BytesLess> reads_;
};

// Buffered writes over a base reader. Not thread-safe; one overlay per executing thread.
//
// A transaction's overlay holds a handful of writes (a transfer: two balances), so the first
// kFew writes are kept in a short unsorted list searched linearly, which costs less than building
// and searching map nodes; past that (a block's overlay) they move into the ordered map for good.
class StateOverlay : public StateReader {
 public:
  static constexpr size_t kFew = 8;

  // A pointer, not a reference, so that an overlay over another overlay is never mistaken for a
  // copy.
  explicit StateOverlay(const StateReader* base) : base_(*base) {}
  StateOverlay(const StateOverlay&) = delete;
  StateOverlay& operator=(const StateOverlay&) = delete;

  Result<std::optional<Bytes>> Get(ByteView key) const override;
  Result<const Bytes*> Find(ByteView key, std::optional<Bytes>& scratch) const override;
  // Whether this overlay holds a write (or delete) of `key`.
  bool Changed(ByteView key) const { return Written(key) != nullptr; }
  void Put(Bytes key, Bytes value) { Set(std::move(key), std::move(value)); }
  void Delete(Bytes key) { Set(std::move(key), std::nullopt); }

  // Moves a child overlay's writes into this one (the child's base must be this overlay).
  void Absorb(StateOverlay&& child);

  // The writes in key order. Invalidates pointers from Find into this overlay.
  const StateChanges& changes() const;
  StateChanges TakeChanges();

 private:
  using Write = std::pair<Bytes, std::optional<Bytes>>;

  // This overlay's write of `key`, or nullptr if it holds none.
  const std::optional<Bytes>* Written(ByteView key) const;
  void Set(Bytes key, std::optional<Bytes> value);
  // Moves the short list into the map; from then on every write goes to the map.
  void Spill() const;

  const StateReader& base_;
  // Distinct keys, in the order first written; used until `spilled_`.
  mutable std::vector<Write> few_;
  mutable StateChanges changes_;
  mutable bool spilled_ = false;
};

}  // namespace puhui
