#include "rpc/http_server.h"

#include <fmt/format.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <chrono>
#include <mutex>
#include <utility>

#include "rpc/http_session.h"

namespace puhui::rpc {
namespace {

namespace beast = boost::beast;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using beast::error_code;

// After a failed accept (typically out of file descriptors) wait before trying again, rather
// than spin on an error that only time can clear.
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};

}  // namespace

// The acceptor side. Its own mutex (not a strand) serialises the acceptor, so Stop() can close
// the listening socket synchronously from any thread: once Stop returns, the port is free.
struct HttpServer::Impl : std::enable_shared_from_this<Impl> {
  enum class State { kNew, kRunning, kStopped };

  Impl(net::io_context& context, std::string address, uint16_t port, const Dispatcher& dispatcher,
       RpcLimits limits, EventFeed* feed)
      : io(context),
        bind_address(address.empty() ? std::string(kDefaultRpcBindAddress) : std::move(address)),
        requested_port(port),
        hub(std::make_shared<internal::SessionHub>(dispatcher, limits, feed)),
        acceptor(context),
        retry_timer(context) {}

  Status Start();
  void Stop();
  void AcceptNext();  // mu held
  void OnAccept(error_code ec, tcp::socket socket);

  net::io_context& io;
  const std::string bind_address;
  const uint16_t requested_port;
  const std::shared_ptr<internal::SessionHub> hub;
  std::atomic<uint16_t> bound_port{0};

  std::mutex mu;
  State state = State::kNew;
  tcp::acceptor acceptor;
  net::steady_timer retry_timer;
};

Status HttpServer::Impl::Start() {
  std::lock_guard lock(mu);
  if (state != State::kNew) return FailedPrecondition("RPC server already started or stopped");
  error_code ec;
  net::ip::address address = net::ip::make_address(bind_address, ec);
  if (ec) return InvalidArgument(fmt::format("bad RPC bind address '{}'", bind_address));
  const tcp::endpoint endpoint(address, requested_port);
  const auto fail = [&](const char* step) {
    error_code ignored;
    acceptor.close(ignored);
    return IoError(fmt::format("RPC server cannot {} {}:{}: {}", step, bind_address, requested_port,
                               ec.message()));
  };
  acceptor.open(endpoint.protocol(), ec);
  if (ec) return fail("open a socket for");
  // Lets a restarted node take its port back while old connections sit in TIME_WAIT.
  acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (ec) return fail("configure");
  acceptor.bind(endpoint, ec);
  if (ec) return fail("bind");
  acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen on");
  tcp::endpoint local = acceptor.local_endpoint(ec);
  if (ec) return fail("read the port of");
  bound_port = local.port();
  state = State::kRunning;
  AcceptNext();
  return Status::Ok();
}

void HttpServer::Impl::AcceptNext() {
  // Each connection gets its own strand, so its handlers never run concurrently.
  acceptor.async_accept(net::make_strand(io),
                        beast::bind_front_handler(&Impl::OnAccept, shared_from_this()));
}

void HttpServer::Impl::OnAccept(error_code ec, tcp::socket socket) {
  if (!ec) hub->Admit(std::move(socket));
  std::lock_guard lock(mu);
  if (state != State::kRunning) return;
  if (!ec) return AcceptNext();
  retry_timer.expires_after(kAcceptRetryDelay);
  retry_timer.async_wait([self = shared_from_this()](error_code wait_ec) {
    std::lock_guard retry_lock(self->mu);
    if (!wait_ec && self->state == State::kRunning) self->AcceptNext();
  });
}

void HttpServer::Impl::Stop() {
  {
    std::lock_guard lock(mu);
    state = State::kStopped;
    error_code ignored;
    acceptor.close(ignored);  // a pending accept completes with operation_aborted
    retry_timer.cancel();
  }
  hub->StopAll();
}

HttpServer::HttpServer(net::io_context& io, std::string bind_address, uint16_t port,
                       const Dispatcher& dispatcher, RpcLimits limits, EventFeed* feed)
    : impl_(std::make_shared<Impl>(io, std::move(bind_address), port, dispatcher, limits, feed)) {}

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Start() { return impl_->Start(); }

void HttpServer::Stop() { impl_->Stop(); }

uint16_t HttpServer::port() const { return impl_->bound_port; }

}  // namespace puhui::rpc
