#include "node/p2p_connection.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <utility>

#include "node/log.h"

namespace puhui {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using boost::system::error_code;

constexpr uint64_t kMicro = 1'000'000;
// After a failed accept (typically out of file descriptors) wait rather than spin.
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};

static_assert(kMaxBlockBytes + 1024 + kSealOverheadBytes < kMaxFrameBytes,
              "a proposal carrying a whole block must fit one sealed frame");

}  // namespace

// ---------------------------------------------------------------- connection

P2pConnection::P2pConnection(tcp::socket socket, Handshake::Role role, P2pConfig config,
                             P2pCallbacks callbacks)
    : socket_(std::move(socket)),
      handshake_timer_(socket_.get_executor()),
      tick_timer_(socket_.get_executor()),
      role_(role),
      config_(std::move(config)),
      callbacks_(std::move(callbacks)),
      tokens_micro_(uint64_t{config_.limits.burst_frames} * kMicro) {
  PUHUI_CHECK(config_.limits.max_frame_bytes <= kMaxFrameBytes);
  PUHUI_CHECK(config_.limits.frames_per_second > 0 && config_.limits.burst_frames > 0);
}

std::shared_ptr<P2pConnection> P2pConnection::Accepted(tcp::socket socket, P2pConfig config,
                                                       P2pCallbacks callbacks) {
  return std::make_shared<P2pConnection>(std::move(socket), Handshake::Role::kResponder,
                                         std::move(config), std::move(callbacks));
}

std::shared_ptr<P2pConnection> P2pConnection::Dial(net::io_context& io, const tcp::endpoint& remote,
                                                   P2pConfig config, P2pCallbacks callbacks) {
  auto conn = std::make_shared<P2pConnection>(tcp::socket(net::make_strand(io)),
                                              Handshake::Role::kInitiator, std::move(config),
                                              std::move(callbacks));
  net::dispatch(conn->socket_.get_executor(), [conn, remote] {
    // The handshake deadline covers the connect as well.
    conn->handshake_timer_.expires_after(conn->config_.limits.handshake_timeout);
    conn->handshake_timer_.async_wait([conn](error_code ec) {
      if (!ec && !conn->established_) {
        conn->CloseNow(IoError(fmt::format("connect and handshake did not finish within {} ms",
                                           conn->config_.limits.handshake_timeout.count())));
      }
    });
    conn->socket_.async_connect(remote, [conn, remote](error_code ec) {
      if (conn->closed_) return;
      if (ec) {
        return conn->CloseNow(
            IoError(fmt::format("cannot connect to {}:{}: {}", remote.address().to_string(),
                                remote.port(), ec.message())));
      }
      conn->StartOnStrand();
    });
  });
  return conn;
}

void P2pConnection::Start() {
  net::dispatch(socket_.get_executor(), [self = shared_from_this()] {
    if (self->closed_) return;
    self->handshake_timer_.expires_after(self->config_.limits.handshake_timeout);
    self->handshake_timer_.async_wait([self](error_code ec) {
      if (!ec && !self->established_) {
        self->CloseNow(IoError(fmt::format("handshake did not finish within {} ms",
                                           self->config_.limits.handshake_timeout.count())));
      }
    });
    self->StartOnStrand();
  });
}

void P2pConnection::StartOnStrand() {
  error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);  // small consensus messages must not wait
  handshake_.emplace(role_,
                     HandshakeConfig{config_.chain_id, config_.node_key, config_.is_allowed});
  for (std::string& frame : handshake_->Start()) QueueWire(EncodeFrame(frame));
  last_received_ = last_sent_ = last_refill_ = Clock::now();
  ArmTick();
  DoRead();
}

void P2pConnection::Send(const pb::P2pMessage& message) {
  std::string bytes = message.SerializeAsString();
  PUHUI_CHECK(bytes.size() + kSealOverheadBytes <= kMaxFrameBytes, "P2pMessage above frame limit");
  const bool urgent = !message.has_txs() && !message.has_tx();
  net::dispatch(socket_.get_executor(), [self = shared_from_this(), bytes = std::move(bytes),
                                         urgent]() mutable {
    if (self->closed_) return;
    if (!self->established_) {
      if (self->pending_.size() >= self->config_.limits.max_send_queue_frames) {
        return self->CloseNow(ResourceExhausted("too many messages queued during the handshake"));
      }
      self->pending_.push_back(std::move(bytes));
      return;
    }
    self->Enqueue(std::move(bytes), urgent);
  });
}

