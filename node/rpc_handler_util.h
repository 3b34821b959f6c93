// What the node's JSON-RPC handlers share: turning a Status into the method's error, and reading
// the parameters every family of methods takes (addresses, record ids).
#pragma once

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <string>

#include "chain/genesis.h"
#include "chain/keys.h"
#include "chain/status.h"
#include "rpc/errors.h"
#include "rpc/params.h"

namespace puhui::rpc_handler {

// Ends the handler with `s` as the JSON-RPC error (rpc/errors.h maps the code).
[[noreturn]] inline void Throw(const Status& s) {
  throw rpc::RpcException(rpc::StatusToRpcError(s));
}

template <typename T>
T OrThrow(Result<T> r) {
  if (!r.ok()) Throw(r.status());
  return std::move(r).value();
}

// An address param: 32 bytes of hex that are a valid x-only public key.
inline PublicKey GetAddress(const nlohmann::json& params, rpc::Param p) {
  auto key = ParsePublicKey(rpc::GetHash32(params, p));
  if (!key.ok()) {
    throw rpc::RpcException(rpc::InvalidParams(
        p.name, fmt::format("param '{}' is not a valid x-only public key (an address)", p.name)));
  }
  return *key;
}

// A record id or batch serial param (IsValidId).
inline std::string GetId(const nlohmann::json& params, rpc::Param p) {
  std::string id = rpc::GetString(params, p);
  if (!IsValidId(id)) {
    throw rpc::RpcException(rpc::InvalidParams(
        p.name, fmt::format("param '{}' must be 1..128 characters of [A-Za-z0-9._:-]", p.name)));
  }
  return id;
}

}  // namespace puhui::rpc_handler
