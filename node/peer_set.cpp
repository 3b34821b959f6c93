#include "node/peer_set.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <mutex>

#include "node/log.h"

namespace puhui {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

std::string ShortKey(const PublicKey& key) { return Hex(key.bytes).substr(0, 12); }

// A connection that stayed up this long was healthy: the next dial after it drops starts again
// from the shortest backoff.
constexpr std::chrono::seconds kHealthyAfter{10};

}  // namespace

struct PeerSet::Impl : std::enable_shared_from_this<Impl> {
  struct Link {
    std::shared_ptr<P2pConnection> conn;
    bool outbound = false;
    std::string remote;
    uint64_t id = 0;
  };
  struct Dialer {
    HostPort target;
    std::unique_ptr<net::steady_timer> timer;
    std::chrono::milliseconds backoff{0};
    std::optional<PublicKey> known_key;  // learnt from the first handshake with this address
    bool in_flight = false;
    Clock::time_point established_at;
  };

  Impl(net::io_context& context, PrivateKey key, PeerSetConfig cfg, MessageHandler m,
       ConnectHandler c)
      : io(context),
        node_key(key),
        config(std::move(cfg)),
        on_message(std::move(m)),
        on_connect(std::move(c)) {}

  P2pConfig ConnectionConfig() {
    std::weak_ptr<Impl> weak = weak_from_this();
    auto is_allowed = [weak](const PublicKey& key) {
      auto self = weak.lock();
      if (!self) return false;
      if (key == self->node_key.Public()) return false;  // ourselves, e.g. a loop in config
      {
        std::lock_guard lock(self->mu);
        auto ban = self->banned_until.find(key);
        if (ban != self->banned_until.end()) {
          if (Clock::now() < ban->second) return false;
          self->banned_until.erase(ban);
          self->scores.erase(key);
        }
      }
      return self->config.is_allowed && self->config.is_allowed(key);
    };
    return P2pConfig{config.chain_id, node_key, std::move(is_allowed), config.limits};
  }

  P2pCallbacks Callbacks(bool outbound, std::string remote, size_t dialer) {
    const uint64_t id = next_id++;
    std::weak_ptr<Impl> weak = weak_from_this();
    P2pCallbacks cb;
    cb.on_established = [weak, outbound, remote, dialer, id](
                            const std::shared_ptr<P2pConnection>& conn, const PublicKey& peer) {
      if (auto self = weak.lock()) self->Established(conn, peer, outbound, remote, dialer, id);
    };
    cb.on_message = [weak](const PublicKey& peer, pb::P2pMessage message) {
      auto self = weak.lock();
      if (self && self->on_message) self->on_message(peer, std::move(message));
    };
    // on_close does not name the peer: a connection may close before its handshake finishes.
    cb.on_close = [weak, dialer, id, remote](const Status& reason) {
      if (auto self = weak.lock()) self->Closed(id, dialer, remote, reason);
    };
    return cb;
  }

  void Established(const std::shared_ptr<P2pConnection>& conn, const PublicKey& peer, bool outbound,
                   const std::string& remote, size_t dialer, uint64_t id) {
    std::shared_ptr<P2pConnection> loser;
    bool fresh = false;
    {
      std::lock_guard lock(mu);
      if (stopped) {
        loser = conn;
      } else {
        if (dialer < dialers.size()) {
          dialers[dialer].known_key = peer;
          dialers[dialer].established_at = Clock::now();
        }
        const bool we_dialled_smaller = outbound == (node_key.Public() < peer);
        auto it = links.find(peer);
        if (it == links.end()) {
          links[peer] = Link{conn, outbound, remote, id};
          fresh = true;
        } else {
          // Keep the connection dialled by the smaller key; both ends pick the same one.
          const bool existing_dialled_smaller = it->second.outbound == (node_key.Public() < peer);
          if (we_dialled_smaller && !existing_dialled_smaller) {
            loser = it->second.conn;
            it->second = Link{conn, outbound, remote, id};
          } else {
            loser = conn;
          }
        }
      }
    }
    if (loser) loser->Close(AlreadyExists("a connection to this peer already exists"));
    if (fresh) {
      log::Info("peer {} connected ({} {})", ShortKey(peer), outbound ? "dialled" : "from", remote);
      if (on_connect) on_connect(peer);
    }
  }

