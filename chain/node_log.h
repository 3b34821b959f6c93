// The state tree's node log: an append-only file holding every node of every state root, each
// stored once, in the order the tree update produced them. A node is found by where it is
// (offset and length), which its parent keeps beside its hash (chain/smt.h, SmtNodePtr), so a
// read is one pread and a block's nodes are one sequential write: none of the index upkeep and
// background merging a key-value store spends on keys as random as node hashes.
//
// The log is part of the block store (chain/block_store.h), which records the committed end of
// the log in the same synced batch as each block. A block's nodes are written and synced first;
// whatever lies past the committed end after a crash was never committed and is cut off on open.
//
// Thread-safety: Read may run concurrently with everything; Append and Truncate from one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "chain/bytes.h"
#include "chain/smt.h"
#include "chain/status.h"

namespace puhui {

class NodeLog {
 public:
  // Opens `path`, creating it (and syncing its directory) if absent. `durable` = false skips
  // every fsync: for scratch stores only.
  static Result<std::unique_ptr<NodeLog>> Open(const std::string& path, bool durable);
  ~NodeLog();
  NodeLog(const NodeLog&) = delete;
  NodeLog& operator=(const NodeLog&) = delete;

  // The file's size when opened (committed nodes plus any tail a crash left behind).
  uint64_t size_on_open() const { return size_on_open_; }
  // Cuts the file to `end` bytes and syncs it.
  Status Truncate(uint64_t end);
  // Writes `bytes` (nodes back to back) at `offset` and syncs; returns the new end.
  Result<uint64_t> Append(uint64_t offset, ByteView bytes);
  // The bytes at `ptr` into `out`; false if the file is shorter or the read fails.
  bool Read(const SmtNodePtr& ptr, Bytes& out) const;

 private:
  NodeLog(std::string path, int fd, bool durable, uint64_t size)
      : path_(std::move(path)), fd_(fd), durable_(durable), size_on_open_(size) {}
  Status Sync();

  std::string path_;
  int fd_;
  bool durable_;
  uint64_t size_on_open_;
};

}  // namespace puhui
