#include "rpc/http_session.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "rpc/ws_session.h"

namespace puhui::rpc::internal {
namespace {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using beast::error_code;

// How long and how much a closing connection keeps reading after our last response (LingerClose).
constexpr std::chrono::milliseconds kLingerTime = std::chrono::seconds(2);
constexpr size_t kMaxLingerBytes = 16 * 1024 * 1024;
constexpr size_t kDrainChunk = 16 * 1024;

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr std::string_view kHealthy = R"({"status":"ok"})";

// The hub whose Dispatcher this thread is running, so Stop() from inside a handler does not wait
// for itself.
thread_local const SessionHub* tls_dispatching_hub = nullptr;

// Beast 1.74 has its own string_view type.
std::string_view Std(beast::string_view s) { return {s.data(), s.size()}; }

std::string ShortError(std::string_view message) {
  return nlohmann::json{{"error", message}}.dump();
}

// Beast's http category holds both malformed requests and clean ends of stream.
bool IsHttpProtocolError(const error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_target).category() &&
         ec != http::error::end_of_stream && ec != http::error::partial_message;
}

// Any JSON media type: application/json, application/json-rpc, application/jsonrequest,
// application/<x>+json, in any case and with parameters such as "; charset=utf-8".
bool IsJsonMediaType(std::string_view value) {
  value = value.substr(0, value.find(';'));
  std::string type;
  for (char c : value) {
    if (c != ' ' && c != '\t')
      type += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  size_t slash = type.find('/');
  if (slash == std::string::npos) return false;
  std::string_view subtype = std::string_view(type).substr(slash + 1);
  return subtype == "json" || subtype == "json-rpc" || subtype == "jsonrequest" ||
         subtype.ends_with("+json");
}

bool IsContinueExpected(std::string_view expect) {
  constexpr std::string_view kValue = "100-continue";
  return std::equal(expect.begin(), expect.end(), kValue.begin(), kValue.end(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == b;
  });
}

}  // namespace

// ---- SessionHub ----

SessionHub::SessionHub(const Dispatcher& dispatcher, RpcLimits limits, EventFeed* feed)
    : dispatcher_(dispatcher), limits_(limits), feed_(feed) {}

bool SessionHub::AdmitWebSocket(tcp::socket socket, http::request<http::string_body> upgrade) {
  std::shared_ptr<WsSession> session;  // outlives the lock: its destructor takes mu_
  {
    std::lock_guard lock(mu_);
    if (stopping_ || !feed_ || ws_sessions_.size() >= limits_.max_subscribers) return false;
    session = std::make_shared<WsSession>(std::move(socket), shared_from_this(), *feed_,
                                          limits_.ws_write_timeout);
    ws_sessions_.emplace(session.get(), session);
  }
  session->Start(std::move(upgrade));
  return true;
}

bool SessionHub::SubscriberRoom() const {
  std::lock_guard lock(mu_);
  return ws_sessions_.size() < limits_.max_subscribers;
}

void SessionHub::RemoveWebSocket(WsSession* session) {
  std::lock_guard lock(mu_);
  ws_sessions_.erase(session);
}

void SessionHub::Admit(tcp::socket socket) {
  std::shared_ptr<HttpSession> session;  // outlives the lock: its destructor takes mu_
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;  // the socket closes as it goes out of scope
    HttpSession::Mode mode = HttpSession::Mode::kServe;
    if (serving_ >= limits_.max_connections) {
      // Answering 503 costs a socket too; past twice the limit, drop without a word.
      if (rejecting_ >= limits_.max_connections) return;
      mode = HttpSession::Mode::kRejectBusy;
    }
    session = std::make_shared<HttpSession>(std::move(socket), shared_from_this(), mode);
    ++(mode == HttpSession::Mode::kServe ? serving_ : rejecting_);
    sessions_.emplace(session.get(), session);
  }
  session->Start();
}

void SessionHub::Remove(HttpSession* session, bool counted) {
  std::lock_guard lock(mu_);
  sessions_.erase(session);
  --(counted ? serving_ : rejecting_);
}

bool SessionHub::stopping() const {
  std::lock_guard lock(mu_);
  return stopping_;
}

