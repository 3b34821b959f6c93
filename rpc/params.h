// Typed access to a handler's params, so every method rejects bad input with the same clear
// -32602 message ("param 'height' must be an unsigned integer") instead of its own wording.
//
// Each getter throws RpcException{kInvalidParams, message, {"param": name}}, which the
// Dispatcher turns into the client's error; a handler therefore reads its params in a few lines
// and never sees an ill-typed value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "chain/bytes.h"
#include "rpc/errors.h"

namespace puhui::rpc {

// One parameter as a client may pass it: by name when params is an object, or by position when
// params is an array. A JSON null counts as absent, so positional callers can skip an optional.
struct Param {
  std::string_view name;
  size_t position = 0;
};

// An invalid-params error for `param`, for handlers with checks of their own.
RpcError InvalidParams(std::string_view param, std::string message);

// The value of `param` as passed, or nullptr when absent or null: for handlers that check a
// value's shape themselves (an array of entries each judged on its own).
const nlohmann::json* FindParam(const nlohmann::json& params, Param param);

std::string GetString(const nlohmann::json& params, Param param);
std::optional<std::string> GetOptionalString(const nlohmann::json& params, Param param);

// Hex digits, upper or lower case, with or without a "0x" prefix. With `exact_size`, the decoded
// value must be that many bytes.
Bytes GetHexBytes(const nlohmann::json& params, Param param,
                  std::optional<size_t> exact_size = std::nullopt);
std::optional<Bytes> GetOptionalHexBytes(const nlohmann::json& params, Param param,
                                         std::optional<size_t> exact_size = std::nullopt);
Hash32 GetHash32(const nlohmann::json& params, Param param);
std::optional<Hash32> GetOptionalHash32(const nlohmann::json& params, Param param);

// A JSON unsigned integer, or a decimal string for clients whose JSON numbers are doubles and
// lose precision above 2^53 (JavaScript).
uint64_t GetUint64(const nlohmann::json& params, Param param);
std::optional<uint64_t> GetOptionalUint64(const nlohmann::json& params, Param param);

bool GetBool(const nlohmann::json& params, Param param);
std::optional<bool> GetOptionalBool(const nlohmann::json& params, Param param);

// Rejects what the method does not take: names not in `names` when params is an object, or more
// than names.size() entries when it is an array. A typo in an optional name is then an error
// rather than a silently ignored default.
void ExpectOnly(const nlohmann::json& params, std::initializer_list<std::string_view> names);

}  // namespace puhui::rpc
