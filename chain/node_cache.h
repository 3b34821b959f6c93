// A bounded cache of state-tree nodes in front of LevelDB. Tree nodes are content-addressed and
// immutable, so a cached node can never be stale; the cache only saves lookups. The nodes a block
// writes are the ones the next block reads first (the paths to recently touched keys), so commits
// feed it too. Oldest entries leave first. Thread-safe (sharded locks).
#pragma once

#include <array>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "chain/bytes.h"

namespace puhui {

class NodeCache {
 public:
  explicit NodeCache(size_t max_bytes) : max_bytes_per_shard_(max_bytes / kShards) {}

  std::optional<Bytes> Get(const Hash32& hash) const;
  void Put(const Hash32& hash, const Bytes& node);

 private:
  static constexpr size_t kShards = 16;
  struct HashOfHash {
    size_t operator()(const Hash32& h) const {
      size_t v;
      std::memcpy(&v, h.data(), sizeof v);  // already uniformly distributed
      return v;
    }
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<Hash32, Bytes, HashOfHash> nodes;  // lookups only, never iterated
    std::deque<Hash32> order;
    size_t bytes = 0;
  };
  Shard& ShardOf(const Hash32& h) const { return shards_[h[31] % kShards]; }

  const size_t max_bytes_per_shard_;
  mutable std::array<Shard, kShards> shards_;
};

}  // namespace puhui
