// One authenticated, encrypted p2p connection over TCP (Boost.Asio), and a listener that accepts
// them. A connection first runs the handshake of node/p2p_handshake.h in handshake-sized frames,
// then carries serialised P2pMessages in sealed frames (node/p2p_cipher.h, node/p2p_frame.h).
// It ends, calling on_close exactly once with the reason, when the peer fails the handshake or
// does not finish it in time, sends an oversize, forged, replayed or malformed frame, sends frames
// faster than its token bucket allows, stays silent past the idle timeout, or the socket fails.
// Threads: each connection lives on its own strand; Send and Close are safe from any thread, and
// the callbacks run on the connection's strand, one at a time. The io_context must outlive every
// connection and listener made on it.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "chain/keys.h"
#include "chain/limits.h"
#include "chain/status.h"
#include "node/p2p_cipher.h"
#include "node/p2p_frame.h"
#include "node/p2p_handshake.h"
#include "puhui.pb.h"

namespace puhui {

struct P2pLimits {
  static constexpr std::chrono::milliseconds kDefaultHandshakeTimeout{5'000};
  static constexpr std::chrono::milliseconds kDefaultIdleTimeout{60'000};
  // Consensus sends a few messages per height and transactions travel in batches, so thousands
  // of frames a second is far above an honest peer and still cheap to refuse.
  static constexpr uint32_t kDefaultFramesPerSecond = 5'000;
  static constexpr uint32_t kDefaultBurstFrames = 10'000;
  static constexpr size_t kDefaultMaxSendQueueFrames = 20'000;
  // Relayed transactions waiting to be sent to one peer: beyond this they are dropped, not queued
  // (gossip is best effort: the sender keeps them in its mempool and offers them to the peer again
  // later, node/missed_gossip.h). A frame of relayed transactions can be megabytes, so the frame
  // count alone bounds nothing.
  static constexpr size_t kDefaultMaxBulkQueueBytes = 32u << 20;
  static constexpr size_t kDefaultMaxInboundConnections = 64;

  // Connect plus handshake must finish within this, or the connection is closed.
  std::chrono::milliseconds handshake_timeout = kDefaultHandshakeTimeout;
  // A peer that sends nothing for this long is dropped; a side that has sent nothing for a third
  // of it sends a keepalive, so an idle but healthy connection stays up.
  std::chrono::milliseconds idle_timeout = kDefaultIdleTimeout;
  uint32_t frames_per_second = kDefaultFramesPerSecond;  // token-bucket refill per peer
  uint32_t burst_frames = kDefaultBurstFrames;           // token-bucket size
  size_t max_frame_bytes = kMaxFrameBytes;  // after the handshake; at most kMaxFrameBytes
  size_t max_send_queue_frames = kDefaultMaxSendQueueFrames;  // a peer that reads slower is dropped
  size_t max_bulk_queue_bytes = kDefaultMaxBulkQueueBytes;  // relayed transactions beyond: dropped
  size_t max_inbound_connections = kDefaultMaxInboundConnections;
};

struct P2pConfig {
  std::string chain_id;
  PrivateKey node_key;
  // Validators and configured observers may connect; everyone else is refused in the handshake.
  // Called on connection strands, so possibly from several threads at once.
  std::function<bool(const PublicKey&)> is_allowed;
  P2pLimits limits = {};
};

class P2pConnection;

// Each connection calls its own callbacks one at a time; different connections' callbacks may run
// at the same time on different threads.
struct P2pCallbacks {
  // The handshake is done: `connection` is the handle to Send on (keep it in a peer table).
  std::function<void(const std::shared_ptr<P2pConnection>& connection, const PublicKey& peer)>
      on_established;
  std::function<void(const PublicKey& peer, pb::P2pMessage message)> on_message;
  std::function<void(const Status& reason)> on_close;  // exactly once, then no other callback
};

class P2pConnection : public std::enable_shared_from_this<P2pConnection> {
 public:
  // A connection over an accepted socket (whose executor should be a strand); call Start().
  static std::shared_ptr<P2pConnection> Accepted(boost::asio::ip::tcp::socket socket,
                                                 P2pConfig config, P2pCallbacks callbacks);
  // Connects to `remote` and runs the handshake as initiator. A failure to connect is reported
  // through on_close like any other.
  static std::shared_ptr<P2pConnection> Dial(boost::asio::io_context& io,
                                             const boost::asio::ip::tcp::endpoint& remote,
                                             P2pConfig config, P2pCallbacks callbacks);

  // Starts the handshake and the timers of an Accepted connection.
  void Start();
  // Relayed-transaction frames dropped so far because the peer reads too slowly.
  uint64_t bulk_dropped() const { return bulk_dropped_.load(std::memory_order_relaxed); }
  // Queues a message; before the handshake is done it waits, after a close it is dropped. The
  // message must fit a frame (every consensus message does: kMaxBlockBytes < kMaxFrameBytes).
  void Send(const pb::P2pMessage& message);
  // Closes the connection with `reason` given to on_close (unless already closed).
  void Close(Status reason);

  // Do not call: public for make_shared. Use Accepted or Dial.
  P2pConnection(boost::asio::ip::tcp::socket socket, Handshake::Role role, P2pConfig config,
                P2pCallbacks callbacks);

 private:
  using Clock = std::chrono::steady_clock;

  void StartOnStrand();
  void DoRead();
  void OnRead(const boost::system::error_code& ec, size_t n);
  void HandleFrame(std::string payload);
  void HandleMessage(std::string payload);
  bool TakeToken();
  // Queues a serialised message for sealing and sending: urgent ones (consensus, sync) go before
  // bulk ones (relayed transactions).
  void Enqueue(std::string plaintext, bool urgent);
  void QueueWire(std::string wire);
  void DoWrite();
  void ArmTick();
  void CloseNow(Status reason);

  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer handshake_timer_;
  boost::asio::steady_timer tick_timer_;
  const Handshake::Role role_;
  const P2pConfig config_;
  P2pCallbacks callbacks_;

  std::optional<Handshake> handshake_;
  std::optional<FrameSealer> sealer_;
  std::optional<FrameOpener> opener_;
  PublicKey peer_key_;
  bool established_ = false;
  bool closed_ = false;
  FrameDecoder decoder_{kMaxHandshakeFrameBytes};
  std::vector<uint8_t> read_buffer_ = std::vector<uint8_t>(64 * 1024);
  std::deque<std::string> write_queue_;  // whole wire frames (handshake, or the one being sent)
  std::deque<std::string> urgent_;       // messages to seal, before bulk_
  std::deque<std::string> bulk_;
  size_t bulk_bytes_ = 0;  // in bulk_
  // Relayed-transaction frames dropped for max_bulk_queue_bytes; read from other threads.
  std::atomic<uint64_t> bulk_dropped_{0};
  bool writing_ = false;
  std::deque<std::string> pending_;  // serialised messages waiting for the handshake

  uint64_t tokens_micro_ = 0;  // token bucket, in millionths of a frame
  Clock::time_point last_refill_ = Clock::now();
  Clock::time_point last_received_ = Clock::now();
  Clock::time_point last_sent_ = Clock::now();
};

// Accepts connections on one address and runs each as a responder.
class P2pListener {
 public:
  // Called for each accepted socket, under the listener's lock (so it must not call Stop);
  // returns that connection's callbacks.
  using CallbacksFactory = std::function<P2pCallbacks(const boost::asio::ip::tcp::endpoint&)>;

  P2pListener(boost::asio::io_context& io, std::string bind_address, uint16_t port,
              P2pConfig config, CallbacksFactory factory);
  ~P2pListener();  // Stop()s
  P2pListener(const P2pListener&) = delete;
  P2pListener& operator=(const P2pListener&) = delete;

  // Binds and listens (port 0 picks a free port). kInvalidArgument for a bad address, kIoError if
  // the socket cannot be bound, kFailedPrecondition if already started.
  Status Start();
  // Stops accepting and closes every accepted connection. Safe from any thread, repeatedly.
  void Stop();
  uint16_t port() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace puhui
