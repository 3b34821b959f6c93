#include "node/missed_gossip.h"

namespace puhui {

void MissedGossip::Connected(const PublicKey& peer) {
  std::lock_guard lock(mu_);
  Peer& p = peers_[peer];
  p.missed = true;
  p.refused_seen = 0;  // a restarted peer counts from zero again
  p.dropped_seen = 0;  // and so does a new connection
}

void MissedGossip::PeerRefused(const PublicKey& peer, uint64_t refused_total) {
  std::lock_guard lock(mu_);
  Peer& p = peers_[peer];
  if (refused_total != p.refused_seen) p.missed = true;
  p.refused_seen = refused_total;
}

void MissedGossip::Dropped(const PublicKey& peer, uint64_t dropped_total) {
  std::lock_guard lock(mu_);
  Peer& p = peers_[peer];
  if (dropped_total > p.dropped_seen) p.missed = true;
  p.dropped_seen = dropped_total;
}

std::vector<PublicKey> MissedGossip::Due() const {
  std::lock_guard lock(mu_);
  std::vector<PublicKey> out;
  for (const auto& [key, p] : peers_) {
    if (p.missed) out.push_back(key);
  }
  return out;
}

void MissedGossip::Offered(const std::vector<PublicKey>& peers) {
  std::lock_guard lock(mu_);
  for (const PublicKey& key : peers) peers_[key].missed = false;
}

}  // namespace puhui
