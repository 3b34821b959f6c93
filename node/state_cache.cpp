#include "node/state_cache.h"

#include <algorithm>
#include <cstring>

#include "chain/hash.h"
#include "chain/status.h"

namespace puhui {
namespace {

constexpr uint32_t kAbsent = 0xffffffff;  // value length of a key read or deleted as absent
constexpr size_t kHeader = 8;             // key length u32, value length u32

uint32_t Load32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

}  // namespace

StateCache::StateCache(size_t max_bytes)
    : generation_bytes_(max_bytes / 2),
      chunk_bytes_(std::clamp<size_t>(max_bytes / 32, 1 << 10, 1 << 20)),
      seed_(SecretSeed()),
      young_(chunk_bytes_),
      old_(chunk_bytes_) {}

size_t StateCache::Generation::SlotOf(ByteView key, uint64_t hash) const {
  const size_t mask = slots_.size() - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.chunk == kEmptySlot) return i;
    if (s.hash != hash) continue;
    const uint8_t* e = Entry(s);
    if (Load32(e) == key.size() && std::memcmp(e + kHeader, key.data(), key.size()) == 0) return i;
  }
}

bool StateCache::Generation::Find(ByteView key, uint64_t hash, bool& present,
                                  ByteView& value) const {
  if (slots_.empty()) return false;
  const Slot& s = slots_[SlotOf(key, hash)];
  if (s.chunk == kEmptySlot) return false;
  const uint8_t* e = Entry(s);
  const uint32_t length = Load32(e + 4);
  present = length != kAbsent;
  value = present ? ByteView(e + kHeader + key.size(), length) : ByteView();
  return true;
}

void StateCache::Generation::Put(ByteView key, uint64_t hash, const Bytes* value) {
  if ((size_ + 1) * 4 > slots_.size() * 3) Grow();
  const size_t value_size = value ? value->size() : 0;
  PUHUI_CHECK(key.size() < kAbsent && value_size < kAbsent, "state entry too large");
  const size_t need = kHeader + key.size() + value_size;
  if (arena_.empty() || arena_.back().capacity() - arena_.back().size() < need) {
    arena_.emplace_back().reserve(std::max(chunk_bytes_, need));
  }
  Bytes& chunk = arena_.back();
  const auto offset = static_cast<uint32_t>(chunk.size());
  uint8_t header[kHeader];
  const auto key_length = static_cast<uint32_t>(key.size());
  const uint32_t value_length = value ? static_cast<uint32_t>(value_size) : kAbsent;
  std::memcpy(header, &key_length, 4);
  std::memcpy(header + 4, &value_length, 4);
  chunk.insert(chunk.end(), header, header + kHeader);
  chunk.insert(chunk.end(), key.begin(), key.end());
  if (value) chunk.insert(chunk.end(), value->begin(), value->end());
  // The key's slot if it has one (the new entry replaces the old, which stays as garbage until
  // the generation is dropped), else the first empty one.
  Slot& s = slots_[SlotOf(key, hash)];
  if (s.chunk == kEmptySlot) ++size_;
  s = Slot{hash, static_cast<uint32_t>(arena_.size() - 1), offset};
}

void StateCache::Generation::Grow() {
  std::vector<Slot> old(std::max<size_t>(64, slots_.size() * 2));
  old.swap(slots_);
  const size_t mask = slots_.size() - 1;
  for (const Slot& s : old) {
    if (s.chunk == kEmptySlot) continue;
    size_t i = s.hash & mask;
    while (slots_[i].chunk != kEmptySlot) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

void StateCache::Rotate() {
  if (young_.bytes() < generation_bytes_) return;
  old_ = std::move(young_);
  young_ = Generation(chunk_bytes_);
}

bool StateCache::Find(ByteView key, std::optional<Bytes>& value) {
  const uint64_t hash = SeededHash(seed_, key);
  bool present = false;
  ByteView found;
  if (young_.Find(key, hash, present, found)) {
    value = present ? std::optional<Bytes>(Bytes(found.begin(), found.end())) : std::nullopt;
    return true;
  }
  if (!old_.Find(key, hash, present, found)) return false;
  value = present ? std::optional<Bytes>(Bytes(found.begin(), found.end())) : std::nullopt;
  Put(key, value);  // still in use: keep it past the next turnover
  return true;
}

void StateCache::Put(ByteView key, const std::optional<Bytes>& value) {
  Rotate();
  young_.Put(key, SeededHash(seed_, key), value ? &*value : nullptr);
}

void StateCache::Committed(const StateChanges& changes) {
  for (const auto& [key, value] : changes) Put(key, value);
}

}  // namespace puhui