void P2pConnection::Close(Status reason) {
  net::dispatch(socket_.get_executor(), [self = shared_from_this(), reason = std::move(reason)] {
    self->CloseNow(reason);
  });
}

void P2pConnection::CloseNow(Status reason) {
  if (closed_) return;
  closed_ = true;
  handshake_timer_.cancel();
  tick_timer_.cancel();
  error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  write_queue_.clear();
  urgent_.clear();
  bulk_.clear();
  bulk_bytes_ = 0;
  pending_.clear();
  // Dropping the callbacks breaks any cycle through captures of this connection.
  P2pCallbacks callbacks = std::move(callbacks_);
  callbacks_ = {};
  if (callbacks.on_close) callbacks.on_close(reason);
}

void P2pConnection::DoRead() {
  socket_.async_read_some(
      net::buffer(read_buffer_),
      [self = shared_from_this()](error_code ec, size_t n) { self->OnRead(ec, n); });
}

void P2pConnection::OnRead(const error_code& ec, size_t n) {
  if (closed_) return;
  if (ec == net::error::eof) return CloseNow(IoError("peer closed the connection"));
  if (ec) return CloseNow(IoError("read failed: " + ec.message()));
  ByteView data(read_buffer_.data(), n);
  std::optional<std::string> frame;
  while (!data.empty() && !closed_) {
    Result<size_t> used = decoder_.Consume(data, frame);
    if (!used.ok()) return CloseNow(used.status());
    data = data.subspan(*used);
    if (frame) HandleFrame(std::move(*frame));
  }
  if (!closed_) DoRead();
}

void P2pConnection::HandleFrame(std::string payload) {
  last_received_ = Clock::now();
  if (established_) return HandleMessage(std::move(payload));
  Result<std::vector<std::string>> out = handshake_->OnFrame(AsBytes(payload));
  if (!out.ok()) {
    return CloseNow(Status(out.status().code(), "handshake: " + out.status().message()));
  }
  for (std::string& frame : *out) QueueWire(EncodeFrame(frame));
  if (!handshake_->done()) return;
  HandshakeResult result = handshake_->TakeResult();
  handshake_.reset();
  peer_key_ = result.peer_key;
  sealer_.emplace(result.sealer);
  opener_.emplace(result.opener);
  established_ = true;
  handshake_timer_.cancel();
  decoder_.set_max_frame_bytes(config_.limits.max_frame_bytes);
  if (callbacks_.on_established) callbacks_.on_established(shared_from_this(), peer_key_);
  while (!pending_.empty() && !closed_) {
    Enqueue(std::move(pending_.front()), /*urgent=*/true);
    pending_.pop_front();
  }
}

bool P2pConnection::TakeToken() {
  const Clock::time_point now = Clock::now();
  const uint64_t capacity = uint64_t{config_.limits.burst_frames} * kMicro;
  const auto elapsed_us = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(now - last_refill_).count());
  last_refill_ = now;
  // Cap the elapsed time before multiplying, so a long quiet spell cannot overflow.
  const uint64_t full_after_us = capacity / config_.limits.frames_per_second + 1;
  const uint64_t refill = std::min(elapsed_us, full_after_us) * config_.limits.frames_per_second;
  tokens_micro_ = std::min(capacity, tokens_micro_ + refill);
  if (tokens_micro_ < kMicro) return false;
  tokens_micro_ -= kMicro;
  return true;
}

