#include "contracts/state.h"

namespace puhui {

Result<std::optional<Bytes>> CachedReader::Get(ByteView key) const {
  if (auto it = reads_.find(key); it != reads_.end()) return it->second;
  auto got = base_.Get(key);
  if (got.ok()) reads_.emplace(Bytes(key.begin(), key.end()), *got);
  return got;
}

Result<std::optional<Bytes>> StateOverlay::Get(ByteView key) const {
  auto it = changes_.find(key);
  if (it != changes_.end()) return it->second;
  return base_.Get(key);
}

void StateOverlay::Absorb(StateOverlay&& child) {
  PUHUI_CHECK(&child.base_ == this, "absorbing an overlay that is not a child of this one");
  // Whole map nodes move across: no key or value is copied.
  while (!child.changes_.empty()) {
    auto node = child.changes_.extract(child.changes_.begin());
    auto placed = changes_.insert(std::move(node));
    if (!placed.inserted) placed.position->second = std::move(placed.node.mapped());
  }
}

}  // namespace puhui
