// Which peers may have missed transactions relayed to them, so that the transactions still
// waiting are offered to them again (Node::Reoffer, Mempool::TakeStale). Gossip is best effort: a
// peer misses what was relayed while it was not connected, what it refused for lack of room (it
// counts those in its status messages), and what this node dropped on the way because the peer's
// connection read too slowly. Peers that missed nothing get no second copies, and each event buys
// one offer (at most Mempool's max_reoffer_txs): under a backlog every waiting transaction is
// stale, and offering them all to every peer after every block cost 5-15 % of a loaded
// network's throughput. Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <vector>

#include "chain/keys.h"

namespace puhui {

class MissedGossip {
 public:
  // The peer (re)connected while this node held transactions: those relayed meanwhile did not
  // reach it.
  void Connected(const PublicKey& peer);
  // The peer's own count of relayed transactions it refused or dropped, from its status message.
  void PeerRefused(const PublicKey& peer, uint64_t refused_total);
  // This node's count of relayed-transaction frames dropped on the way to the peer.
  void Dropped(const PublicKey& peer, uint64_t dropped_total);

  // The peers that missed something since they were last offered everything waiting.
  std::vector<PublicKey> Due() const;
  // `peers` were just offered what was waiting longest; they are due again on the next event.
  void Offered(const std::vector<PublicKey>& peers);

 private:
  struct Peer {
    uint64_t refused_seen = 0;
    uint64_t dropped_seen = 0;
    bool missed = false;
  };
  mutable std::mutex mu_;
  std::map<PublicKey, Peer> peers_;
};

}  // namespace puhui
