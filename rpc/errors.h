// JSON-RPC error codes of the node's API. Clients switch on these numbers, so every value here is
// part of the wire contract: add new codes, never renumber or reuse one.
#pragma once

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <utility>

#include "chain/status.h"

namespace puhui::rpc {

// Protocol errors defined by the JSON-RPC 2.0 specification.
inline constexpr int kParseError = -32700;      // the body is not valid JSON
inline constexpr int kInvalidRequest = -32600;  // valid JSON, but not a JSON-RPC request
inline constexpr int kMethodNotFound = -32601;  // no method of that name is registered
inline constexpr int kInvalidParams = -32602;   // a parameter is missing or has the wrong type
inline constexpr int kInternalError = -32603;   // the handler failed unexpectedly

// Transport limits of this server (the -32000..-32099 range is reserved for servers).
inline constexpr int kBodyTooLarge = -32001;   // the HTTP body exceeds RpcLimits::max_body_bytes
inline constexpr int kBatchTooLarge = -32002;  // a batch has more entries than the limit
inline constexpr int kServerBusy = -32003;     // too many connections, or otherwise overloaded

// Application errors: one per puhui::StatusCode, so a handler's Status reaches the client
// unchanged in meaning. Listed explicitly (not computed from the enum) so that reordering the
// enum can never change a number on the wire.
inline constexpr int kStatusOk = 1000;  // never sent as an error; reserved so the table is total
inline constexpr int kStatusInvalidArgument = 1001;
inline constexpr int kStatusNotFound = 1002;
inline constexpr int kStatusAlreadyExists = 1003;
inline constexpr int kStatusPermissionDenied = 1004;
inline constexpr int kStatusFailedPrecondition = 1005;
inline constexpr int kStatusResourceExhausted = 1006;
inline constexpr int kStatusUnauthenticated = 1007;
inline constexpr int kStatusCorruption = 1008;
inline constexpr int kStatusIoError = 1009;
inline constexpr int kStatusInternal = 1010;
// Codes 1011..1099 are free for future StatusCodes.

// Application errors that are not a StatusCode (1100..).
// settlement_submit_wait: the transaction was admitted (or was waiting already) but not committed
// within the timeout. data: {"tx_hash"}; poll tx_get or settlement_get, or wait again.
inline constexpr int kCommitWaitTimeout = 1100;

// The application code for a StatusCode (table above).
int RpcCodeForStatus(StatusCode code);

// The "error" member of a JSON-RPC response. A null `data` is omitted on the wire.
struct RpcError {
  int code = kInternalError;
  std::string message;
  nlohmann::json data;
};

// A failed Status as an RpcError: its code from the table, its message, and
// data {"status": "<StatusCodeName>"} so clients can also match on the name.
RpcError StatusToRpcError(const Status& status);

// The JSON object for the "error" member.
nlohmann::json ToJson(const RpcError& error);

// A complete JSON-RPC error response with a null id, for errors found before any request could
// be read (parse errors, transport limits).
std::string ErrorResponseBody(const RpcError& error);

// Lets a handler (or the params helpers) abandon a call with a specific error from any depth;
// the dispatcher catches it and answers with `error` unchanged.
class RpcException : public std::runtime_error {
 public:
  explicit RpcException(RpcError error)
      : std::runtime_error(error.message), error_(std::move(error)) {}
  const RpcError& error() const { return error_; }

 private:
  RpcError error_;
};

}  // namespace puhui::rpc
