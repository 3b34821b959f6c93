// An append-only file of the block store (chain/block_store.h): records written once, back to
// back, and found by where they are (offset and length), which the store keeps in LevelDB. A
// block's records are one sequential write and a read is one pread: none of the index upkeep and
// background merging a key-value store spends on data that never changes.
//
// The store has two: the state tree's nodes (`tree-nodes`; a node's place is kept by its parent,
// chain/smt.h SmtNodePtr) and the blocks with their certificates and receipts (`blocks`). It
// records each file's committed end in the same synced batch as each block. A block's records are
// written and synced first; whatever lies past the committed end after a crash was never
// committed and is cut off on open.
//
// Thread-safety: Read may run concurrently with everything; Append and Truncate from one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "chain/bytes.h"
#include "chain/status.h"

namespace puhui {

class AppendLog {
 public:
  // How the file's records are read: single small ones at scattered offsets (no read-ahead), or
  // large ones and runs of them in order.
  enum class Reads { kScattered, kSequential };

  // Opens `path`, creating it (and syncing its directory) if absent. `durable` = false skips
  // every fsync: for scratch stores only.
  static Result<std::unique_ptr<AppendLog>> Open(const std::string& path, bool durable,
                                                 Reads reads);
  ~AppendLog();
  AppendLog(const AppendLog&) = delete;
  AppendLog& operator=(const AppendLog&) = delete;

  const std::string& path() const { return path_; }
  // The file's size when opened (committed records plus any tail a crash left behind).
  uint64_t size_on_open() const { return size_on_open_; }
  // Cuts the file to `end` bytes and syncs it.
  Status Truncate(uint64_t end);
  // Writes `bytes` at `offset` and syncs; returns the new end.
  Result<uint64_t> Append(uint64_t offset, ByteView bytes);
  // The `length` bytes at `offset` into `out`; false if the file is shorter or the read fails.
  bool Read(uint64_t offset, uint32_t length, Bytes& out) const;
  bool Read(uint64_t offset, uint32_t length, std::string& out) const;

 private:
  AppendLog(std::string path, int fd, bool durable, uint64_t size)
      : path_(std::move(path)), fd_(fd), durable_(durable), size_on_open_(size) {}
  Status Sync();
  bool ReadInto(uint64_t offset, uint32_t length, void* out) const;

  std::string path_;
  int fd_;
  bool durable_;
  uint64_t size_on_open_;
};

}  // namespace puhui
