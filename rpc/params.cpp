#include "rpc/params.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace puhui::rpc {
namespace {

using nlohmann::json;

[[noreturn]] void Fail(Param param, std::string message) {
  throw RpcException(InvalidParams(param.name, std::move(message)));
}

const json& Require(const json& params, Param param) {
  const json* value = FindParam(params, param);
  if (value == nullptr) Fail(param, fmt::format("param '{}' is required", param.name));
  return *value;
}

std::string AsString(const json& value, Param param) {
  if (!value.is_string()) Fail(param, fmt::format("param '{}' must be a string", param.name));
  return value.get<std::string>();
}

Bytes AsHexBytes(const json& value, Param param, std::optional<size_t> exact_size) {
  if (!value.is_string()) Fail(param, fmt::format("param '{}' must be a hex string", param.name));
  std::string_view hex = value.get_ref<const std::string&>();
  if (hex.starts_with("0x") || hex.starts_with("0X")) hex.remove_prefix(2);
  std::optional<Bytes> bytes = FromHex(hex);
  if (!bytes) {
    Fail(param,
         fmt::format("param '{}' must be a hex string (an even number of hex digits)", param.name));
  }
  if (exact_size && bytes->size() != *exact_size) {
    Fail(param, fmt::format("param '{}' must be {} bytes of hex ({} digits), got {} bytes",
                            param.name, *exact_size, *exact_size * 2, bytes->size()));
  }
  return std::move(*bytes);
}

uint64_t AsUint64(const json& value, Param param) {
  if (value.is_number_unsigned()) return value.get<uint64_t>();
  // Values built in C++ rather than parsed may be signed even when not negative.
  if (value.is_number_integer() && value.get<int64_t>() >= 0) {
    return static_cast<uint64_t>(value.get<int64_t>());
  }
  if (value.is_string()) {
    const std::string& text = value.get_ref<const std::string&>();
    // from_chars alone would accept a prefix ("12abc"); require digits and nothing else.
    bool all_digits = !text.empty() && std::all_of(text.begin(), text.end(),
                                                   [](char c) { return c >= '0' && c <= '9'; });
    if (all_digits) {
      uint64_t out = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
      if (ec == std::errc() && end == text.data() + text.size()) return out;
      Fail(param,
           fmt::format("param '{}' is out of range for an unsigned 64-bit integer", param.name));
    }
  }
  Fail(param, fmt::format("param '{}' must be an unsigned integer", param.name));
}

bool AsBool(const json& value, Param param) {
  if (!value.is_boolean()) Fail(param, fmt::format("param '{}' must be a boolean", param.name));
  return value.get<bool>();
}

}  // namespace

const json* FindParam(const json& params, Param param) {
  const json* value = nullptr;
  if (params.is_object()) {
    auto it = params.find(param.name);
    if (it != params.end()) value = &*it;
  } else if (params.is_array() && param.position < params.size()) {
    value = &params[param.position];
  }
  return value != nullptr && !value->is_null() ? value : nullptr;
}

RpcError InvalidParams(std::string_view param, std::string message) {
  return RpcError{kInvalidParams, std::move(message), json{{"param", param}}};
}

std::string GetString(const json& params, Param param) {
  return AsString(Require(params, param), param);
}

std::optional<std::string> GetOptionalString(const json& params, Param param) {
  const json* value = FindParam(params, param);
  if (value == nullptr) return std::nullopt;
  return AsString(*value, param);
}

Bytes GetHexBytes(const json& params, Param param, std::optional<size_t> exact_size) {
  return AsHexBytes(Require(params, param), param, exact_size);
}

std::optional<Bytes> GetOptionalHexBytes(const json& params, Param param,
                                         std::optional<size_t> exact_size) {
  const json* value = FindParam(params, param);
  if (value == nullptr) return std::nullopt;
  return AsHexBytes(*value, param, exact_size);
}

Hash32 GetHash32(const json& params, Param param) {
  return *ToHash32(GetHexBytes(params, param, sizeof(Hash32)));
}

std::optional<Hash32> GetOptionalHash32(const json& params, Param param) {
  std::optional<Bytes> bytes = GetOptionalHexBytes(params, param, sizeof(Hash32));
  if (!bytes) return std::nullopt;
  return *ToHash32(*bytes);
}

uint64_t GetUint64(const json& params, Param param) {
  return AsUint64(Require(params, param), param);
}

std::optional<uint64_t> GetOptionalUint64(const json& params, Param param) {
  const json* value = FindParam(params, param);
  if (value == nullptr) return std::nullopt;
  return AsUint64(*value, param);
}

bool GetBool(const json& params, Param param) { return AsBool(Require(params, param), param); }

std::optional<bool> GetOptionalBool(const json& params, Param param) {
  const json* value = FindParam(params, param);
  if (value == nullptr) return std::nullopt;
  return AsBool(*value, param);
}

void ExpectOnly(const json& params, std::initializer_list<std::string_view> names) {
  if (params.is_array() && params.size() > names.size()) {
    throw RpcException(RpcError{
        kInvalidParams,
        fmt::format("expected at most {} params, got {}", names.size(), params.size()), nullptr});
  }
  if (!params.is_object()) return;
  for (const auto& [key, value] : params.items()) {
    if (std::find(names.begin(), names.end(), key) == names.end()) {
      throw RpcException(InvalidParams(key, fmt::format("unknown param '{}'", key)));
    }
  }
}

}  // namespace puhui::rpc
