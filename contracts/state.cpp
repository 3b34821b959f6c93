#include "contracts/state.h"

namespace puhui {

Result<std::optional<Bytes>> StateOverlay::Get(ByteView key) const {
  // Heterogeneous lookup would avoid this copy; keys are short, so it is not worth a custom
  // comparator.
  auto it = changes_.find(Bytes(key.begin(), key.end()));
  if (it != changes_.end()) return it->second;
  return base_.Get(key);
}

void StateOverlay::Absorb(StateOverlay&& child) {
  PUHUI_CHECK(&child.base_ == this, "absorbing an overlay that is not a child of this one");
  for (auto& [key, value] : child.changes_) changes_[key] = std::move(value);
  child.changes_.clear();
}

}  // namespace puhui
