#include "rpc/http_server.h"

#include <doctest/doctest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace puhui::rpc {
namespace {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using beast::error_code;
using nlohmann::json;
using Clock = std::chrono::steady_clock;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

// Every wait in these tests ends after this long, so a bug fails a test instead of hanging it.
constexpr auto kTimeout = std::chrono::seconds(5);

// A server on 127.0.0.1, port 0, run by two threads so strands matter.
class TestServer {
  // Declared first so it is destroyed last: the server must not outlive its io_context.
  net::io_context io_;
  net::executor_work_guard<net::io_context::executor_type> guard_{io_.get_executor()};

 public:
  explicit TestServer(RpcLimits limits = {}) {
    dispatcher.Register(
        "echo", [](const json& params) -> RpcResult { return params; }, "Returns its params.");
    dispatcher.Register(
        "stop_server",
        [this](const json&) -> RpcResult {
          server->Stop();
          return "stopped";
        },
        "Stops the server from inside a handler.");
    server = std::make_unique<HttpServer>(io_, "127.0.0.1", 0, dispatcher, limits);
    Status started = server->Start();
    REQUIRE_MESSAGE(started.ok(), started.ToString());
    REQUIRE(server->port() != 0);
    for (int i = 0; i < 2; ++i) {
      auto done = std::make_shared<std::promise<void>>();
      finished_.push_back(done->get_future());
      threads_.emplace_back([this, done] {
        io_.run();
        done->set_value();
      });
    }
  }

  ~TestServer() {
    server->Stop();
    guard_.reset();
    // With every connection closed the io_context runs out of work; if it does not, say so,
    // then force it so the test still ends.
    bool drained = true;
    for (auto& f : finished_)
      drained = drained && f.wait_for(kTimeout) == std::future_status::ready;
    CHECK_MESSAGE(drained, "io_context still had work after Stop()");
    io_.stop();
    for (auto& t : threads_) t.join();
    server.reset();
  }

  net::io_context& io() { return io_; }
  uint16_t port() const { return server->port(); }

  Dispatcher dispatcher;
  std::unique_ptr<HttpServer> server;

 private:
  std::vector<std::thread> threads_;
  std::vector<std::future<void>> finished_;
};

// A blocking HTTP client with a deadline on every operation: each call runs its own io_context
// until the operation completes or beast's stream timeout closes the socket.
class TestClient {
 public:
  error_code Connect(uint16_t port) {
    return Run([&](auto done) {
      stream_.async_connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), done);
    });
  }

  error_code Send(Request request) {
    request_ = std::move(request);
    return Run([&](auto done) { http::async_write(stream_, request_, done); });
  }

  error_code SendRaw(std::string bytes) {
    raw_ = std::move(bytes);
    return Run([&](auto done) { net::async_write(stream_, net::buffer(raw_), done); });
  }

  std::optional<Response> Read() {
    http::response_parser<http::string_body> parser;
    error_code ec = Run([&](auto done) { http::async_read(stream_, buffer_, parser, done); });
    if (ec) return std::nullopt;
    return parser.release();
  }

  std::optional<Response> Call(Request request) {
    if (Send(std::move(request))) return std::nullopt;
    return Read();
  }

  // True once the server closes the connection (EOF or reset), false on timeout.
  bool WaitClosed() {
    for (;;) {
      error_code ec = Run([&](auto done) { stream_.async_read_some(buffer_.prepare(4096), done); });
      if (ec == beast::error::timeout) return false;
      if (ec) return true;
    }
  }

  void Close() { stream_.close(); }

 private:
  template <typename Initiate>
  error_code Run(Initiate initiate) {
    error_code result = net::error::would_block;
    stream_.expires_after(kTimeout);
    initiate([&result](error_code ec, auto&&...) { result = ec; });
    io_.restart();
    io_.run();
    return result;
  }

  net::io_context io_;
  beast::tcp_stream stream_{io_};
  beast::flat_buffer buffer_;
  Request request_;
  std::string raw_;
};

Request Post(std::string body, std::string target = "/",
             std::string content_type = "application/json") {
  Request request(http::verb::post, target, 11);
  request.set(http::field::host, "127.0.0.1");
  if (!content_type.empty()) request.set(http::field::content_type, content_type);
  request.body() = std::move(body);
  request.prepare_payload();
  return request;
}

Request Get(std::string target) {
  Request request(http::verb::get, target, 11);
  request.set(http::field::host, "127.0.0.1");
  return request;
}

std::string EchoCall(int id) {
  return json{{"jsonrpc", "2.0"}, {"method", "echo"}, {"params", {id}}, {"id", id}}.dump();
}

json BodyJson(const Response& response) {
  json body = json::parse(response.body(), nullptr, false);
  REQUIRE_FALSE(body.is_discarded());
  return body;
}

TEST_CASE("a JSON-RPC call over HTTP returns the dispatcher's answer") {
  TestServer server;
  TestClient client;
  REQUIRE_FALSE(client.Connect(server.port()));
  auto response = client.Call(Post(EchoCall(7), "/", "application/json; charset=utf-8"));
  REQUIRE(response);
  CHECK(response->result() == http::status::ok);
  CHECK((*response)[http::field::content_type] == "application/json");
  CHECK(BodyJson(*response) == json{{"jsonrpc", "2.0"}, {"result", {7}}, {"id", 7}});
}