  void Closed(uint64_t id, size_t dialer, const std::string& remote, const Status& reason) {
    std::lock_guard lock(mu);
    for (auto it = links.begin(); it != links.end(); ++it) {
      if (it->second.id == id) {
        log::Info("peer {} disconnected: {}", ShortKey(it->first), reason.ToString());
        links.erase(it);
        break;
      }
    }
    if (dialer < dialers.size()) {
      Dialer& d = dialers[dialer];
      d.in_flight = false;
      if (d.established_at != Clock::time_point{} &&
          Clock::now() - d.established_at > kHealthyAfter) {
        d.backoff = std::chrono::milliseconds{0};
      }
      d.established_at = {};
      log::Debug("dial {}: {}", remote, reason.ToString());
      ScheduleDial(dialer);
    }
  }

  // mu held.
  void ScheduleDial(size_t index) {
    if (stopped) return;
    Dialer& d = dialers[index];
    d.backoff =
        d.backoff.count() == 0 ? config.min_backoff : std::min(config.max_backoff, d.backoff * 2);
    d.timer->expires_after(d.backoff);
    d.timer->async_wait([weak = weak_from_this(), index](const boost::system::error_code& ec) {
      if (ec) return;
      if (auto self = weak.lock()) self->Dial(index);
    });
  }

  void Dial(size_t index) {
    std::lock_guard lock(mu);
    if (stopped) return;
    Dialer& d = dialers[index];
    if (d.known_key && links.count(*d.known_key)) {
      // Already connected to that node (perhaps it dialled us): look again later.
      d.backoff = config.max_backoff / 2;
      return ScheduleDial(index);
    }
    boost::system::error_code ec;
    tcp::resolver resolver(io);
    auto endpoints = resolver.resolve(d.target.host, std::to_string(d.target.port), ec);
    if (ec || endpoints.empty()) {
      log::Debug("dial {}:{}: cannot resolve: {}", d.target.host, d.target.port, ec.message());
      return ScheduleDial(index);
    }
    d.in_flight = true;
    const std::string remote = fmt::format("{}:{}", d.target.host, d.target.port);
    auto conn = P2pConnection::Dial(io, endpoints.begin()->endpoint(), ConnectionConfig(),
                                    Callbacks(true, remote, index));
    dialing.push_back(conn);
    std::erase_if(dialing, [](const auto& w) { return w.expired(); });
  }

  net::io_context& io;
  const PrivateKey node_key;
  const PeerSetConfig config;
  const MessageHandler on_message;
  const ConnectHandler on_connect;
  std::atomic<uint64_t> next_id{1};
  std::unique_ptr<P2pListener> listener;

  mutable std::mutex mu;  // guards everything below
  bool stopped = false;
  std::map<PublicKey, Link> links;
  std::vector<Dialer> dialers;
  std::vector<std::weak_ptr<P2pConnection>> dialing;
  // A peer's misbehaviour score, forgiven a point per config.score_decay since `since`.
  struct Score {
    int points = 0;
    Clock::time_point since;
  };
  std::map<PublicKey, Score> scores;
  std::map<PublicKey, Clock::time_point> banned_until;

  // The peer's score now, with what has decayed taken off (and forgotten once at zero); holds mu.
  int DecayedScore(const PublicKey& peer, Clock::time_point now) {
    auto it = scores.find(peer);
    if (it == scores.end()) return 0;
    Score& s = it->second;
    const auto decay = std::max(config.score_decay, std::chrono::milliseconds(1));
    const auto steps = (now - s.since) / decay;
    if (steps >= s.points) {
      scores.erase(it);
      return 0;
    }
    s.points -= static_cast<int>(steps);
    s.since += steps * decay;
    return s.points;
  }
};

PeerSet::PeerSet(net::io_context& io, PrivateKey node_key, PeerSetConfig config,
                 MessageHandler on_message, ConnectHandler on_connect)
    : impl_(std::make_shared<Impl>(io, node_key, std::move(config), std::move(on_message),
                                   std::move(on_connect))) {}

PeerSet::~PeerSet() { Stop(); }