void P2pConnection::HandleMessage(std::string payload) {
  if (!TakeToken()) {
    return CloseNow(ResourceExhausted(
        fmt::format("peer sent more than {} frames per second (burst {})",
                    config_.limits.frames_per_second, config_.limits.burst_frames)));
  }
  Result<std::string> plain = opener_->Open(AsBytes(payload));
  if (!plain.ok()) return CloseNow(plain.status());
  pb::P2pMessage message;
  if (!message.ParseFromString(*plain)) {
    return CloseNow(InvalidArgument("peer sent a frame that is not a P2pMessage"));
  }
  switch (message.kind_case()) {
    case pb::P2pMessage::kKeepalive: return;
    case pb::P2pMessage::KIND_NOT_SET:
      return CloseNow(InvalidArgument("peer sent a P2pMessage of no known kind"));
    case pb::P2pMessage::kTx:
    case pb::P2pMessage::kVote:
    case pb::P2pMessage::kProposal:
    case pb::P2pMessage::kTxs:
    case pb::P2pMessage::kStatus:
    case pb::P2pMessage::kBlockRequest:
    case pb::P2pMessage::kBlock:
    case pb::P2pMessage::kEvidence: break;
  }
  if (callbacks_.on_message) callbacks_.on_message(peer_key_, std::move(message));
}

void P2pConnection::Enqueue(std::string plaintext, bool urgent) {
  if (closed_) return;
  const size_t queued = write_queue_.size() + urgent_.size() + bulk_.size();
  if (queued >= config_.limits.max_send_queue_frames) {
    return CloseNow(ResourceExhausted(
        fmt::format("peer is not reading: {} frames waiting to be sent", queued)));
  }
  if (!urgent) {
    if (bulk_bytes_ + plaintext.size() > config_.limits.max_bulk_queue_bytes) {
      const uint64_t dropped = bulk_dropped_.fetch_add(1, std::memory_order_relaxed) + 1;
      if (dropped % 1000 == 1) {
        log::Debug(
            "p2p: {} relayed-transaction frames dropped for a peer that reads slowly "
            "({} bytes already waiting)",
            dropped, bulk_bytes_);
      }
      return;
    }
    bulk_bytes_ += plaintext.size();
  }
  (urgent ? urgent_ : bulk_).push_back(std::move(plaintext));
  DoWrite();
}

void P2pConnection::QueueWire(std::string wire) {
  if (closed_) return;
  if (write_queue_.size() >= config_.limits.max_send_queue_frames) {
    return CloseNow(ResourceExhausted(
        fmt::format("peer is not reading: {} frames waiting to be sent", write_queue_.size())));
  }
  write_queue_.push_back(std::move(wire));
  DoWrite();
}

void P2pConnection::DoWrite() {
  if (writing_ || closed_) return;
  if (write_queue_.empty()) {
    // Frames are sealed in the order they are written (the nonce counts frames), so the choice of
    // what goes next, consensus before bulk transactions, is made here.
    std::deque<std::string>& from = !urgent_.empty() ? urgent_ : bulk_;
    if (from.empty()) return;
    Result<std::string> sealed = sealer_->Seal(AsBytes(from.front()));
    if (&from == &bulk_) bulk_bytes_ -= from.front().size();
    from.pop_front();
    if (!sealed.ok()) return CloseNow(sealed.status());
    write_queue_.push_back(EncodeFrame(*sealed));
  }
  writing_ = true;
  net::async_write(socket_, net::buffer(write_queue_.front()),
                   [self = shared_from_this()](error_code ec, size_t) {
                     self->writing_ = false;
                     if (self->closed_) return;
                     if (ec) return self->CloseNow(IoError("write failed: " + ec.message()));
                     self->write_queue_.pop_front();
                     self->last_sent_ = Clock::now();
                     self->DoWrite();
                   });
}

void P2pConnection::ArmTick() {
  // Checking four times per idle period bounds how late a silent peer is noticed.
  const auto period = std::max(config_.limits.idle_timeout / 4, std::chrono::milliseconds(1));
  tick_timer_.expires_after(period);
  tick_timer_.async_wait([self = shared_from_this()](error_code ec) {
    if (ec || self->closed_) return;
    const Clock::time_point now = Clock::now();
    if (now - self->last_received_ >= self->config_.limits.idle_timeout) {
      return self->CloseNow(IoError(fmt::format("peer sent nothing for {} ms (idle timeout)",
                                                self->config_.limits.idle_timeout.count())));
    }
    if (self->established_ && self->write_queue_.empty() && self->urgent_.empty() &&
        self->bulk_.empty() && now - self->last_sent_ >= self->config_.limits.idle_timeout / 3) {
      pb::P2pMessage keepalive;
      keepalive.set_keepalive(1);
      self->Enqueue(keepalive.SerializeAsString(), /*urgent=*/true);
    }
    if (!self->closed_) self->ArmTick();
  });
}