std::optional<std::string> SessionHub::Dispatch(std::string_view body) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return std::nullopt;
    ++dispatching_;
  }
  // Leaves the gate even if Handle throws (it promises not to, but the count must stay right).
  struct Leave {
    SessionHub* hub;
    const SessionHub* outer;
    ~Leave() {
      tls_dispatching_hub = outer;
      {
        std::lock_guard lock(hub->mu_);
        --hub->dispatching_;
      }
      hub->idle_.notify_all();
    }
  } leave{this, tls_dispatching_hub};
  tls_dispatching_hub = this;
  return dispatcher_.Handle(body, DispatchLimits{limits_.max_batch, limits_.max_depth});
}

void SessionHub::StopAll() {
  std::vector<std::shared_ptr<HttpSession>> open;
  std::vector<std::shared_ptr<WsSession>> subscribers;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    for (const auto& [raw, weak] : sessions_) {
      if (auto session = weak.lock()) open.push_back(std::move(session));
    }
    for (const auto& [raw, weak] : ws_sessions_) {
      if (auto session = weak.lock()) subscribers.push_back(std::move(session));
    }
  }
  for (const auto& session : open) session->Close();
  for (const auto& session : subscribers) session->Close();
  // Released outside mu_: dropping the last reference runs ~HttpSession, which takes mu_.
  open.clear();
  subscribers.clear();

  std::unique_lock lock(mu_);
  const size_t own = tls_dispatching_hub == this ? 1 : 0;
  idle_.wait(lock, [&] { return dispatching_ <= own; });
}

// ---- HttpSession ----

HttpSession::HttpSession(tcp::socket socket, std::shared_ptr<SessionHub> hub, Mode mode)
    : stream_(std::move(socket)),
      strand_(stream_.get_executor()),
      hub_(std::move(hub)),
      mode_(mode) {}

HttpSession::~HttpSession() { hub_->Remove(this, mode_ == Mode::kServe); }

void HttpSession::Start() {
  net::post(strand_, [self = shared_from_this()] {
    if (self->closed_) return;
    if (self->mode_ == Mode::kServe) {
      self->ReadHeader();
      return;
    }
    self->Prepare(503, ErrorResponseBody(
                           RpcError{kServerBusy, "server busy: too many connections", nullptr}))
        .set(http::field::retry_after, "1");
    self->Send(false);
  });
}

void HttpSession::Close() {
  net::post(strand_, [self = shared_from_this()] { self->CloseNow(); });
}

void HttpSession::ReadHeader() {
  if (closed_) return;
  const RpcLimits& limits = hub_->limits();
  request_.emplace();
  request_->header_limit(static_cast<uint32_t>(
      std::min<size_t>(limits.max_header_bytes, std::numeric_limits<uint32_t>::max())));
  request_->body_limit(limits.max_body_bytes);
  stream_.expires_after(limits.idle_timeout);
  http::async_read_header(stream_, buffer_, *request_,
                          beast::bind_front_handler(&HttpSession::OnHeader, shared_from_this()));
}

void HttpSession::OnHeader(error_code ec, size_t /*bytes*/) {
  if (ec) return OnReadError(ec);
  const auto& request = request_->get();
  version_ = request.version();
  // A response that leaves part of the request unread must end the connection: the rest of
  // the body would be taken for the next request.
  const bool reusable = request_->is_done() && request.keep_alive();

  std::string_view target = Std(request.target());
  target = target.substr(0, target.find('?'));
  if (target == "/health") {
    if (request.method() != http::verb::get) {
      Prepare(405, ShortError("method not allowed")).set(http::field::allow, "GET");
      return Send(reusable);
    }
    Prepare(200, std::string(kHealthy));
    return Send(reusable);
  }
  if (target == "/ws" && hub_->streams_events()) {
    if (!boost::beast::websocket::is_upgrade(request)) {
      Prepare(426, ShortError("upgrade required: /ws is a WebSocket endpoint"))
          .set(http::field::upgrade, "websocket");
      return Send(false);
    }
    if (!hub_->SubscriberRoom()) {
      Prepare(503, ErrorResponseBody(
                       RpcError{kServerBusy,
                                fmt::format("server busy: {} subscribers already (max_subscribers)",
                                            hub_->limits().max_subscribers),
                                nullptr}))
          .set(http::field::retry_after, "1");
      return Send(false);
    }
    // The subscriber takes the socket over (or, refused by a race for the last place, closes
    // it); this session ends here without a response.
    closed_ = true;
    hub_->AdmitWebSocket(stream_.release_socket(), request_->release());
    return;
  }
  if (target != "/") {
    Prepare(404, ShortError("not found"));
    return Send(reusable);
  }
  if (request.method() != http::verb::post) {
    Prepare(405, ShortError("method not allowed")).set(http::field::allow, "POST");
    return Send(reusable);
  }
  // A missing Content-Type is tolerated (simple clients omit it); a non-JSON one is a mistake.
  auto content_type = request.find(http::field::content_type);
  if (content_type != request.end() && !IsJsonMediaType(Std(content_type->value()))) {
    Prepare(415, ShortError("unsupported media type: send application/json"));
    return Send(reusable);
  }
  // curl and others wait for "100 Continue" before sending a large body.
  auto expect = request.find(http::field::expect);
  if (expect != request.end() && IsContinueExpected(Std(expect->value())) && !request_->is_done()) {
    stream_.expires_after(hub_->limits().idle_timeout);
    net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                     beast::bind_front_handler(&HttpSession::OnContinueSent, shared_from_this()));
    return;
  }
  ReadBody();
}

