// Internal to the HTTP server: one WebSocket subscriber to committed events (GET /ws with an
// upgrade; docs/exchange.md "Event stream"). The client sends one JSON-RPC "subscribe" request;
// the session answers it, then streams "events" notifications from the EventFeed, one message in
// flight at a time, and waits for the next commit when caught up. Memory per subscriber is bounded
// by one message. A subscriber that does not take a message within the write timeout is
// disconnected (its cursor lets it resume without gaps or duplicates). Every member runs on the
// socket's strand except Start and Close, which hop onto it.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "rpc/event_feed.h"

namespace puhui::rpc::internal {

class SessionHub;

// A subscribe request larger than this is refused (close code 1009).
inline constexpr size_t kMaxWsRequestBytes = 16 * 1024;

class WsSession : public std::enable_shared_from_this<WsSession> {
 public:
  WsSession(boost::asio::ip::tcp::socket socket, std::shared_ptr<SessionHub> hub, EventFeed& feed,
            std::chrono::milliseconds write_timeout);
  ~WsSession();
  WsSession(const WsSession&) = delete;
  WsSession& operator=(const WsSession&) = delete;

  // Completes the handshake for `upgrade`, the HTTP request already read.
  void Start(boost::beast::http::request<boost::beast::http::string_body> upgrade);
  // Closes with a reason (going away) from any thread.
  void Close();

 private:
  void OnAccept(boost::beast::error_code ec);
  void OnSubscribe(boost::beast::error_code ec, size_t bytes);
  void ReadLoop();  // keeps reading so control frames (ping, close) are answered; ignores data
  void OnRead(boost::beast::error_code ec, size_t bytes);
  void Pump();
  void Write(std::string text);
  void OnWrite(boost::beast::error_code ec, size_t bytes);
  void CloseWith(boost::beast::websocket::close_code code, std::string reason);
  void Abort();

  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
  const boost::asio::any_io_executor strand_;
  const std::shared_ptr<SessionHub> hub_;
  EventFeed& feed_;
  const std::chrono::milliseconds write_timeout_;
  boost::asio::steady_timer write_timer_;
  boost::beast::flat_buffer buffer_;
  std::unique_ptr<EventSubscription> sub_;
  std::shared_ptr<void> watch_;
  std::string out_;
  bool writing_ = false;
  bool woken_ = false;  // a commit came while a write was in flight
  bool closed_ = false;
};

}  // namespace puhui::rpc::internal
