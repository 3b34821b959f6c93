// Real connections on 127.0.0.1: every wait is bounded, and every fixture stops what it started.
#include "node/p2p_connection.h"

#include <doctest/doctest.h>
#include <poll.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/write.hpp>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "test_util.h"

namespace puhui {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using testing::KeyOf;
using namespace std::chrono_literals;

constexpr auto kWait = 5s;

P2pConfig ConfigOf(const std::string& name, P2pLimits limits = {}) {
  std::set<PublicKey> allowed = {KeyOf("alice").Public(), KeyOf("bob").Public()};
  return {testing::kChainId, KeyOf(name),
          [allowed](const PublicKey& k) { return allowed.count(k) > 0; }, limits};
}

// What one side saw, filled in by its callbacks on the io thread.
struct Peer {
  std::mutex mu;
  std::condition_variable cv;
  std::shared_ptr<P2pConnection> connection;
  std::optional<PublicKey> peer_key;
  std::vector<std::string> txs;
  std::optional<Status> closed;

  P2pCallbacks Callbacks(std::function<void(P2pConnection&)> on_established = {}) {
    return {
        .on_established =
            [this, on_established](const std::shared_ptr<P2pConnection>& c, const PublicKey& k) {
              {
                std::lock_guard lock(mu);
                connection = c;
                peer_key = k;
              }
              cv.notify_all();
              if (on_established) on_established(*c);
            },
        .on_message =
            [this](const PublicKey&, pb::P2pMessage m) {
              {
                std::lock_guard lock(mu);
                txs.push_back(m.tx());
              }
              cv.notify_all();
            },
        .on_close =
            [this](const Status& reason) {
              {
                std::lock_guard lock(mu);
                closed = reason;
                connection.reset();
              }
              cv.notify_all();
            },
    };
  }

  template <typename Pred>
  bool WaitFor(Pred pred) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, kWait, [&] { return pred(*this); });
  }
  std::string CloseReason() {
    std::lock_guard lock(mu);
    return closed ? closed->ToString() : "(open)";
  }
};

// Runs an io_context on its own thread; stops and joins it on the way out. Declare the
// io_context first, then the Peers, then the runner, then listeners and connections: listeners
// stop while the thread runs and the Peers are alive, and no callback runs once Peers go away.
class IoRunner {
 public:
  explicit IoRunner(net::io_context& io) : io_(io), thread_([&io] { io.run(); }) {}
  ~IoRunner() {
    work_.reset();
    io_.stop();
    thread_.join();
  }

 private:
  net::io_context& io_;
  net::executor_work_guard<net::io_context::executor_type> work_ = net::make_work_guard(io_);
  std::thread thread_;
};

pb::P2pMessage Tx(const std::string& s) {
  pb::P2pMessage m;
  m.set_tx(s);
  return m;
}

void SendMany(P2pConnection& c, const std::string& prefix, int n) {
  for (int i = 0; i < n; ++i) c.Send(Tx(prefix + std::to_string(i)));
}

std::vector<std::string> Expected(const std::string& prefix, int n) {
  std::vector<std::string> v;
  for (int i = 0; i < n; ++i) v.push_back(prefix + std::to_string(i));
  return v;
}

tcp::endpoint Loopback(uint16_t port) { return {net::ip::make_address("127.0.0.1"), port}; }

// A hand-driven client with blocking I/O bounded by poll(), to misbehave after a real handshake.
class RawClient {
 public:
  explicit RawClient(uint16_t port) : socket_(io_) { socket_.connect(Loopback(port)); }

  void Write(const std::string& bytes) { net::write(socket_, net::buffer(bytes)); }

