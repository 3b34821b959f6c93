// The state-tree nodes of the last blocks, kept as they were appended to the node log and found by
// their place there (SmtNodePtr), not by their hash. The nodes a block writes are the ones the
// next blocks read first (the paths to recently changed keys), and every reference to a stored
// node carries its place: a read is a search over a few dozen blocks and one copy, where a
// hash-keyed cache costs an insertion per node when the block commits and a table probe per read.
//
// Holds whole blocks' node bytes up to a budget, dropping the oldest block first. What it holds
// is what this process appended and committed, so it is not checked against hashes again; a block
// whose commit failed is never added (BlockStore adds a block's nodes after its batch is written).
// A place is not covered by any hash, but a node read from the log (older than every block held
// here) cannot lead into these bytes: a child is always stored before its parent, and the tree
// refuses a place that points forward (chain/smt.cpp, Load).
// Thread-safe: reads share a lock, Add takes it alone.
#pragma once

#include <cstdint>
#include <deque>
#include <shared_mutex>

#include "chain/bytes.h"
#include "chain/smt.h"

namespace puhui {

class RecentNodes {
 public:
  explicit RecentNodes(size_t max_bytes) : max_bytes_(max_bytes) {}
  RecentNodes(const RecentNodes&) = delete;
  RecentNodes& operator=(const RecentNodes&) = delete;

  // One block's nodes, stored in the node log from offset `base`; blocks come in log order.
  // A block larger than the whole budget is not kept, and neither is any block before it.
  void Add(uint64_t base, ByteView bytes);
  // The node at `ptr` into `out` (reusing its capacity), if it lies inside a kept block.
  bool Read(const SmtNodePtr& ptr, Bytes& out) const;

  size_t bytes() const;

 private:
  struct Block {
    uint64_t base = 0;
    Bytes bytes;
  };
  const size_t max_bytes_;
  mutable std::shared_mutex mu_;
  std::deque<Block> blocks_;  // by base, ascending; guarded by mu_
  size_t bytes_ = 0;          // guarded by mu_
  Bytes spare_;               // the last dropped block's buffer, for the next Add; guarded by mu_
};

}  // namespace puhui
