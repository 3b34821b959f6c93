#include "contracts/state.h"

#include <algorithm>

#include "chain/hash.h"

namespace puhui {

namespace {

Result<std::optional<Bytes>> CopyOf(const Result<const Bytes*>& found) {
  if (!found.ok()) return found.status();
  if (*found == nullptr) return std::optional<Bytes>();
  return std::optional<Bytes>(**found);
}

bool SameKey(ByteView a, ByteView b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

// The overlay's index: seeded with a secret, so keys chosen by users cannot crowd one run of slots.
uint64_t KeyHash(ByteView key) {
  static const uint64_t seed = SecretSeed();
  return SeededHash(seed, key);
}

}  // namespace

Result<const Bytes*> StateReader::Find(ByteView key, std::optional<Bytes>& scratch) const {
  auto got = Get(key);
  if (!got.ok()) return got.status();
  scratch = std::move(*got);
  return scratch ? &*scratch : nullptr;
}

StateOverlay::Entry* StateOverlay::Lookup(ByteView key) const {
  if (slots_.empty()) {
    for (Entry& e : entries_) {
      if (SameKey(e.key, key)) return &e;
    }
    return nullptr;
  }
  const uint64_t hash = KeyHash(key);
  const size_t mask = slots_.size() - 1;
  for (size_t i = hash & mask; slots_[i] != 0; i = (i + 1) & mask) {
    Entry& e = entries_[slots_[i] - 1];
    if (e.hash == hash && SameKey(e.key, key)) return &e;
  }
  return nullptr;
}

void StateOverlay::Index(uint32_t entry) const {
  Entry& e = entries_[entry];
  e.hash = KeyHash(e.key);
  const size_t mask = slots_.size() - 1;
  size_t i = e.hash & mask;
  while (slots_[i] != 0) i = (i + 1) & mask;
  slots_[i] = entry + 1;
}

StateOverlay::Entry& StateOverlay::Add(Bytes key, std::optional<Bytes> value, bool written) const {
  PUHUI_CHECK(entries_.size() < UINT32_MAX - 1, "state overlay too large");
  entries_.push_back(Entry{std::move(key), std::move(value), 0, written});
  const auto n = static_cast<uint32_t>(entries_.size());
  if (n <= kFew) return entries_.back();
  if (n * 2 > slots_.size()) {
    // Build or double the index (a rehash from the kept hashes, or all of them the first time).
    slots_.assign(std::max<size_t>(64, slots_.size() * 2), 0);
    for (uint32_t i = 0; i < n; ++i) Index(i);
  } else {
    Index(n - 1);
  }
  return entries_.back();
}

Result<std::optional<Bytes>> StateOverlay::Get(ByteView key) const {
  std::optional<Bytes> scratch;
  return CopyOf(Find(key, scratch));
}

Result<const Bytes*> StateOverlay::Find(ByteView key, std::optional<Bytes>& scratch) const {
  if (const Entry* e = Lookup(key)) return e->value ? &*e->value : nullptr;
  if (!remember_) return base_.Find(key, scratch);
  auto read = base_.Get(key);
  if (!read.ok()) return read.status();  // not remembered: the next read tries again
  const Entry& e = Add(Bytes(key.begin(), key.end()), std::move(*read), false);
  return e.value ? &*e.value : nullptr;
}

bool StateOverlay::Changed(ByteView key) const {
  const Entry* e = Lookup(key);
  return e != nullptr && e->written;
}

void StateOverlay::Set(Bytes key, std::optional<Bytes> value) {
  if (Entry* e = Lookup(key)) {
    e->value = std::move(value);
    e->written = true;
    return;
  }
  Add(std::move(key), std::move(value), true);
}

void StateOverlay::Absorb(StateOverlay&& child) {
  PUHUI_CHECK(&child.base_ == this, "absorbing an overlay that is not a child of this one");
  for (Entry& e : child.entries_) {
    if (e.written) Set(std::move(e.key), std::move(e.value));
  }
  child.entries_.clear();
  child.slots_.clear();
}

std::vector<StateOverlay::Entry*> StateOverlay::WrittenInOrder() const {
  // Sorted as (key view, entry) pairs: a comparison reads the two keys' bytes and nothing else.
  struct Keyed {
    ByteView key;
    Entry* entry;
  };
  std::vector<Keyed> keyed;
  keyed.reserve(entries_.size());
  for (Entry& e : entries_) {
    if (e.written) keyed.push_back({e.key, &e});
  }
  // Keys are distinct, so the order is total and the same however the entries were kept.
  std::sort(keyed.begin(), keyed.end(),
            [](const Keyed& a, const Keyed& b) { return BytesLess()(a.key, b.key); });
  std::vector<Entry*> order;
  order.reserve(keyed.size());
  for (const Keyed& k : keyed) order.push_back(k.entry);
  return order;
}

StateChanges StateOverlay::changes() const {
  StateChanges out;
  for (const Entry* e : WrittenInOrder()) out.emplace_hint(out.end(), e->key, e->value);
  return out;
}

StateChanges StateOverlay::TakeChanges() {
  StateChanges out;
  for (Entry* e : WrittenInOrder()) {
    out.emplace_hint(out.end(), std::move(e->key), std::move(e->value));
  }
  entries_.clear();
  slots_.clear();
  return out;
}

}  // namespace puhui
