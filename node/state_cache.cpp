#include "node/state_cache.h"

#include <cstring>

namespace puhui {

size_t StateKeyHash::operator()(ByteView key) const {
  uint64_t x = seed ^ key.size();
  size_t i = 0;
  for (; i + 8 <= key.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, key.data() + i, sizeof word);
    x = Mix64(x ^ word);
  }
  uint64_t tail = 0;
  if (i < key.size()) std::memcpy(&tail, key.data() + i, key.size() - i);
  return static_cast<size_t>(Mix64(x ^ tail));
}

size_t StateCache::Size(ByteView key, const std::optional<Bytes>& value) {
  constexpr size_t kEntryOverhead = 96;  // the map's node, bucket and both vectors' headers
  return key.size() + (value ? value->size() : 0) + kEntryOverhead;
}

bool StateCache::Find(ByteView key, std::optional<Bytes>& value) {
  if (auto it = young_.find(key); it != young_.end()) {
    value = it->second;
    return true;
  }
  auto it = old_.find(key);
  if (it == old_.end()) return false;
  value = it->second;
  Put(key, value);  // still in use: keep it past the next turnover
  return true;
}

void StateCache::Put(ByteView key, const std::optional<Bytes>& value) {
  if (young_bytes_ >= generation_bytes_) {
    old_ = std::move(young_);
    old_bytes_ = young_bytes_;
    young_ = Map();
    young_bytes_ = 0;
  }
  auto [it, inserted] = young_.try_emplace(Bytes(key.begin(), key.end()), value);
  if (inserted) {
    young_bytes_ += Size(key, value);
    return;
  }
  young_bytes_ -= Size(key, it->second);
  it->second = value;
  young_bytes_ += Size(key, value);
}

void StateCache::Committed(const StateChanges& changes) {
  for (const auto& [key, value] : changes) {
    // A value left in the old generation would come back on a later lookup: drop it.
    if (auto it = old_.find(ByteView(key)); it != old_.end()) {
      old_bytes_ -= Size(key, it->second);
      old_.erase(it);
    }
    Put(key, value);
  }
}

}  // namespace puhui
