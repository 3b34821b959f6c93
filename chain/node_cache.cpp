#include "chain/node_cache.h"

#include <algorithm>
#include <mutex>

#include "chain/hash.h"

namespace puhui {

NodeCache::NodeCache(size_t max_bytes)
    : generation_bytes_(max_bytes / 2), seed_(SecretSeed()), young_(seed_), old_(seed_) {}

std::optional<Bytes> NodeCache::Get(const Hash32& hash) const {
  Bytes node;
  if (!Read(hash, node)) return std::nullopt;
  return node;
}

bool NodeCache::Read(const Hash32& hash, Bytes& out) const {
  std::shared_lock lock(mu_);
  return young_.ReadSmtNode(SmtRef(hash), out) || old_.ReadSmtNode(SmtRef(hash), out);
}

void NodeCache::Put(const Hash32& hash, ByteView node) {
  std::unique_lock lock(mu_);
  PutLocked(hash, node);
}

void NodeCache::PutLocked(const Hash32& hash, ByteView node) {
  if (young_.bytes() >= generation_bytes_) {
    old_ = std::move(young_);
    young_ = MemorySmtNodes(seed_);
  }
  young_.Put(hash, node);
}

}  // namespace puhui
