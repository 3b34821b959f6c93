#include "node/committed_nonces.h"

namespace puhui {

std::optional<uint64_t> CommittedNonces::Find(const PublicKey& sender, uint64_t& generation) const {
  std::lock_guard lock(mu_);
  generation = generation_;
  auto it = nonces_.find(sender);
  if (it == nonces_.end()) return std::nullopt;
  return it->second;
}

void CommittedNonces::Offer(const PublicKey& sender, uint64_t nonce, uint64_t generation) {
  std::lock_guard lock(mu_);
  if (generation == generation_) Insert(sender, nonce);
}

void CommittedNonces::Committed(const std::vector<std::pair<PublicKey, uint64_t>>& nonces) {
  std::lock_guard lock(mu_);
  ++generation_;
  for (const auto& [sender, nonce] : nonces) Insert(sender, nonce);
}

size_t CommittedNonces::size() const {
  std::lock_guard lock(mu_);
  return nonces_.size();
}

void CommittedNonces::Insert(const PublicKey& sender, uint64_t nonce) {
  auto it = nonces_.find(sender);
  if (it != nonces_.end()) {
    it->second = nonce;
    return;
  }
  if (nonces_.size() >= capacity_) nonces_.clear();
  nonces_.emplace(sender, nonce);
}

}  // namespace puhui
