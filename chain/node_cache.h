// A bounded cache of state-tree nodes read from the node log, found by hash. Tree nodes are
// content-addressed and immutable, so a cached node can never be stale; the cache saves a read and
// the hash check of what the disk gave back. (The nodes the last blocks wrote are kept apart, by
// place: chain/recent_nodes.h.)
//
// Two generations, each an arena with an open-addressing index (MemorySmtNodes): new nodes go to
// the young one; when it holds half the budget, the old generation is dropped whole and the young
// one takes its place. Eviction is then one free of a few large blocks rather than a bookkeeping
// step per node, and a node stays cached for at least half the budget's worth of later nodes.
// Thread-safe: lookups share a lock, insertions take it alone.
#pragma once

#include <optional>
#include <shared_mutex>
#include <utility>
#include <vector>

#include "chain/bytes.h"
#include "chain/smt.h"

namespace puhui {

class NodeCache {
 public:
  explicit NodeCache(size_t max_bytes);

  std::optional<Bytes> Get(const Hash32& hash) const;
  // Into `out`, reusing its capacity; false if not cached.
  bool Read(const Hash32& hash, Bytes& out) const;
  void Put(const Hash32& hash, ByteView node);

 private:
  void PutLocked(const Hash32& hash, ByteView node);

  const size_t generation_bytes_;
  const uint64_t seed_;  // secret, per process: see MemorySmtNodes
  mutable std::shared_mutex mu_;
  MemorySmtNodes young_;
  MemorySmtNodes old_;
};

}  // namespace puhui
