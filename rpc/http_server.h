// The node's JSON-RPC endpoint over HTTP/1.1: POST / carries JSON-RPC bodies to a Dispatcher,
// GET /health answers liveness probes, GET /ws upgrades to a WebSocket stream of committed events
// when the server has an EventFeed (ws_session.h). Beast stays out of this header so that node code
// which owns a server does not pay Beast's compile time.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "chain/status.h"
#include "rpc/dispatcher.h"
#include "rpc/event_feed.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace puhui::rpc {

// Loopback by default: the RPC edge is for the operator's own tools unless deliberately opened.
inline constexpr char kDefaultRpcBindAddress[] = "127.0.0.1";

// Bounds on what one client can make the server hold in memory or keep open.
struct RpcLimits {
  static constexpr size_t kDefaultMaxBodyBytes = 1024 * 1024;
  static constexpr size_t kDefaultMaxBatch = DispatchLimits::kDefaultMaxBatch;
  static constexpr size_t kDefaultMaxConnections = 256;
  static constexpr std::chrono::milliseconds kDefaultIdleTimeout = std::chrono::seconds(30);
  static constexpr size_t kDefaultMaxHeaderBytes = 8 * 1024;
  static constexpr size_t kDefaultMaxDepth = DispatchLimits::kDefaultMaxDepth;

  size_t max_body_bytes = kDefaultMaxBodyBytes;     // larger → 413 with error -32001
  size_t max_batch = kDefaultMaxBatch;              // more entries → error -32002
  size_t max_connections = kDefaultMaxConnections;  // more → 503 with error -32003, then close
  // A connection that takes longer than this to send a request (or to read a response), or
  // that sits idle between keep-alive requests, is closed.
  std::chrono::milliseconds idle_timeout = kDefaultIdleTimeout;
  size_t max_header_bytes = kDefaultMaxHeaderBytes;  // larger → 431, then close
  size_t max_depth = kDefaultMaxDepth;               // JSON nesting; deeper → error -32600
  // WebSocket subscribers (GET /ws): at most this many at once (more → 503), and one that does not
  // take a message within ws_write_timeout is disconnected.
  static constexpr size_t kDefaultMaxSubscribers = 64;
  static constexpr std::chrono::milliseconds kDefaultWsWriteTimeout = std::chrono::seconds(10);
  size_t max_subscribers = kDefaultMaxSubscribers;
  std::chrono::milliseconds ws_write_timeout = kDefaultWsWriteTimeout;
};

// Serves one Dispatcher on one address. The caller owns and runs the io_context, on one thread
// or many: each connection is confined to its own strand, and handlers run on those threads, so
// a handler blocks only its own connection.
//
// Lifetimes: the io_context and the Dispatcher must outlive the HttpServer. After Stop() (or the
// destructor) returns, the Dispatcher is not called again.
class HttpServer {
 public:
  // `feed`, if given, serves GET /ws and must outlive the server.
  HttpServer(boost::asio::io_context& io, std::string bind_address, uint16_t port,
             const Dispatcher& dispatcher, RpcLimits limits = {}, EventFeed* feed = nullptr);
  ~HttpServer();  // Stop()s
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens (port 0 picks a free port), then accepts on the io_context. Fails with
  // kInvalidArgument for an unparsable address, kIoError if the socket cannot be bound, and
  // kFailedPrecondition if already started or stopped.
  Status Start();

  // Closes the listening socket and every connection, and waits for handlers already running
  // to return (not the ones Stop() is called from). Safe from any thread, any number of times.
  void Stop();

  // The bound port once Start() has succeeded (the chosen one if 0 was asked), else 0.
  uint16_t port() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;  // shared with pending accept handlers, which may outlive us
};

}  // namespace puhui::rpc
