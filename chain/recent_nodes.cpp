#include "chain/recent_nodes.h"

#include <algorithm>
#include <mutex>

#include "chain/status.h"

namespace puhui {

void RecentNodes::Add(uint64_t base, ByteView bytes) {
  if (bytes.empty()) return;
  // Into the buffer of a block dropped earlier where there is one (outside the lock: readers go
  // on meanwhile). A block's nodes are megabytes, and a fresh buffer that size costs a page fault
  // per 4 KiB on first touch, as the allocator hands such sizes back to the system when freed.
  Bytes copy;
  {
    std::unique_lock lock(mu_);
    copy = std::move(spare_);
  }
  copy.assign(bytes.begin(), bytes.end());
  std::unique_lock lock(mu_);
  PUHUI_CHECK(blocks_.empty() || base >= blocks_.back().base + blocks_.back().bytes.size(),
              "tree nodes added out of log order");
  if (copy.size() > max_bytes_) {
    // Not kept, and nothing before it either: what is held stays the log's last blocks, so a node
    // read from the log is always older than all of it (see the header).
    blocks_.clear();
    bytes_ = 0;
    return;
  }
  while (!blocks_.empty() && bytes_ + copy.size() > max_bytes_) {
    bytes_ -= blocks_.front().bytes.size();
    spare_ = std::move(blocks_.front().bytes);
    blocks_.pop_front();
  }
  bytes_ += copy.size();
  blocks_.push_back(Block{base, std::move(copy)});
}

bool RecentNodes::Read(const SmtNodePtr& ptr, Bytes& out) const {
  if (ptr.length == 0) return false;
  std::shared_lock lock(mu_);
  // The last block starting at or before the node.
  auto it = std::upper_bound(blocks_.begin(), blocks_.end(), ptr.offset,
                             [](uint64_t offset, const Block& b) { return offset < b.base; });
  if (it == blocks_.begin()) return false;
  const Block& b = *--it;
  const uint64_t at = ptr.offset - b.base;
  if (at > b.bytes.size() || ptr.length > b.bytes.size() - at) return false;
  const auto first = b.bytes.begin() + static_cast<ptrdiff_t>(at);
  out.assign(first, first + ptr.length);
  return true;
}

size_t RecentNodes::bytes() const {
  std::shared_lock lock(mu_);
  return bytes_;
}

}  // namespace puhui
