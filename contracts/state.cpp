#include "contracts/state.h"

#include <algorithm>

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

}  // namespace

Result<const Bytes*> StateReader::Find(ByteView key, std::optional<Bytes>& scratch) const {
  auto got = Get(key);
  if (!got.ok()) return got.status();
  scratch = std::move(*got);
  return scratch ? &*scratch : nullptr;
}

Result<std::optional<Bytes>> CachedReader::Get(ByteView key) const {
  std::optional<Bytes> unused;
  return CopyOf(Find(key, unused));
}

Result<const Bytes*> CachedReader::Find(ByteView key, std::optional<Bytes>&) const {
  auto it = reads_.lower_bound(key);
  if (it == reads_.end() || BytesLess()(key, it->first)) {
    auto got = base_.Get(key);
    if (!got.ok()) return got.status();
    it = reads_.emplace_hint(it, Bytes(key.begin(), key.end()), std::move(*got));
  }
  return it->second ? &*it->second : nullptr;
}

Result<std::optional<Bytes>> StateOverlay::Get(ByteView key) const {
  if (const auto* written = Written(key)) return *written;
  return base_.Get(key);
}

Result<const Bytes*> StateOverlay::Find(ByteView key, std::optional<Bytes>& scratch) const {
  if (const auto* written = Written(key)) return *written ? &**written : nullptr;
  return base_.Find(key, scratch);
}

const std::optional<Bytes>* StateOverlay::Written(ByteView key) const {
  if (!spilled_) {
    for (const auto& [k, v] : few_) {
      if (SameKey(k, key)) return &v;
    }
    return nullptr;
  }
  auto it = changes_.find(key);
  return it == changes_.end() ? nullptr : &it->second;
}

void StateOverlay::Set(Bytes key, std::optional<Bytes> value) {
  if (!spilled_) {
    for (auto& [k, v] : few_) {
      if (SameKey(k, key)) {
        v = std::move(value);
        return;
      }
    }
    if (few_.size() < kFew) {
      if (few_.empty()) few_.reserve(kFew);  // one allocation per transaction
      few_.emplace_back(std::move(key), std::move(value));
      return;
    }
    Spill();
  }
  changes_.insert_or_assign(std::move(key), std::move(value));
}

void StateOverlay::Spill() const {
  if (spilled_) return;
  // The keys are distinct, so the order they go in does not matter.
  for (auto& [k, v] : few_) changes_.emplace(std::move(k), std::move(v));
  few_.clear();
  few_.shrink_to_fit();
  spilled_ = true;
}

void StateOverlay::Absorb(StateOverlay&& child) {
  PUHUI_CHECK(&child.base_ == this, "absorbing an overlay that is not a child of this one");
  for (auto& [k, v] : child.few_) Set(std::move(k), std::move(v));
  child.few_.clear();
  if (child.changes_.empty()) return;
  Spill();
  // Whole map nodes move across: no key or value is copied.
  while (!child.changes_.empty()) {
    auto node = child.changes_.extract(child.changes_.begin());
    auto placed = changes_.insert(std::move(node));
    if (!placed.inserted) placed.position->second = std::move(placed.node.mapped());
  }
}

const StateChanges& StateOverlay::changes() const {
  Spill();
  return changes_;
}

StateChanges StateOverlay::TakeChanges() {
  Spill();
  StateChanges out = std::move(changes_);
  changes_.clear();
  return out;
}

}  // namespace puhui
