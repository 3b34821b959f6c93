#include "node/peer_set.h"

#include <doctest/doctest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <thread>

#include "test_util.h"

using namespace puhui;
using namespace puhui::testing;
namespace net = boost::asio;
using namespace std::chrono_literals;

namespace {

PeerSetConfig Config() {
  PeerSetConfig c;
  c.chain_id = "peer-set-test";
  c.is_allowed = [](const PublicKey&) { return true; };
  c.min_backoff = 20ms;
  c.max_backoff = 100ms;
  c.ban_score = 10;
  c.ban_time = 60s;
  c.score_decay = 100ms;
  return c;
}

}  // namespace

TEST_CASE("a peer's misbehaviour is forgiven over time, and a full ban score drops and bans it") {
  net::io_context io;
  const PrivateKey a_key = KeyOf("peer set a"), b_key = KeyOf("peer set b");
  auto ignore_message = [](const PublicKey&, pb::P2pMessage) {};
  auto ignore_connect = [](const PublicKey&) {};
  PeerSet a(io, a_key, Config(), ignore_message, ignore_connect);
  REQUIRE(a.Start().ok());
  PeerSetConfig b_config = Config();
  b_config.dial = {HostPort{"127.0.0.1", a.port()}};
  PeerSet b(io, b_key, b_config, ignore_message, ignore_connect);
  REQUIRE(b.Start().ok());
  auto work = net::make_work_guard(io);
  std::thread runner([&io] { io.run(); });

  auto score = [&]() -> std::optional<int> {
    for (const auto& p : a.Peers()) {
      if (p.key == b_key.Public()) return p.score;
    }
    return std::nullopt;
  };
  REQUIRE(WaitUntil([&] { return score().has_value(); }));
  a.Misbehaved(b_key.Public(), 6, "test fault");
  CHECK(score().value_or(-1) <= 6);
  // At least three points are forgiven in 350 ms: 6 more stay below the ban score of 10.
  std::this_thread::sleep_for(350ms);
  CHECK(score().value_or(-1) <= 3);
  a.Misbehaved(b_key.Public(), 6, "test fault");
  CHECK(score().has_value());
  // A full ban score at once drops the peer, and its redials are refused while banned.
  a.Misbehaved(b_key.Public(), 10, "test fault");
  CHECK(WaitUntil([&] { return !score().has_value(); }));
  std::this_thread::sleep_for(500ms);  // b redials every 20-100 ms
  CHECK_FALSE(score().has_value());

  b.Stop();
  a.Stop();
  work.reset();
  io.stop();
  runner.join();
}
