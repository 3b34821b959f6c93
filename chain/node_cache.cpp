#include "chain/node_cache.h"

#include <cstring>

namespace puhui {

std::optional<Bytes> NodeCache::Get(const Hash32& hash) const {
  Shard& s = ShardOf(hash);
  std::lock_guard lock(s.mu);
  auto it = s.nodes.find(hash);
  if (it == s.nodes.end()) return std::nullopt;
  return it->second;
}

void NodeCache::Put(const Hash32& hash, const Bytes& node) {
  constexpr size_t kOverhead = 64;  // map entry, deque slot and allocation headers, roughly
  Shard& s = ShardOf(hash);
  std::lock_guard lock(s.mu);
  if (!s.nodes.try_emplace(hash, node).second) return;
  s.order.push_back(hash);
  s.bytes += node.size() + kOverhead;
  while (s.bytes > max_bytes_per_shard_ && !s.order.empty()) {
    auto it = s.nodes.find(s.order.front());
    s.bytes -= it->second.size() + kOverhead;
    s.nodes.erase(it);
    s.order.pop_front();
  }
}

}  // namespace puhui
