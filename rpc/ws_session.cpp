#include "rpc/ws_session.h"

#include <fmt/format.h>

#include <boost/asio/post.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/websocket/error.hpp>

#include "rpc/errors.h"
#include "rpc/http_session.h"

namespace puhui::rpc::internal {
namespace {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace websocket = boost::beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using beast::error_code;
using nlohmann::json;

json ErrorReply(const json& id, const RpcError& e) {
  return json{{"jsonrpc", "2.0"}, {"id", id}, {"error", ToJson(e)}};
}

}  // namespace

WsSession::WsSession(tcp::socket socket, std::shared_ptr<SessionHub> hub, EventFeed& feed,
                     std::chrono::milliseconds write_timeout)
    : ws_(std::move(socket)),
      strand_(ws_.get_executor()),
      hub_(std::move(hub)),
      feed_(feed),
      write_timeout_(write_timeout),
      write_timer_(strand_) {}

WsSession::~WsSession() { hub_->RemoveWebSocket(this); }

void WsSession::Start(http::request<http::string_body> upgrade) {
  net::post(strand_, [self = shared_from_this(), req = std::move(upgrade)]() mutable {
    if (self->closed_) return;
    self->ws_.read_message_max(kMaxWsRequestBytes);
    self->ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(http::field::server, "puhui"); }));
    beast::get_lowest_layer(self->ws_).expires_after(self->hub_->limits().idle_timeout);
    self->ws_.async_accept(
        req, beast::bind_front_handler(&WsSession::OnAccept, self->shared_from_this()));
  });
}

void WsSession::Close() {
  net::post(strand_, [self = shared_from_this()] {
    self->CloseWith(websocket::close_code::going_away, "the node is stopping");
  });
}

void WsSession::OnAccept(error_code ec) {
  if (ec) return Abort();
  // The subscribe request must come within the idle timeout; after it, reads wait for as long as
  // the client likes (it only sends control frames), and writes have their own timeout.
  ws_.async_read(buffer_, beast::bind_front_handler(&WsSession::OnSubscribe, shared_from_this()));
}

void WsSession::OnSubscribe(error_code ec, size_t /*bytes*/) {
  if (ec == websocket::error::message_too_big) {
    return CloseWith(websocket::close_code::too_big,
                     fmt::format("a subscribe request has at most {} bytes", kMaxWsRequestBytes));
  }
  if (ec) return Abort();
  beast::get_lowest_layer(ws_).expires_never();
  std::string text = beast::buffers_to_string(buffer_.data());
  buffer_.consume(buffer_.size());
  json id = nullptr;
  try {
    json request = json::parse(text);
    if (!request.is_object()) throw RpcException(RpcError{kInvalidRequest, "not a request", {}});
    id = request.value("id", json());
    if (request.value("method", "") != "subscribe") {
      throw RpcException(RpcError{
          kMethodNotFound, "the first message must be a JSON-RPC request for 'subscribe'", {}});
    }
    json ack;
    sub_ = feed_.Subscribe(request.value("params", json::object()), ack);
    ws_.text(true);
    Write(json{{"jsonrpc", "2.0"}, {"id", id}, {"result", ack}}.dump());
  } catch (const RpcException& e) {
    Write(ErrorReply(id, e.error()).dump());
  } catch (const json::exception& e) {
    Write(ErrorReply(id, RpcError{kParseError, std::string("not JSON: ") + e.what(), {}}).dump());
  }
  if (!sub_) return;  // the error goes out, then OnWrite closes
  std::weak_ptr<WsSession> weak = shared_from_this();
  watch_ = feed_.Watch([weak] {
    if (auto self = weak.lock()) {
      net::post(self->strand_, [self] {
        self->woken_ = true;
        self->Pump();
      });
    }
  });
  ReadLoop();
}

void WsSession::ReadLoop() {
  if (closed_) return;
  ws_.async_read(buffer_, beast::bind_front_handler(&WsSession::OnRead, shared_from_this()));
}

void WsSession::OnRead(error_code ec, size_t /*bytes*/) {
  if (ec) return Abort();  // the client closed (Beast answered its close frame) or went away
  buffer_.consume(buffer_.size());
  ReadLoop();
}

void WsSession::Pump() {
  if (closed_ || writing_ || !sub_) return;
  woken_ = false;
  // A stretch of blocks without a matching event yields null; keep going while not at the tip.
  for (int round = 0; round < 16; ++round) {
    json message;
    try {
      message = sub_->Next();
    } catch (const std::exception& e) {
      return CloseWith(websocket::close_code::internal_error,
                       fmt::format("cannot read events: {}", e.what()));
    }
    if (!message.is_null()) return Write(message.dump());
    if (sub_->caught_up()) return;
  }
  net::post(strand_, [self = shared_from_this()] { self->Pump(); });
}

void WsSession::Write(std::string text) {
  if (closed_) return;
  writing_ = true;
  out_ = std::move(text);
  write_timer_.expires_after(write_timeout_);
  write_timer_.async_wait([weak = std::weak_ptr<WsSession>(shared_from_this())](error_code ec) {
    auto self = weak.lock();
    if (ec || !self || !self->writing_) return;
    // The client does not read: a close frame could not reach it either. Its cursor resumes it.
    self->hub_->CountSlowSubscriber();
    self->Abort();
  });
  ws_.async_write(net::buffer(out_),
                  beast::bind_front_handler(&WsSession::OnWrite, shared_from_this()));
}

void WsSession::OnWrite(error_code ec, size_t /*bytes*/) {
  writing_ = false;
  write_timer_.cancel();
  if (ec) return Abort();
  if (!sub_) {
    return CloseWith(websocket::close_code::policy_error, "subscribe refused; see the error");
  }
  Pump();
}

void WsSession::CloseWith(websocket::close_code code, std::string reason) {
  if (closed_) return;
  closed_ = true;
  watch_.reset();
  if (writing_) {  // one write at a time: a close frame cannot follow a pending message
    beast::get_lowest_layer(ws_).close();
    return;
  }
  beast::get_lowest_layer(ws_).expires_after(std::chrono::seconds(2));
  websocket::close_reason why(code);
  why.reason = reason.substr(0, 120);  // a close frame's payload is at most 125 bytes
  ws_.async_close(
      why, [self = shared_from_this()](error_code) { beast::get_lowest_layer(self->ws_).close(); });
}

void WsSession::Abort() {
  if (closed_ && !writing_) {
    beast::get_lowest_layer(ws_).close();
    return;
  }
  closed_ = true;
  watch_.reset();
  write_timer_.cancel();
  beast::get_lowest_layer(ws_).close();
}

}  // namespace puhui::rpc::internal