  // Bytes that arrive within the timeout; empty on timeout, nullopt on EOF or error.
  std::optional<std::string> Read(std::chrono::milliseconds timeout = kWait) {
    pollfd p{socket_.native_handle(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return std::string();
    std::string buf(65536, '\0');
    boost::system::error_code ec;
    size_t n = socket_.read_some(net::buffer(buf), ec);
    if (ec) return std::nullopt;
    buf.resize(n);
    return buf;
  }

  // Runs the initiator's side of the handshake as `name`; true once done.
  bool Handshake(const std::string& name) {
    puhui::Handshake hs(Handshake::Role::kInitiator,
                        {testing::kChainId, KeyOf(name), [](const PublicKey&) { return true; }});
    for (auto& f : hs.Start()) Write(EncodeFrame(f));
    FrameDecoder decoder(kMaxHandshakeFrameBytes);
    while (!hs.done()) {
      std::optional<std::string> bytes = Read();
      if (!bytes || bytes->empty()) return false;
      std::vector<std::string> frames;
      if (!decoder.Feed(AsBytes(*bytes), frames).ok()) return false;
      for (auto& f : frames) {
        auto out = hs.OnFrame(AsBytes(f));
        if (!out.ok()) return false;
        for (auto& o : *out) Write(EncodeFrame(o));
      }
    }
    result_.emplace(hs.TakeResult());
    return true;
  }
  HandshakeResult& session() { return *result_; }

  // True if the server closes the connection within the timeout.
  bool SeesClose() {
    const auto deadline = std::chrono::steady_clock::now() + kWait;
    while (std::chrono::steady_clock::now() < deadline) {
      std::optional<std::string> bytes = Read(100ms);
      if (!bytes) return true;
    }
    return false;
  }

 private:
  net::io_context io_;
  tcp::socket socket_;
  std::optional<HandshakeResult> result_;
};

TEST_CASE("two peers on loopback exchange 1,000 messages each way, in order") {
  net::io_context io;
  Peer server, client;
  IoRunner runner(io);
  P2pListener listener(io, "127.0.0.1", 0, ConfigOf("bob"), [&](const tcp::endpoint&) {
    return server.Callbacks([](P2pConnection& c) { SendMany(c, "from bob ", 1000); });
  });
  REQUIRE(listener.Start().ok());
  REQUIRE(listener.port() != 0);
  auto conn =
      P2pConnection::Dial(io, Loopback(listener.port()), ConfigOf("alice"), client.Callbacks());
  // Sent before the handshake is done: queued, then delivered after it.
  SendMany(*conn, "from alice ", 1000);

  REQUIRE(server.WaitFor([](Peer& p) { return p.txs.size() >= 1000 || p.closed; }));
  REQUIRE(client.WaitFor([](Peer& p) { return p.txs.size() >= 1000 || p.closed; }));
  {
    std::lock_guard a(server.mu), b(client.mu);
    CHECK(server.peer_key == KeyOf("alice").Public());
    CHECK(client.peer_key == KeyOf("bob").Public());
    CHECK(server.txs == Expected("from alice ", 1000));
    CHECK(client.txs == Expected("from bob ", 1000));
    CHECK_FALSE(server.closed);
    CHECK_FALSE(client.closed);
  }

  conn->Close(FailedPrecondition("test over"));
  REQUIRE(client.WaitFor([](Peer& p) { return p.closed.has_value(); }));
  CHECK(client.CloseReason().find("test over") != std::string::npos);
  REQUIRE(server.WaitFor([](Peer& p) { return p.closed.has_value(); }));
  CHECK(server.CloseReason().find("peer closed the connection") != std::string::npos);
  listener.Stop();
}

TEST_CASE("a peer whose key is not allowed is disconnected during the handshake") {
  net::io_context io;
  Peer server, client;
  IoRunner runner(io);
  P2pListener listener(io, "127.0.0.1", 0, ConfigOf("bob"),
                       [&](const tcp::endpoint&) { return server.Callbacks(); });
  REQUIRE(listener.Start().ok());
  auto conn =
      P2pConnection::Dial(io, Loopback(listener.port()), ConfigOf("mallory"), client.Callbacks());
  REQUIRE(server.WaitFor([](Peer& p) { return p.closed.has_value(); }));
  CHECK(server.CloseReason().find("not allowed") != std::string::npos);
  REQUIRE(client.WaitFor([](Peer& p) { return p.closed.has_value(); }));
  CHECK_FALSE(client.peer_key);
  listener.Stop();
}

TEST_CASE("a peer that sends an oversize frame after the handshake is disconnected") {
  net::io_context io;
  Peer server;
  IoRunner runner(io);
  P2pLimits limits;
  limits.max_frame_bytes = 4096;
  P2pListener listener(io, "127.0.0.1", 0, ConfigOf("bob", limits),
                       [&](const tcp::endpoint&) { return server.Callbacks(); });
  REQUIRE(listener.Start().ok());
  RawClient raw(listener.port());
  REQUIRE(raw.Handshake("alice"));
  REQUIRE(server.WaitFor([](Peer& p) { return p.peer_key.has_value(); }));
  raw.Write(std::string("\x00\x00\x10\x01", 4));  // 4097 bytes announced; none sent
  REQUIRE(server.WaitFor([](Peer& p) { return p.closed.has_value(); }));
  CHECK(server.CloseReason().find("frame of 4097 bytes exceeds the limit of 4096") !=
        std::string::npos);
  CHECK(raw.SeesClose());
  listener.Stop();
}

TEST_CASE("a peer that sends garbage after the handshake is disconnected") {
  net::io_context io;
  Peer server;
  IoRunner runner(io);
  P2pListener listener(io, "127.0.0.1", 0, ConfigOf("bob"),
                       [&](const tcp::endpoint&) { return server.Callbacks(); });
  REQUIRE(listener.Start().ok());
  RawClient raw(listener.port());
  REQUIRE(raw.Handshake("alice"));
  REQUIRE(server.WaitFor([](Peer& p) { return p.peer_key.has_value(); }));
  // Counter 1 is the one due (the handshake's P2pAuth used 0), so only the tag can fail.
  raw.Write(EncodeFrame(std::string("\0\0\0\0\0\0\0\x01", 8) + "not a sealed frame at all"));
  REQUIRE(server.WaitFor([](Peer& p) { return p.closed.has_value(); }));
  CHECK(server.CloseReason().find("UNAUTHENTICATED") != std::string::npos);
  CHECK(server.CloseReason().find("does not authenticate") != std::string::npos);
  CHECK(raw.SeesClose());
  listener.Stop();
}

TEST_CASE("a replayed sealed frame after the handshake disconnects the peer") {
  net::io_context io;
  Peer server;
  IoRunner runner(io);
  P2pListener listener(io, "127.0.0.1", 0, ConfigOf("bob"),
                       [&](const tcp::endpoint&) { return server.Callbacks(); });
  REQUIRE(listener.Start().ok());
  RawClient raw(listener.port());
  REQUIRE(raw.Handshake("alice"));
  const std::string frame =
      EncodeFrame(*raw.session().sealer.Seal(AsBytes(Tx("once").SerializeAsString())));
  raw.Write(frame);
  REQUIRE(server.WaitFor([](Peer& p) { return !p.txs.empty(); }));
  raw.Write(frame);
  REQUIRE(server.WaitFor([](Peer& p) { return p.closed.has_value(); }));
  CHECK(server.CloseReason().find("replayed or reordered") != std::string::npos);
  std::lock_guard lock(server.mu);
  CHECK(server.txs == std::vector<std::string>{"once"});
}

TEST_CASE("a peer that sends frames faster than its token bucket allows is disconnected") {
  net::io_context io;
  Peer server, client;
  IoRunner runner(io);
  P2pLimits limits;
  limits.frames_per_second = 10;
  limits.burst_frames = 20;
  P2pListener listener(io, "127.0.0.1", 0, ConfigOf("bob", limits),
                       [&](const tcp::endpoint&) { return server.Callbacks(); });
  REQUIRE(listener.Start().ok());
  auto conn =
      P2pConnection::Dial(io, Loopback(listener.port()), ConfigOf("alice"), client.Callbacks());
  SendMany(*conn, "flood ", 200);
  REQUIRE(server.WaitFor([](Peer& p) { return p.closed.has_value(); }));
  CHECK(server.CloseReason().find("more than 10 frames per second") != std::string::npos);
  std::lock_guard lock(server.mu);
  CHECK(server.txs.size() >= 20);
  CHECK(server.txs.size() < 200);
}

TEST_CASE("a peer that never finishes the handshake is disconnected at the timeout") {
  net::io_context io;
  Peer server;
  IoRunner runner(io);
  P2pLimits limits;
  limits.handshake_timeout = 200ms;
  P2pListener listener(io, "127.0.0.1", 0, ConfigOf("bob", limits),
                       [&](const tcp::endpoint&) { return server.Callbacks(); });
  REQUIRE(listener.Start().ok());
  RawClient raw(listener.port());  // connects and says nothing
  REQUIRE(server.WaitFor([](Peer& p) { return p.closed.has_value(); }));
  CHECK(server.CloseReason().find("handshake did not finish within 200 ms") != std::string::npos);
  CHECK(raw.SeesClose());
}

TEST_CASE("a silent peer is dropped at the idle timeout, keepalives keep a quiet link up") {
  net::io_context io;
  Peer server, client, server2;
  IoRunner runner(io);
  P2pLimits limits;
  limits.idle_timeout = 300ms;
  P2pListener listener(io, "127.0.0.1", 0, ConfigOf("bob", limits),
                       [&](const tcp::endpoint&) { return server.Callbacks(); });
  REQUIRE(listener.Start().ok());

  // A real peer with the same timeout sends keepalives: nothing closes over several periods.
  auto conn = P2pConnection::Dial(io, Loopback(listener.port()), ConfigOf("alice", limits),
                                  client.Callbacks());
  REQUIRE(client.WaitFor([](Peer& p) { return p.peer_key.has_value(); }));
  std::this_thread::sleep_for(1s);
  CHECK(client.CloseReason() == "(open)");
  CHECK(server.CloseReason() == "(open)");
  {
    std::lock_guard a(server.mu), b(client.mu);
    CHECK(server.txs.empty());  // keepalives are not delivered
    CHECK(client.txs.empty());
  }
  conn->Close(FailedPrecondition("done"));

  // A raw peer that completes the handshake and then goes quiet is dropped.
  P2pListener listener2(io, "127.0.0.1", 0, ConfigOf("bob", limits),
                        [&](const tcp::endpoint&) { return server2.Callbacks(); });
  REQUIRE(listener2.Start().ok());
  RawClient raw(listener2.port());
  REQUIRE(raw.Handshake("alice"));
  REQUIRE(server2.WaitFor([](Peer& p) { return p.closed.has_value(); }));
  CHECK(server2.CloseReason().find("idle timeout") != std::string::npos);
  listener.Stop();
  listener2.Stop();
}

TEST_CASE("a listener at its connection limit refuses one more") {
  net::io_context io;
  Peer server, first, second;
  IoRunner runner(io);
  P2pLimits limits;
  limits.max_inbound_connections = 1;
  P2pListener listener(io, "127.0.0.1", 0, ConfigOf("bob", limits),
                       [&](const tcp::endpoint&) { return server.Callbacks(); });
  REQUIRE(listener.Start().ok());
  auto a = P2pConnection::Dial(io, Loopback(listener.port()), ConfigOf("alice"), first.Callbacks());
  REQUIRE(first.WaitFor([](Peer& p) { return p.peer_key.has_value(); }));
  auto b =
      P2pConnection::Dial(io, Loopback(listener.port()), ConfigOf("alice"), second.Callbacks());
  REQUIRE(second.WaitFor([](Peer& p) { return p.closed.has_value(); }));
  CHECK_FALSE(second.peer_key);
  CHECK(first.CloseReason() == "(open)");
  listener.Stop();
  REQUIRE(first.WaitFor([](Peer& p) { return p.closed.has_value(); }));
}

TEST_CASE("a dial to a closed port reports why") {
  net::io_context io;
  Peer client;
  IoRunner runner(io);
  uint16_t port = 0;
  {
    // Find a port nobody listens on: bind one, note it, close it.
    tcp::acceptor probe(io, Loopback(0));
    port = probe.local_endpoint().port();
  }
  auto conn = P2pConnection::Dial(io, Loopback(port), ConfigOf("alice"), client.Callbacks());
  REQUIRE(client.WaitFor([](Peer& p) { return p.closed.has_value(); }));
  CHECK(client.CloseReason().find("cannot connect") != std::string::npos);
}

TEST_CASE("a consensus message overtakes the relayed transactions queued before it") {
  net::io_context io;
  Peer client;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<bool> urgent_seen;  // per message received by bob, in order: was it the status?
  IoRunner runner(io);
  P2pLimits generous;
  generous.frames_per_second = 1'000'000;
  generous.burst_frames = 1'000'000;
  P2pCallbacks server_callbacks{
      .on_established = [](const std::shared_ptr<P2pConnection>&, const PublicKey&) {},
      .on_message =
          [&](const PublicKey&, pb::P2pMessage m) {
            {
              std::lock_guard lock(mu);
              urgent_seen.push_back(m.has_status());
            }
            cv.notify_all();
          },
      .on_close = [](const Status&) {},
  };
  P2pListener listener(io, "127.0.0.1", 0, ConfigOf("bob", generous),
                       [&](const tcp::endpoint&) { return server_callbacks; });
  REQUIRE(listener.Start().ok());
  constexpr int kBulk = 1500;
  // Once connected, alice queues 1,500 transaction frames and then a status message, all on her
  // connection's strand, before the first frame is even written.
  auto conn = P2pConnection::Dial(io, Loopback(listener.port()), ConfigOf("alice", generous),
                                  client.Callbacks([](P2pConnection& c) {
                                    SendMany(c, "tx ", kBulk);
                                    pb::P2pMessage status;
                                    status.mutable_status()->set_height(7);
                                    c.Send(status);
                                  }));
  {
    std::unique_lock lock(mu);
    REQUIRE(cv.wait_for(lock, kWait, [&] { return urgent_seen.size() >= kBulk + 1; }));
    const auto at = std::find(urgent_seen.begin(), urgent_seen.end(), true) - urgent_seen.begin();
    // The frame already being written goes first; the status goes next, ahead of the rest.
    CHECK(at <= 1);
  }
  conn->Close(FailedPrecondition("test over"));
  REQUIRE(client.WaitFor([](Peer& p) { return p.closed.has_value(); }));
  listener.Stop();
}

TEST_CASE("relayed transactions beyond the send queue's byte limit are dropped, consensus is not") {
  net::io_context io;
  Peer client;
  std::mutex mu;
  std::condition_variable cv;
  int txs_seen = 0;
  bool status_seen = false;
  IoRunner runner(io);
  P2pLimits generous;
  generous.frames_per_second = 1'000'000;
  generous.burst_frames = 1'000'000;
  P2pLimits small_queue = generous;
  small_queue.max_bulk_queue_bytes = 100'000;
  P2pCallbacks server_callbacks{
      .on_established = [](const std::shared_ptr<P2pConnection>&, const PublicKey&) {},
      .on_message =
          [&](const PublicKey&, pb::P2pMessage m) {
            {
              std::lock_guard lock(mu);
              if (m.has_status()) {
                status_seen = true;
              } else {
                ++txs_seen;
              }
            }
            cv.notify_all();
          },
      .on_close = [](const Status&) {},
  };
  P2pListener listener(io, "127.0.0.1", 0, ConfigOf("bob", generous),
                       [&](const tcp::endpoint&) { return server_callbacks; });
  REQUIRE(listener.Start().ok());
  constexpr int kBulk = 50;  // 50 frames of 10,000 bytes against a 100,000-byte queue
  auto conn =
      P2pConnection::Dial(io, Loopback(listener.port()), ConfigOf("alice", small_queue),
                          client.Callbacks([](P2pConnection& c) {
                            for (int i = 0; i < kBulk; ++i) {
                              c.Send(Tx(std::string(10'000, static_cast<char>('a' + i % 26))));
                            }
                            pb::P2pMessage status;
                            status.mutable_status()->set_height(7);
                            c.Send(status);
                          }));
  {
    std::unique_lock lock(mu);
    REQUIRE(cv.wait_for(lock, kWait, [&] { return status_seen && txs_seen >= 5; }));
  }
  // Whatever was still to arrive has had time to; the queue held about ten frames of the fifty.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  {
    std::lock_guard lock(mu);
    CHECK(txs_seen >= 5);
    CHECK(txs_seen <= 12);
    // Every frame that did not arrive was counted as dropped (the node's re-offer reads it).
    CHECK(conn->bulk_dropped() + static_cast<uint64_t>(txs_seen) == kBulk);
  }
  CHECK(client.CloseReason() == "(open)");  // dropping is not a reason to disconnect
  conn->Close(FailedPrecondition("test over"));
  REQUIRE(client.WaitFor([](Peer& p) { return p.closed.has_value(); }));
  listener.Stop();
}

}  // namespace
}  // namespace puhui
