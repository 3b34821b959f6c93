// A small synchronous JSON-RPC 2.0 client over HTTP (Boost.Beast), for puhui-cli, tests and tools.
// Each call opens a connection, sends one request and waits at most `timeout` for the answer.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "chain/status.h"

namespace puhui {

struct RpcCallError {
  int code = 0;
  std::string message;
  nlohmann::json data;
};

class RpcClient {
 public:
  // url: http://host:port
  static Result<RpcClient> FromUrl(const std::string& url);

  // The "result" of a call; a JSON-RPC error comes back as a Status whose message carries the code
  // and message, with the error object in last_error().
  Result<nlohmann::json> Call(const std::string& method,
                              const nlohmann::json& params = nlohmann::json::object());
  // Posts a raw body and returns the raw HTTP status and body (for tests of the transport).
  Result<std::pair<int, std::string>> Post(const std::string& body,
                                           const std::string& target = "/");

  const RpcCallError& last_error() const { return last_error_; }
  void set_timeout(std::chrono::milliseconds t) { timeout_ = t; }
  const std::string& host() const { return host_; }
  const std::string& port() const { return port_; }

 private:
  std::string host_;
  std::string port_;
  std::chrono::milliseconds timeout_{10'000};
  RpcCallError last_error_;
  uint64_t next_id_ = 1;
};

}  // namespace puhui