Status PeerSet::Start() {
  Impl& s = *impl_;
  std::weak_ptr<Impl> weak = impl_;
  s.listener = std::make_unique<P2pListener>(
      s.io, s.config.listen_address, s.config.listen_port, s.ConnectionConfig(),
      [weak](const tcp::endpoint& remote) {
        auto self = weak.lock();
        if (!self) return P2pCallbacks{};
        return self->Callbacks(false,
                               fmt::format("{}:{}", remote.address().to_string(), remote.port()),
                               static_cast<size_t>(-1));
      });
  PUHUI_RETURN_IF_ERROR(s.listener->Start());
  std::lock_guard lock(s.mu);
  for (const HostPort& target : s.config.dial) {
    Impl::Dialer d;
    d.target = target;
    d.timer = std::make_unique<net::steady_timer>(s.io);
    s.dialers.push_back(std::move(d));
  }
  for (size_t i = 0; i < s.dialers.size(); ++i) {
    s.dialers[i].timer->expires_after(std::chrono::milliseconds{0});
    s.dialers[i].timer->async_wait([weak, i](const boost::system::error_code& ec) {
      if (ec) return;
      if (auto self = weak.lock()) self->Dial(i);
    });
  }
  return Status::Ok();
}

void PeerSet::Stop() {
  Impl& s = *impl_;
  std::vector<std::shared_ptr<P2pConnection>> to_close;
  {
    std::lock_guard lock(s.mu);
    if (s.stopped) return;
    s.stopped = true;
    for (auto& d : s.dialers) d.timer->cancel();
    for (auto& [key, link] : s.links) to_close.push_back(link.conn);
    for (auto& weak : s.dialing) {
      if (auto conn = weak.lock()) to_close.push_back(conn);
    }
    s.links.clear();
  }
  if (s.listener) s.listener->Stop();
  for (auto& conn : to_close) conn->Close(FailedPrecondition("node stopping"));
}

void PeerSet::Broadcast(const pb::P2pMessage& message, const PublicKey* except) {
  std::vector<std::shared_ptr<P2pConnection>> targets;
  {
    std::lock_guard lock(impl_->mu);
    for (const auto& [key, link] : impl_->links) {
      if (except == nullptr || !(key == *except)) targets.push_back(link.conn);
    }
  }
  for (auto& conn : targets) conn->Send(message);
}

bool PeerSet::SendTo(const PublicKey& peer, const pb::P2pMessage& message) {
  std::shared_ptr<P2pConnection> conn;
  {
    std::lock_guard lock(impl_->mu);
    auto it = impl_->links.find(peer);
    if (it == impl_->links.end()) return false;
    conn = it->second.conn;
  }
  conn->Send(message);
  return true;
}

void PeerSet::Misbehaved(const PublicKey& peer, int score, const std::string& reason) {
  std::shared_ptr<P2pConnection> drop;
  {
    std::lock_guard lock(impl_->mu);
    const Clock::time_point now = Clock::now();
    const int total = impl_->DecayedScore(peer, now) + score;
    auto& entry = impl_->scores[peer];
    if (entry.points == 0) entry.since = now;
    entry.points = total;
    log::Warn("peer {} misbehaved (+{} = {}): {}", ShortKey(peer), score, total, reason);
    if (total >= impl_->config.ban_score) {
      impl_->banned_until[peer] = now + impl_->config.ban_time;
      auto it = impl_->links.find(peer);
      if (it != impl_->links.end()) drop = it->second.conn;
    }
  }
  if (drop) {
    drop->Close(PermissionDenied(fmt::format(
        "peer banned for {} s after sending invalid data",
        std::chrono::duration_cast<std::chrono::seconds>(impl_->config.ban_time).count())));
  }
}

std::vector<PeerInfo> PeerSet::Peers() const {
  std::lock_guard lock(impl_->mu);
  const Clock::time_point now = Clock::now();
  std::vector<PeerInfo> out;
  for (const auto& [key, link] : impl_->links) {
    out.push_back(PeerInfo{key, link.remote, link.outbound, impl_->DecayedScore(key, now),
                           link.conn ? link.conn->bulk_dropped() : 0});
  }
  return out;
}

uint16_t PeerSet::port() const { return impl_->listener ? impl_->listener->port() : 0; }

}  // namespace puhui
