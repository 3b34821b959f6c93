// A WebSocket client of the node's event stream (GET /ws, docs/exchange.md "Event stream"), for
// puhui-cli and the tests: connects, subscribes, and returns the node's messages one at a time.
// Every call is bounded by a timeout; after a timeout or an error the client is closed, and a new
// one resumes from the last cursor seen.
#pragma once

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "chain/status.h"

namespace puhui {

class WsClient {
 public:
  ~WsClient();
  // Connects to http://host:port's /ws and sends "subscribe" with `params`; fails if the node
  // refuses (its JSON-RPC error in the message).
  static Result<std::unique_ptr<WsClient>> Subscribe(const std::string& host,
                                                     const std::string& port,
                                                     const nlohmann::json& params,
                                                     std::chrono::milliseconds timeout);
  // The subscribe call's result: {"subscribed", "cursor", "height"}.
  const nlohmann::json& ack() const { return ack_; }
  // The next notification ({"method": "events" | "caught_up", "params": …}).
  Result<nlohmann::json> Next(std::chrono::milliseconds timeout);
  // The close reason the node sent, if it closed the stream.
  const std::string& close_reason() const { return close_reason_; }
  void Close();

 private:
  WsClient();
  struct Impl;
  std::unique_ptr<Impl> impl_;
  nlohmann::json ack_;
  std::string close_reason_;
};

}  // namespace puhui