TEST_CASE("two requests are answered on one keep-alive connection") {
  TestServer server;
  TestClient client;
  REQUIRE_FALSE(client.Connect(server.port()));
  auto first = client.Call(Post(EchoCall(1)));
  REQUIRE(first);
  CHECK(first->keep_alive());
  auto second = client.Call(Post(EchoCall(2)));
  REQUIRE(second);
  CHECK(BodyJson(*first)["result"] == json{1});
  CHECK(BodyJson(*second)["result"] == json{2});
}

TEST_CASE("a body over the limit gets 413 with error -32001 and the connection closes") {
  TestServer server;  // default limits: 1 MiB
  TestClient client;
  REQUIRE_FALSE(client.Connect(server.port()));
  auto response = client.Call(Post(std::string(RpcLimits::kDefaultMaxBodyBytes + 1, ' ')));
  REQUIRE(response);
  CHECK(response->result() == http::status::payload_too_large);
  CHECK(BodyJson(*response)["error"]["code"] == kBodyTooLarge);
  CHECK_FALSE(response->keep_alive());
  CHECK(client.WaitClosed());

  // A body right at the limit is read and dispatched (this one is not valid JSON).
  TestClient at_limit;
  REQUIRE_FALSE(at_limit.Connect(server.port()));
  auto parsed = at_limit.Call(Post(std::string(RpcLimits::kDefaultMaxBodyBytes, ' ')));
  REQUIRE(parsed);
  CHECK(parsed->result() == http::status::ok);
  CHECK(BodyJson(*parsed)["error"]["code"] == kParseError);
}

TEST_CASE("GET /health answers status ok") {
  TestServer server;
  TestClient client;
  REQUIRE_FALSE(client.Connect(server.port()));
  auto response = client.Call(Get("/health"));
  REQUIRE(response);
  CHECK(response->result() == http::status::ok);
  CHECK(BodyJson(*response) == json{{"status", "ok"}});
}

TEST_CASE("unknown paths are 404 and wrong methods 405, as short JSON errors") {
  TestServer server;
  TestClient client;
  REQUIRE_FALSE(client.Connect(server.port()));
  auto not_found = client.Call(Get("/nope"));
  REQUIRE(not_found);
  CHECK(not_found->result() == http::status::not_found);
  CHECK(BodyJson(*not_found).contains("error"));

  auto get_root = client.Call(Get("/"));
  REQUIRE(get_root);
  CHECK(get_root->result() == http::status::method_not_allowed);
  CHECK((*get_root)[http::field::allow] == "POST");

  auto post_health = client.Call(Post("{}", "/health"));
  REQUIRE(post_health);
  CHECK(post_health->result() == http::status::method_not_allowed);
  CHECK((*post_health)[http::field::allow] == "GET");
  CHECK(client.WaitClosed());  // its body was left unread, so the connection cannot go on
}

TEST_CASE("a POST with a non-JSON content type is 415") {
  TestServer server;
  TestClient client;
  REQUIRE_FALSE(client.Connect(server.port()));
  auto response = client.Call(Post(EchoCall(1), "/", "text/plain"));
  REQUIRE(response);
  CHECK(response->result() == http::status::unsupported_media_type);

  TestClient lenient;  // no Content-Type at all is accepted
  REQUIRE_FALSE(lenient.Connect(server.port()));
  auto untyped = lenient.Call(Post(EchoCall(2), "/", ""));
  REQUIRE(untyped);
  CHECK(untyped->result() == http::status::ok);
}

TEST_CASE("a notification gets 204 with no body and the connection stays open") {
  TestServer server;
  TestClient client;
  REQUIRE_FALSE(client.Connect(server.port()));
  auto response = client.Call(Post(R"({"jsonrpc":"2.0","method":"echo"})"));
  REQUIRE(response);
  CHECK(response->result() == http::status::no_content);
  CHECK(response->body().empty());
  auto next = client.Call(Post(EchoCall(3)));
  REQUIRE(next);
  CHECK(next->result() == http::status::ok);
}

