// The WebSocket endpoint (GET /ws) with a fake event feed: the handshake and subscribe protocol,
// refusals, the subscriber limit, and a subscriber that stops reading being disconnected without
// holding the server up.
#include <doctest/doctest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <future>
#include <thread>

#include "rpc/http_server.h"
#include "rpc/params.h"

namespace puhui::rpc {
namespace {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace websocket = boost::beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using nlohmann::json;

// Streams endless messages of `message_bytes` (never caught up).
class EndlessSubscription : public EventSubscription {
 public:
  explicit EndlessSubscription(size_t message_bytes) : bytes_(message_bytes) {}
  json Next() override {
    return json{{"jsonrpc", "2.0"},
                {"method", "events"},
                {"params", {{"n", n_++}, {"pad", std::string(bytes_, 'x')}}}};
  }
  bool caught_up() const override { return false; }

 private:
  size_t bytes_;
  uint64_t n_ = 0;
};

class FakeFeed : public EventFeed {
 public:
  std::unique_ptr<EventSubscription> Subscribe(const json& params, json& ack) override {
    if (params.contains("bad")) throw RpcException(InvalidParams("bad", "param 'bad' is bad"));
    ack = {{"subscribed", true}};
    return std::make_unique<EndlessSubscription>(256 * 1024);
  }
  std::shared_ptr<void> Watch(std::function<void()>) override { return nullptr; }
};

class WsServer {
  net::io_context io_;
  net::executor_work_guard<net::io_context::executor_type> guard_{io_.get_executor()};

 public:
  explicit WsServer(RpcLimits limits) {
    server = std::make_unique<HttpServer>(io_, "127.0.0.1", 0, dispatcher, limits, &feed);
    REQUIRE(server->Start().ok());
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
  }
  ~WsServer() {
    server->Stop();
    guard_.reset();
    io_.stop();
    for (auto& t : threads_) t.join();
  }
  std::string port() const { return std::to_string(server->port()); }

  Dispatcher dispatcher;
  FakeFeed feed;
  std::unique_ptr<HttpServer> server;

 private:
  std::vector<std::thread> threads_;
};

// A client connection; `Subscribe` returns the server's reply to the subscribe request.
struct Client {
  net::io_context io;
  websocket::stream<tcp::socket> ws{io};

  beast::error_code Connect(const std::string& port) {
    tcp::resolver resolver(io);
    net::connect(ws.next_layer(), resolver.resolve("127.0.0.1", port));
    beast::error_code ec;
    ws.handshake("127.0.0.1:" + port, "/ws", ec);
    return ec;
  }
  json Subscribe(const json& params) {
    ws.text(true);
    ws.write(net::buffer(
        json{{"jsonrpc", "2.0"}, {"id", 7}, {"method", "subscribe"}, {"params", params}}.dump()));
    beast::flat_buffer b;
    ws.read(b);
    return json::parse(beast::buffers_to_string(b.data()));
  }
};

// Reads until the connection fails, in the background, bounded by `limit`; true if it failed.
bool ReadsUntilClosed(Client& c, std::chrono::seconds limit) {
  auto done = std::async(std::launch::async, [&c] {
    beast::flat_buffer b;
    beast::error_code ec;
    for (int i = 0; i < 100'000 && !ec; ++i) {
      c.ws.read(b, ec);
      b.consume(b.size());
    }
    return static_cast<bool>(ec);
  });
  if (done.wait_for(limit) != std::future_status::ready) {
    beast::error_code ignored;
    c.ws.next_layer().close(ignored);
    done.wait();
    return false;
  }
  return done.get();
}

}  // namespace

TEST_CASE("a WebSocket subscriber that stops reading is disconnected and frees its place") {
  RpcLimits limits;
  limits.max_subscribers = 1;
  limits.ws_write_timeout = std::chrono::milliseconds(300);
  WsServer s(limits);

  Client slow;
  REQUIRE_FALSE(slow.Connect(s.port()));
  json ack = slow.Subscribe(json::object());
  CHECK(ack["id"] == 7);
  CHECK(ack["result"]["subscribed"] == true);

  // The only place is taken: another subscriber is refused (HTTP 503 to the upgrade).
  Client second;
  CHECK(second.Connect(s.port()));

  // The slow one does not read; the server's writes stall and time out, and it is dropped.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  CHECK(ReadsUntilClosed(slow, std::chrono::seconds(20)));

  // Its place is free again.
  bool connected = false;
  for (int i = 0; i < 50 && !connected; ++i) {
    Client attempt;
    connected = !attempt.Connect(s.port());
    if (!connected) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(connected);
}

TEST_CASE("GET /ws needs an upgrade, and a bad subscribe is answered with an error and a close") {
  RpcLimits limits;
  WsServer s(limits);
  {
    net::io_context io;
    tcp::socket sock(io);
    tcp::resolver resolver(io);
    net::connect(sock, resolver.resolve("127.0.0.1", s.port()));
    http::request<http::empty_body> req{http::verb::get, "/ws", 11};
    req.set(http::field::host, "127.0.0.1");
    http::write(sock, req);
    beast::flat_buffer b;
    http::response<http::string_body> res;
    http::read(sock, b, res);
    CHECK(res.result_int() == 426);
  }
  {
    Client c;
    REQUIRE_FALSE(c.Connect(s.port()));
    json reply = c.Subscribe({{"bad", 1}});
    CHECK(reply["error"]["code"] == kInvalidParams);
    beast::flat_buffer b;
    beast::error_code ec;
    c.ws.read(b, ec);
    CHECK(ec == websocket::error::closed);
    CHECK(c.ws.reason().code == websocket::close_code::policy_error);
  }
  {
    Client c;
    REQUIRE_FALSE(c.Connect(s.port()));
    c.ws.write(net::buffer(std::string(R"({"jsonrpc":"2.0","id":1,"method":"nope"})")));
    beast::flat_buffer b;
    c.ws.read(b);
    CHECK(json::parse(beast::buffers_to_string(b.data()))["error"]["code"] == kMethodNotFound);
  }
}

}  // namespace puhui::rpc