void HttpSession::OnContinueSent(error_code ec, size_t /*bytes*/) {
  if (ec) return CloseNow();
  ReadBody();
}

void HttpSession::ReadBody() {
  if (closed_) return;
  if (request_->is_done()) return Serve();
  stream_.expires_after(hub_->limits().idle_timeout);
  http::async_read(stream_, buffer_, *request_,
                   beast::bind_front_handler(&HttpSession::OnBody, shared_from_this()));
}

void HttpSession::OnBody(error_code ec, size_t /*bytes*/) {
  if (ec) return OnReadError(ec);
  Serve();
}

void HttpSession::OnReadError(error_code ec) {
  if (ec == http::error::body_limit) {
    Prepare(413, ErrorResponseBody(RpcError{
                     kBodyTooLarge,
                     fmt::format("request body exceeds {} bytes", hub_->limits().max_body_bytes),
                     nullptr}));
    return Send(false);
  }
  if (ec == http::error::header_limit) {
    Prepare(431, ShortError("request header too large"));
    return Send(false);
  }
  if (IsHttpProtocolError(ec)) {
    Prepare(400, ShortError("bad request"));
    return Send(false);
  }
  // End of stream, timeout, reset, or our own Close: nobody to answer.
  CloseNow();
}

void HttpSession::Serve() {
  const bool keep_alive = request_->get().keep_alive();
  std::optional<std::string> answer = hub_->Dispatch(request_->get().body());
  request_.reset();                // a body may be up to max_body_bytes; do not hold it while idle
  if (!answer) return CloseNow();  // stopping
  if (answer->empty()) {
    Prepare(204, std::string());  // only notifications: JSON-RPC owes no body
  } else {
    Prepare(200, std::move(*answer));
  }
  Send(keep_alive);
}

HttpSession::Response& HttpSession::Prepare(unsigned status, std::string body) {
  response_ = Response(static_cast<http::status>(status), version_);
  response_.set(http::field::server, "puhui");
  if (!body.empty()) response_.set(http::field::content_type, "application/json");
  response_.body() = std::move(body);
  return response_;
}

void HttpSession::Send(bool keep_alive) {
  if (closed_) return;
  keep_alive = keep_alive && !hub_->stopping();
  response_.keep_alive(keep_alive);
  // A 204 carries no body and must not carry a Content-Length either.
  if (response_.result() != http::status::no_content) response_.prepare_payload();
  stream_.expires_after(hub_->limits().idle_timeout);
  http::async_write(
      stream_, response_,
      beast::bind_front_handler(&HttpSession::OnWrite, shared_from_this(), keep_alive));
}

void HttpSession::OnWrite(bool keep_alive, error_code ec, size_t /*bytes*/) {
  // Beast reports end_of_stream after writing a response that closes the connection.
  if (ec && ec != http::error::end_of_stream) return CloseNow();
  if (!keep_alive) return LingerClose();
  ReadHeader();
}

void HttpSession::LingerClose() {
  if (closed_) return;
  error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream_.expires_after(std::min(hub_->limits().idle_timeout, kLingerTime));
  buffer_.clear();
  Drain();
}

void HttpSession::Drain() {
  if (closed_) return;
  stream_.async_read_some(buffer_.prepare(kDrainChunk),
                          beast::bind_front_handler(&HttpSession::OnDrain, shared_from_this()));
}

void HttpSession::OnDrain(error_code ec, size_t bytes) {
  drained_ += bytes;
  if (ec || drained_ > kMaxLingerBytes) return CloseNow();
  Drain();
}

void HttpSession::CloseNow() {
  if (closed_) return;
  closed_ = true;
  stream_.close();
}

}  // namespace puhui::rpc::internal