TEST_CASE("a request with Expect: 100-continue gets 100 Continue before sending its body") {
  TestServer server;
  TestClient client;
  REQUIRE_FALSE(client.Connect(server.port()));
  std::string body = EchoCall(5);
  REQUIRE_FALSE(
      client.SendRaw("POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     "Expect: 100-continue\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\n\r\n"));
  auto interim = client.Read();
  REQUIRE(interim);
  CHECK(interim->result() == http::status::continue_);
  REQUIRE_FALSE(client.SendRaw(body));
  auto response = client.Read();
  REQUIRE(response);
  CHECK(BodyJson(*response)["result"] == json{5});
}

TEST_CASE("a header over the limit gets 431 and garbage gets 400") {
  TestServer server;
  TestClient big;
  REQUIRE_FALSE(big.Connect(server.port()));
  Request request = Post(EchoCall(1));
  request.set("X-Padding", std::string(RpcLimits::kDefaultMaxHeaderBytes + 1, 'a'));
  auto too_big = big.Call(std::move(request));
  REQUIRE(too_big);
  CHECK(too_big->result() == http::status::request_header_fields_too_large);
  CHECK(big.WaitClosed());

  TestClient garbage;
  REQUIRE_FALSE(garbage.Connect(server.port()));
  REQUIRE_FALSE(garbage.SendRaw("NOT HTTP AT ALL\r\n\r\n"));
  auto bad = garbage.Read();
  REQUIRE(bad);
  CHECK(bad->result() == http::status::bad_request);
  CHECK(garbage.WaitClosed());
}

TEST_CASE("concurrent clients on several connections are all answered") {
  TestServer server;
  constexpr int kClients = 8;
  constexpr int kCallsEach = 20;
  std::vector<std::future<int>> answered;
  for (int c = 0; c < kClients; ++c) {
    answered.push_back(std::async(std::launch::async, [&server, c] {
      TestClient client;
      if (client.Connect(server.port())) return 0;
      int ok = 0;
      for (int i = 0; i < kCallsEach; ++i) {
        int id = c * 1000 + i;
        auto response = client.Call(Post(EchoCall(id)));
        if (response && json::parse(response->body(), nullptr, false)["id"] == id) ++ok;
      }
      return ok;
    }));
  }
  for (auto& f : answered) {
    REQUIRE(f.wait_for(kTimeout * 2) == std::future_status::ready);
    CHECK(f.get() == kCallsEach);
  }
}

TEST_CASE("connections over the limit get 503 with error -32003 and are closed") {
  RpcLimits limits;
  limits.max_connections = 2;
  TestServer server(limits);
  TestClient first, second;
  REQUIRE_FALSE(first.Connect(server.port()));
  REQUIRE_FALSE(second.Connect(server.port()));
  // A completed call proves each connection was accepted and counted.
  REQUIRE(first.Call(Post(EchoCall(1))));
  REQUIRE(second.Call(Post(EchoCall(2))));

  TestClient third;
  REQUIRE_FALSE(third.Connect(server.port()));
  auto busy = third.Call(Post(EchoCall(3)));
  REQUIRE(busy);
  CHECK(busy->result() == http::status::service_unavailable);
  CHECK(BodyJson(*busy)["error"]["code"] == kServerBusy);
  CHECK(third.WaitClosed());

  // Once a slot frees up, new connections are served again.
  first.Close();
  bool served = false;
  for (auto deadline = Clock::now() + kTimeout; !served && Clock::now() < deadline;) {
    TestClient again;
    REQUIRE_FALSE(again.Connect(server.port()));
    auto response = again.Call(Post(EchoCall(4)));
    served = response && response->result() == http::status::ok;
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(served);
}

TEST_CASE("an idle connection is closed after the idle timeout") {
  RpcLimits limits;
  limits.idle_timeout = std::chrono::milliseconds(200);
  TestServer server(limits);
  TestClient client;
  REQUIRE_FALSE(client.Connect(server.port()));
  auto start = Clock::now();
  CHECK(client.WaitClosed());
  CHECK(Clock::now() - start < std::chrono::seconds(3));
}

TEST_CASE("Stop returns promptly with clients connected, closes them and frees the port") {
  TestServer server;
  TestClient idle, partial;
  REQUIRE_FALSE(idle.Connect(server.port()));
  REQUIRE(idle.Call(Post(EchoCall(1))));
  REQUIRE_FALSE(partial.Connect(server.port()));
  REQUIRE_FALSE(partial.SendRaw("POST / HTTP/1.1\r\nHost: x\r\n"));  // a request half sent
  const uint16_t port = server.port();

  auto start = Clock::now();
  server.server->Stop();
  CHECK(Clock::now() - start < std::chrono::seconds(1));
  CHECK(idle.WaitClosed());
  CHECK(partial.WaitClosed());

  TestClient late;
  CHECK(late.Connect(port));  // refused: the listening socket is closed
  server.server->Stop();      // a second Stop is harmless
}

TEST_CASE("a handler may stop the server it runs in") {
  TestServer server;
  TestClient client;
  REQUIRE_FALSE(client.Connect(server.port()));
  REQUIRE_FALSE(client.Send(Post(R"({"jsonrpc":"2.0","method":"stop_server","id":1})")));
  CHECK(client.WaitClosed());
  TestClient late;
  CHECK(late.Connect(server.port()));
}

TEST_CASE("Start fails cleanly on a bad address, a taken port, or a second start") {
  TestServer running;
  Dispatcher dispatcher;
  HttpServer bad_address(running.io(), "not-an-address", 0, dispatcher);
  CHECK(bad_address.Start().code() == StatusCode::kInvalidArgument);
  HttpServer taken(running.io(), "127.0.0.1", running.port(), dispatcher);
  Status taken_status = taken.Start();
  CHECK(taken_status.code() == StatusCode::kIoError);
  CHECK(taken.port() == 0);
  CHECK(running.server->Start().code() == StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace puhui::rpc
