// State as the contracts see it: read a key, write a key. Writes are buffered in an overlay over a
// read-only base, so a transaction that fails leaves nothing behind (its overlay is dropped) and a
// whole block's changes come out as one ordered change set for the store and the state root.
#pragma once

#include <map>
#include <optional>

#include "chain/block_store.h"
#include "chain/bytes.h"
#include "chain/status.h"

namespace puhui {

class StateReader {
 public:
  virtual ~StateReader() = default;
  virtual Result<std::optional<Bytes>> Get(ByteView key) const = 0;
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

 private:
  const StateReader& base_;
  mutable std::map<Bytes, std::optional<Bytes>, BytesLess> reads_;
};

// Buffered writes over a base reader. Not thread-safe; one overlay per executing thread.
class StateOverlay : public StateReader {
 public:
  // A pointer, not a reference, so that an overlay over another overlay is never mistaken for a
  // copy.
  explicit StateOverlay(const StateReader* base) : base_(*base) {}
  StateOverlay(const StateOverlay&) = delete;
  StateOverlay& operator=(const StateOverlay&) = delete;

  Result<std::optional<Bytes>> Get(ByteView key) const override;
  // Whether this overlay holds a write (or delete) of `key`.
  bool Changed(ByteView key) const { return changes_.find(key) != changes_.end(); }
  void Put(Bytes key, Bytes value) { changes_[std::move(key)] = std::move(value); }
  void Delete(Bytes key) { changes_[std::move(key)] = std::nullopt; }

  // Moves a child overlay's writes into this one (the child's base must be this overlay).
  void Absorb(StateOverlay&& child);

  const StateChanges& changes() const { return changes_; }
  StateChanges TakeChanges() { return std::move(changes_); }

 private:
  const StateReader& base_;
  StateChanges changes_;
};

}  // namespace puhui