// ---------------------------------------------------------------- listener

struct P2pListener::Impl : std::enable_shared_from_this<Impl> {
  Impl(net::io_context& context, std::string address, uint16_t port, P2pConfig cfg,
       CallbacksFactory f)
      : io(context),
        bind_address(std::move(address)),
        requested_port(port),
        config(std::move(cfg)),
        factory(std::move(f)),
        acceptor(context),
        retry_timer(context) {}

  void AcceptNext();  // mu held
  void OnAccept(error_code ec, tcp::socket socket);

  net::io_context& io;
  const std::string bind_address;
  const uint16_t requested_port;
  const P2pConfig config;
  const CallbacksFactory factory;
  std::atomic<uint16_t> bound_port{0};

  std::mutex mu;  // guards everything below
  bool started = false;
  bool stopped = false;
  tcp::acceptor acceptor;
  net::steady_timer retry_timer;
  std::vector<std::weak_ptr<P2pConnection>> connections;
};

void P2pListener::Impl::AcceptNext() {
  acceptor.async_accept(net::make_strand(io),
                        [self = shared_from_this()](error_code ec, tcp::socket socket) {
                          self->OnAccept(ec, std::move(socket));
                        });
}

void P2pListener::Impl::OnAccept(error_code ec, tcp::socket socket) {
  std::lock_guard lock(mu);
  if (stopped) return;
  if (!ec) {
    std::erase_if(connections, [](const auto& c) { return c.expired(); });
    if (connections.size() >= config.limits.max_inbound_connections) {
      error_code ignored;
      socket.close(ignored);  // full: refuse before spending a handshake on it
    } else {
      error_code endpoint_ec;
      const tcp::endpoint remote = socket.remote_endpoint(endpoint_ec);
      auto conn = P2pConnection::Accepted(std::move(socket), config, factory(remote));
      connections.push_back(conn);
      conn->Start();
    }
    return AcceptNext();
  }
  retry_timer.expires_after(kAcceptRetryDelay);
  retry_timer.async_wait([self = shared_from_this()](error_code wait_ec) {
    std::lock_guard retry_lock(self->mu);
    if (!wait_ec && !self->stopped) self->AcceptNext();
  });
}

P2pListener::P2pListener(net::io_context& io, std::string bind_address, uint16_t port,
                         P2pConfig config, CallbacksFactory factory)
    : impl_(std::make_shared<Impl>(io, std::move(bind_address), port, std::move(config),
                                   std::move(factory))) {}

P2pListener::~P2pListener() { Stop(); }

Status P2pListener::Start() {
  Impl& s = *impl_;
  std::lock_guard lock(s.mu);
  if (s.started || s.stopped) return FailedPrecondition("p2p listener already started");
  error_code ec;
  const net::ip::address address = net::ip::make_address(s.bind_address, ec);
  if (ec) return InvalidArgument(fmt::format("bad p2p bind address '{}'", s.bind_address));
  const tcp::endpoint endpoint(address, s.requested_port);
  const auto fail = [&](const char* step) {
    error_code ignored;
    s.acceptor.close(ignored);
    return IoError(fmt::format("p2p listener cannot {} {}:{}: {}", step, s.bind_address,
                               s.requested_port, ec.message()));
  };
  s.acceptor.open(endpoint.protocol(), ec);
  if (ec) return fail("open a socket for");
  s.acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (ec) return fail("configure");
  s.acceptor.bind(endpoint, ec);
  if (ec) return fail("bind");
  s.acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen on");
  const tcp::endpoint local = s.acceptor.local_endpoint(ec);
  if (ec) return fail("read the port of");
  s.bound_port = local.port();
  s.started = true;
  s.AcceptNext();
  return Status::Ok();
}

void P2pListener::Stop() {
  std::vector<std::weak_ptr<P2pConnection>> connections;
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopped = true;
    error_code ignored;
    impl_->acceptor.close(ignored);
    impl_->retry_timer.cancel();
    connections.swap(impl_->connections);
  }
  for (auto& weak : connections) {
    if (auto conn = weak.lock()) conn->Close(FailedPrecondition("p2p listener stopped"));
  }
}

uint16_t P2pListener::port() const { return impl_->bound_port; }

}  // namespace puhui
