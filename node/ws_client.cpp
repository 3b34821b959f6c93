#include "node/ws_client.h"

#include <fmt/format.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket.hpp>
#include <optional>

namespace puhui {

namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using nlohmann::json;

struct WsClient::Impl {
  net::io_context io;
  websocket::stream<beast::tcp_stream> ws{io};
  beast::flat_buffer buffer;
  bool open = false;

  // Runs one async operation to completion within `timeout` (the stream's timer closes the
  // socket when it passes, which completes the operation with an error).
  template <typename Start>
  beast::error_code Run(std::chrono::milliseconds timeout, Start start) {
    beast::get_lowest_layer(ws).expires_after(timeout);
    std::optional<beast::error_code> result;
    start([&](beast::error_code ec, auto&&...) { result = ec; });
    io.restart();
    while (!result && io.run_one() > 0) {
    }
    return result.value_or(beast::error_code(net::error::operation_aborted));
  }
};

WsClient::WsClient() : impl_(std::make_unique<Impl>()) {}
WsClient::~WsClient() { Close(); }

Result<std::unique_ptr<WsClient>> WsClient::Subscribe(const std::string& host,
                                                      const std::string& port, const json& params,
                                                      std::chrono::milliseconds timeout) {
  std::unique_ptr<WsClient> c(new WsClient());
  Impl& m = *c->impl_;
  tcp::resolver resolver(m.io);
  beast::error_code ec;
  auto endpoints = resolver.resolve(host, port, ec);
  if (ec) return IoError(fmt::format("cannot resolve {}:{}: {}", host, port, ec.message()));
  ec = m.Run(timeout, [&](auto handler) {
    beast::get_lowest_layer(m.ws).async_connect(
        endpoints, [handler](beast::error_code e, const tcp::endpoint&) mutable { handler(e); });
  });
  if (ec) return IoError(fmt::format("cannot connect to {}:{}: {}", host, port, ec.message()));
  ec = m.Run(timeout, [&](auto handler) {
    m.ws.async_handshake(host + ":" + port, "/ws",
                         [handler](beast::error_code e) mutable { handler(e); });
  });
  if (ec)
    return IoError(
        fmt::format("WebSocket handshake with {}:{} failed: {}", host, port, ec.message()));
  m.open = true;
  m.ws.text(true);
  const std::string request =
      json{{"jsonrpc", "2.0"}, {"id", 1}, {"method", "subscribe"}, {"params", params}}.dump();
  ec = m.Run(timeout, [&](auto handler) { m.ws.async_write(net::buffer(request), handler); });
  if (ec) return IoError(fmt::format("cannot send subscribe: {}", ec.message()));
  auto reply = c->Next(timeout);
  if (!reply.ok()) return reply.status();
  if (reply->contains("error")) {
    return FailedPrecondition(fmt::format("subscribe refused: {}", (*reply)["error"].dump()));
  }
  if (!reply->contains("result")) return Internal("subscribe: unexpected reply " + reply->dump());
  c->ack_ = (*reply)["result"];
  return c;
}

Result<json> WsClient::Next(std::chrono::milliseconds timeout) {
  Impl& m = *impl_;
  if (!m.open) return FailedPrecondition("the stream is closed");
  m.buffer.consume(m.buffer.size());
  beast::error_code ec = m.Run(timeout, [&](auto handler) { m.ws.async_read(m.buffer, handler); });
  if (ec) {
    if (ec == websocket::error::closed)
      close_reason_.assign(m.ws.reason().reason.data(), m.ws.reason().reason.size());
    m.open = false;
    beast::error_code ignored;
    beast::get_lowest_layer(m.ws).socket().close(ignored);
    if (ec == beast::error::timeout) return ResourceExhausted("no message within the timeout");
    return IoError(fmt::format("stream ended: {}{}", ec.message(),
                               close_reason_.empty() ? "" : " (" + close_reason_ + ")"));
  }
  json message = json::parse(beast::buffers_to_string(m.buffer.data()), nullptr, false);
  if (message.is_discarded()) return Corruption("the node sent a message that is not JSON");
  return message;
}

void WsClient::Close() {
  Impl& m = *impl_;
  if (!m.open) return;
  m.open = false;
  m.Run(std::chrono::seconds(2),
        [&](auto handler) { m.ws.async_close(websocket::close_code::normal, handler); });
  beast::error_code ignored;
  beast::get_lowest_layer(m.ws).socket().close(ignored);
}

}  // namespace puhui
