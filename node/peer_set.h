// The node's peers: a listener for inbound connections, a dialer per configured address that
// reconnects with exponential backoff, and a table of established, authenticated connections by
// node key. Messages that arrive go to one handler; the node sends to one peer or to all.
//
// Who may connect is decided in the handshake (is_allowed: the validators' node keys and the
// configured observers). A peer that sends provably bad data is scored (Misbehaved); at
// kBanScore it is disconnected and refused for ban_time. Scores are forgiven a point per
// score_decay, so that rare mistakes spread over days (a relayed transaction that went stale, a
// message kind from a newer version) never add up to a ban.
//
// Two nodes that dial each other end up with two connections; both sides keep the one dialled by
// the smaller key, so they agree without talking about it.
//
// Threads: every method is safe from any thread; handlers run on connection strands (io threads).
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "chain/keys.h"
#include "chain/status.h"
#include "node/config.h"
#include "node/p2p_connection.h"
#include "puhui.pb.h"

namespace puhui {

struct PeerSetConfig {
  static constexpr int kDefaultBanScore = 100;

  std::string chain_id;
  std::string listen_address = "127.0.0.1";
  uint16_t listen_port = 0;  // 0: pick a free port
  std::vector<HostPort> dial;
  std::function<bool(const PublicKey&)> is_allowed;
  P2pLimits limits = {};
  std::chrono::milliseconds min_backoff{200};
  std::chrono::milliseconds max_backoff{5'000};
  int ban_score = kDefaultBanScore;
  std::chrono::milliseconds ban_time{60'000};
  // One point of a peer's score is forgiven per interval: a full ban score in ~17 minutes.
  std::chrono::milliseconds score_decay{10'000};
};

struct PeerInfo {
  PublicKey key;
  std::string remote;  // address as seen by the socket
  bool outbound = false;
  int score = 0;                // misbehaviour, as decayed now
  uint64_t relays_dropped = 0;  // relayed-transaction frames dropped on the way (slow reader)
};

class PeerSet {
 public:
  using MessageHandler = std::function<void(const PublicKey& peer, pb::P2pMessage message)>;
  using ConnectHandler = std::function<void(const PublicKey& peer)>;

  // `node_key` is this node's p2p identity.
  PeerSet(boost::asio::io_context& io, PrivateKey node_key, PeerSetConfig config,
          MessageHandler on_message, ConnectHandler on_connect);
  ~PeerSet();  // Stop()s
  PeerSet(const PeerSet&) = delete;
  PeerSet& operator=(const PeerSet&) = delete;

  // Starts listening and dialling. kIoError if the listen address cannot be bound.
  Status Start();
  // Closes every connection and stops dialling. Safe to call repeatedly.
  void Stop();

  // Sends to every established peer (except `except`, if given).
  void Broadcast(const pb::P2pMessage& message, const PublicKey* except = nullptr);
  // False if `peer` is not connected.
  bool SendTo(const PublicKey& peer, const pb::P2pMessage& message);
  // Adds `score` to the peer's misbehaviour; at ban_score it is dropped and banned for ban_time.
  void Misbehaved(const PublicKey& peer, int score, const std::string& reason);

  std::vector<PeerInfo> Peers() const;
  uint16_t port() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace puhui
