// JSON-RPC 2.0 dispatch: turns a request body into a response body using a table of methods.
// Transport-agnostic, so the same rules hold over HTTP and in tests without a socket.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "rpc/errors.h"

namespace puhui::rpc {

// What a handler answers: the "result" value, or an error for the client.
using RpcResult = std::variant<nlohmann::json, RpcError>;
// `params` is the request's "params" (an object or an array), or null when absent.
// A handler may also throw: RpcException → its error, nlohmann::json::exception → -32602,
// anything else → -32603. Handlers run concurrently on the server's threads.
using RpcHandler = std::function<RpcResult(const nlohmann::json& params)>;

// Limits applied per body, before any handler runs.
struct DispatchLimits {
  static constexpr size_t kDefaultMaxBatch = 100;
  // nlohmann's DOM code recurses per nesting level; bounding depth bounds stack use.
  static constexpr size_t kDefaultMaxDepth = 64;

  size_t max_batch = kDefaultMaxBatch;
  size_t max_depth = kDefaultMaxDepth;
};

class Dispatcher {
 public:
  // The built-in method listing every registered method with its description.
  static constexpr std::string_view kMethodsMethod = "rpc_methods";

  Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // Adds a method. Names are unique; registering a taken name (including "rpc_methods") is a
  // programming error and aborts. Safe to call while requests are being handled.
  void Register(std::string name, RpcHandler handler, std::string description);

  // Answers a request body: a response object, an array for a batch, or "" when nothing is
  // owed (a notification, or a batch of only notifications). Never throws.
  std::string Handle(std::string_view body) const { return Handle(body, DispatchLimits{}); }
  std::string Handle(std::string_view body, const DispatchLimits& limits) const;

  // Registered methods (name → description), including the built-in one, sorted by name.
  std::map<std::string, std::string> Methods() const;

 private:
  struct Method {
    RpcHandler handler;
    std::string description;
  };

  // The response to one entry of a body, or nullopt for a notification.
  std::optional<nlohmann::json> HandleOne(const nlohmann::json& request) const;
  RpcResult Call(const std::string& name, const nlohmann::json& params) const;
  std::shared_ptr<const Method> Find(const std::string& name) const;

  mutable std::shared_mutex mu_;
  std::map<std::string, std::shared_ptr<const Method>, std::less<>> methods_;
};

}  // namespace puhui::rpc
