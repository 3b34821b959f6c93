#include "rpc/errors.h"

namespace puhui::rpc {

int RpcCodeForStatus(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return kStatusOk;
    case StatusCode::kInvalidArgument: return kStatusInvalidArgument;
    case StatusCode::kNotFound: return kStatusNotFound;
    case StatusCode::kAlreadyExists: return kStatusAlreadyExists;
    case StatusCode::kPermissionDenied: return kStatusPermissionDenied;
    case StatusCode::kFailedPrecondition: return kStatusFailedPrecondition;
    case StatusCode::kResourceExhausted: return kStatusResourceExhausted;
    case StatusCode::kUnauthenticated: return kStatusUnauthenticated;
    case StatusCode::kCorruption: return kStatusCorruption;
    case StatusCode::kIoError: return kStatusIoError;
    case StatusCode::kInternal: return kStatusInternal;
  }
  // An out-of-range enum value is our bug; report it as internal rather than invent a code.
  return kStatusInternal;
}

RpcError StatusToRpcError(const Status& status) {
  return RpcError{RpcCodeForStatus(status.code()), status.message(),
                  nlohmann::json{{"status", StatusCodeName(status.code())}}};
}

nlohmann::json ToJson(const RpcError& error) {
  nlohmann::json out{{"code", error.code}, {"message", error.message}};
  if (!error.data.is_null()) out["data"] = error.data;
  return out;
}

std::string ErrorResponseBody(const RpcError& error) {
  nlohmann::json response{{"jsonrpc", "2.0"}, {"error", ToJson(error)}, {"id", nullptr}};
  // `replace`: a message built from client bytes must not make serialisation throw.
  return response.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace puhui::rpc
