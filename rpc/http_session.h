// Internal to the HTTP server: one connection (HttpSession) and the state every connection of a
// server shares (SessionHub). Only rpc/http_server.cpp, rpc/http_session.cpp and
// rpc/ws_session.cpp include this.
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "rpc/dispatcher.h"
#include "rpc/http_server.h"

namespace puhui::rpc::internal {

class HttpSession;
class WsSession;

// Owns the connection count, the list of open sessions (so Stop can close them) and the gate
// that keeps the Dispatcher from being called once Stop has returned. Shared by the server and
// every session, since sessions may outlive the HttpServer object by a few handlers.
class SessionHub : public std::enable_shared_from_this<SessionHub> {
 public:
  SessionHub(const Dispatcher& dispatcher, RpcLimits limits, EventFeed* feed = nullptr);

  const RpcLimits& limits() const { return limits_; }

  // Takes a freshly accepted socket: serves it, answers 503 if the server is full, or drops it
  // if even the 503 budget is spent or the server is stopping.
  void Admit(boost::asio::ip::tcp::socket socket);
  // Called by ~HttpSession; `counted` says which budget the session used.
  void Remove(HttpSession* session, bool counted);

  // WebSocket subscribers (ws_session.h): whether the server streams events, taking over an
  // upgraded connection (false: the subscriber budget is spent or the server is stopping), and
  // leaving (~WsSession).
  bool streams_events() const { return feed_ != nullptr; }
  bool AdmitWebSocket(boost::asio::ip::tcp::socket socket,
                      boost::beast::http::request<boost::beast::http::string_body> upgrade);
  void RemoveWebSocket(WsSession* session);
  bool SubscriberRoom() const;
  void CountSlowSubscriber() { ++slow_subscribers_; }

  // Runs the Dispatcher, or returns nullopt if the server is stopping.
  std::optional<std::string> Dispatch(std::string_view body);
  bool stopping() const;

  // Refuses new sessions and dispatches, closes all sessions, and waits for running dispatches.
  void StopAll();

 private:
  const Dispatcher& dispatcher_;
  const RpcLimits limits_;
  EventFeed* const feed_;
  std::atomic<uint64_t> slow_subscribers_{0};  // disconnected for not reading

  mutable std::mutex mu_;
  std::condition_variable idle_;
  bool stopping_ = false;
  size_t serving_ = 0;    // sessions counted against max_connections
  size_t rejecting_ = 0;  // sessions only sending a 503
  size_t dispatching_ = 0;
  std::unordered_map<HttpSession*, std::weak_ptr<HttpSession>> sessions_;
  std::unordered_map<WsSession*, std::weak_ptr<WsSession>> ws_sessions_;
};

// One TCP connection. Every member runs on the socket's strand except Start and Close, which
// hop onto it. Pending operations hold a shared_ptr, so the session lives until the last ends.
class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  enum class Mode { kServe, kRejectBusy };

  HttpSession(boost::asio::ip::tcp::socket socket, std::shared_ptr<SessionHub> hub, Mode mode);
  ~HttpSession();
  HttpSession(const HttpSession&) = delete;
  HttpSession& operator=(const HttpSession&) = delete;

  void Start();
  void Close();

 private:
  using Request = boost::beast::http::request_parser<boost::beast::http::string_body>;
  using Response = boost::beast::http::response<boost::beast::http::string_body>;

  void ReadHeader();
  void OnHeader(boost::beast::error_code ec, size_t bytes);
  void OnContinueSent(boost::beast::error_code ec, size_t bytes);
  void ReadBody();
  void OnBody(boost::beast::error_code ec, size_t bytes);
  // Answers a read failure: a response for a bad or oversized request, else a plain close.
  void OnReadError(boost::beast::error_code ec);
  void Serve();

  // Fills response_ (JSON body); the caller may add headers, then calls Send.
  Response& Prepare(unsigned status, std::string body);
  void Send(bool keep_alive);
  void OnWrite(bool keep_alive, boost::beast::error_code ec, size_t bytes);

  // Stops sending, then reads and discards what the client still sends for a short while, so
  // the kernel does not reset the connection (and lose our response) over unread bytes.
  void LingerClose();
  void Drain();
  void OnDrain(boost::beast::error_code ec, size_t bytes);
  void CloseNow();

  boost::beast::tcp_stream stream_;
  const boost::asio::any_io_executor strand_;
  const std::shared_ptr<SessionHub> hub_;
  const Mode mode_;
  boost::beast::flat_buffer buffer_;
  std::optional<Request> request_;
  Response response_;
  unsigned version_ = 11;  // of the request being answered; HTTP/1.1 before one is read
  size_t drained_ = 0;
  bool closed_ = false;
};

}  // namespace puhui::rpc::internal
