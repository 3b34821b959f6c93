#include "rpc/dispatcher.h"

#include <fmt/format.h>

#include <mutex>
#include <optional>
#include <utility>

namespace puhui::rpc {
namespace {

using nlohmann::json;

// Names echoed back in error messages are cut to this length: they come from the client.
constexpr size_t kMaxEchoedNameChars = 64;

// True if no '[' or '{' outside string literals nests deeper than max_depth. Run before parsing
// because nlohmann's DOM handling recurses once per level, so a body of a million '[' would
// otherwise exhaust the stack. Malformed input is left for the parser to reject.
bool NestingWithin(std::string_view body, size_t max_depth) {
  size_t depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : body) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"': in_string = true; break;
      case '[':
      case '{':
        if (++depth > max_depth) return false;
        break;
      case ']':
      case '}':
        if (depth > 0) --depth;
        break;
      default: break;
    }
  }
  return true;
}

std::string Dump(const json& j) {
  // `replace`: a handler's result may hold bytes that are not UTF-8; answer rather than throw.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

json ErrorResponse(const json& id, const RpcError& error) {
  return json{{"jsonrpc", "2.0"}, {"error", ToJson(error)}, {"id", id}};
}

RpcError InvalidRequest(std::string message) {
  return RpcError{kInvalidRequest, std::move(message), nullptr};
}

// nlohmann's what() starts with "[json.exception.type_error.302] "; clients need only the rest.
std::string WithoutJsonExceptionPrefix(const char* what) {
  std::string_view text(what);
  if (!text.empty() && text.front() == '[') {
    size_t end = text.find("] ");
    if (end != std::string_view::npos) text.remove_prefix(end + 2);
  }
  return std::string(text);
}

std::string Truncated(const std::string& s) {
  if (s.size() <= kMaxEchoedNameChars) return s;
  return s.substr(0, kMaxEchoedNameChars) + "...";
}

}  // namespace

Dispatcher::Dispatcher() {
  // `this` is stable: a Dispatcher is neither copyable nor movable.
  Register(
      std::string(kMethodsMethod),
      [this](const json&) -> RpcResult {
        json list = json::array();
        for (const auto& [name, description] : Methods()) {
          list.push_back(json{{"name", name}, {"description", description}});
        }
        return list;
      },
      "Lists the methods this node answers, with a one-line description of each.");
}

void Dispatcher::Register(std::string name, RpcHandler handler, std::string description) {
  PUHUI_CHECK(!name.empty(), "an RPC method needs a name");
  PUHUI_CHECK(handler != nullptr, "RPC method " + name + " has no handler");
  std::unique_lock lock(mu_);
  auto method = std::make_shared<const Method>(Method{std::move(handler), std::move(description)});
  bool inserted = methods_.emplace(name, std::move(method)).second;
  PUHUI_CHECK(inserted, "RPC method " + name + " registered twice");
}

std::map<std::string, std::string> Dispatcher::Methods() const {
  std::shared_lock lock(mu_);
  std::map<std::string, std::string> out;
  for (const auto& [name, method] : methods_) out.emplace(name, method->description);
  return out;
}

std::shared_ptr<const Dispatcher::Method> Dispatcher::Find(const std::string& name) const {
  std::shared_lock lock(mu_);
  auto it = methods_.find(name);
  return it == methods_.end() ? nullptr : it->second;
}

std::optional<json> Dispatcher::HandleOne(const json& request) const {
  // Until the request is known to be well formed it is not a notification, so every malformed
  // request is answered, with a null id when its own id is missing or unusable.
  if (!request.is_object())
    return ErrorResponse(nullptr, InvalidRequest("request must be an object"));

  auto id_it = request.find("id");
  const bool is_notification = id_it == request.end();
  json id = nullptr;
  if (!is_notification) {
    if (!id_it->is_string() && !id_it->is_number() && !id_it->is_null()) {
      return ErrorResponse(nullptr, InvalidRequest("\"id\" must be a string, a number or null"));
    }
    id = *id_it;
  }

  auto version = request.find("jsonrpc");
  if (version == request.end() || !version->is_string() ||
      version->get_ref<const std::string&>() != "2.0") {
    return ErrorResponse(id, InvalidRequest("\"jsonrpc\" must be exactly \"2.0\""));
  }
  auto method_it = request.find("method");
  if (method_it == request.end() || !method_it->is_string()) {
    return ErrorResponse(id, InvalidRequest("\"method\" must be a string"));
  }
  static const json kNoParams = nullptr;
  auto params_it = request.find("params");
  if (params_it != request.end() && !params_it->is_object() && !params_it->is_array()) {
    return ErrorResponse(id, InvalidRequest("\"params\" must be an object or an array"));
  }
  const json& params = params_it == request.end() ? kNoParams : *params_it;

  RpcResult result = Call(method_it->get_ref<const std::string&>(), params);
  // A valid notification is never answered, not even with an error (JSON-RPC 2.0 §4.1).
  if (is_notification) return std::nullopt;
  if (auto* error = std::get_if<RpcError>(&result)) return ErrorResponse(id, *error);
  return json{{"jsonrpc", "2.0"}, {"result", std::move(std::get<json>(result))}, {"id", id}};
}

RpcResult Dispatcher::Call(const std::string& name, const json& params) const {
  auto method = Find(name);
  if (!method) {
    return RpcError{kMethodNotFound, fmt::format("method '{}' not found", Truncated(name)),
                    nullptr};
  }
  // A handler's failure is the client's answer, never the server's crash.
  try {
    return method->handler(params);
  } catch (const RpcException& e) {
    return e.error();
  } catch (const json::exception& e) {
    // Handlers read params through nlohmann, so its errors are almost always a wrong param type.
    return RpcError{kInvalidParams, "invalid params: " + WithoutJsonExceptionPrefix(e.what()),
                    nullptr};
  } catch (const std::exception& e) {
    return RpcError{kInternalError, "internal error", json{{"detail", e.what()}}};
  } catch (...) {
    return RpcError{kInternalError, "internal error", nullptr};
  }
}

std::string Dispatcher::Handle(std::string_view body, const DispatchLimits& limits) const {
  try {
    if (!NestingWithin(body, limits.max_depth)) {
      return ErrorResponseBody(
          InvalidRequest(fmt::format("request nests deeper than {} levels", limits.max_depth)));
    }
    json request = json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (request.is_discarded()) {
      return ErrorResponseBody(
          RpcError{kParseError, "parse error: body is not valid JSON", nullptr});
    }
    if (!request.is_array()) {
      auto response = HandleOne(request);
      return response ? Dump(*response) : std::string();
    }
    if (request.empty()) return ErrorResponseBody(InvalidRequest("empty batch"));
    if (request.size() > limits.max_batch) {
      return ErrorResponseBody(RpcError{kBatchTooLarge,
                                        fmt::format("batch of {} requests exceeds the limit of {}",
                                                    request.size(), limits.max_batch),
                                        nullptr});
    }
    json responses = json::array();
    for (const json& entry : request) {
      if (auto response = HandleOne(entry)) responses.push_back(std::move(*response));
    }
    return responses.empty() ? std::string() : Dump(responses);
  } catch (...) {
    // Only allocation failure or a bug gets here; the caller is promised an answer regardless.
    return ErrorResponseBody(RpcError{kInternalError, "internal error", nullptr});
  }
}

}  // namespace puhui::rpc
