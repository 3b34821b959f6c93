#include "node/rpc_client.h"

#include <fmt/format.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace puhui {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

Result<RpcClient> RpcClient::FromUrl(const std::string& url) {
  std::string rest = url;
  if (rest.rfind("http://", 0) == 0) rest = rest.substr(7);
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  auto colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == rest.size()) {
    return InvalidArgument(fmt::format("node URL '{}' must look like http://127.0.0.1:26657", url));
  }
  RpcClient c;
  c.host_ = rest.substr(0, colon);
  c.port_ = rest.substr(colon + 1);
  return c;
}

Result<std::pair<int, std::string>> RpcClient::Post(const std::string& body,
                                                    const std::string& target) {
  try {
    boost::asio::io_context io;
    tcp::resolver resolver(io);
    beast::tcp_stream stream(io);
    stream.expires_after(timeout_);
    stream.connect(resolver.resolve(host_, port_));
    http::request<http::string_body> req{http::verb::post, target, 11};
    req.set(http::field::host, host_);
    req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
    stream.expires_after(timeout_);
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(256u << 20);
    stream.expires_after(timeout_);
    http::read(stream, buffer, parser);
    beast::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    return std::make_pair(static_cast<int>(parser.get().result_int()), parser.get().body());
  } catch (const std::exception& e) {
    return IoError(fmt::format("cannot reach node at {}:{}: {}", host_, port_, e.what()));
  }
}

Result<nlohmann::json> RpcClient::Call(const std::string& method, const nlohmann::json& params) {
  nlohmann::json req = {
      {"jsonrpc", "2.0"}, {"id", next_id_++}, {"method", method}, {"params", params}};
  auto resp = Post(req.dump());
  if (!resp.ok()) return resp.status();
  auto j = nlohmann::json::parse(resp->second, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return Internal(
        fmt::format("node answered HTTP {} with a body that is not JSON-RPC", resp->first));
  }
  if (auto err = j.find("error"); err != j.end() && err->is_object()) {
    last_error_.code = err->value("code", 0);
    last_error_.message = err->value("message", "");
    last_error_.data = err->value("data", nlohmann::json());
    return FailedPrecondition(fmt::format("{} (code {})", last_error_.message, last_error_.code));
  }
  if (!j.contains("result")) return Internal("JSON-RPC response has neither result nor error");
  return j["result"];
}

}  // namespace puhui
