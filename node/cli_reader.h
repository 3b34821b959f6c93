// The flag reader puhui-cli's transaction commands share (cli_registry.cpp, cli_personal.cpp).
#pragma once

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <map>
#include <string>

#include "chain/hash.h"
#include "chain/keys.h"
#include "rpc/encode.h"

namespace puhui::cli {

// Reads the flags an action needs, collecting the first problem.
class Reader {
 public:
  using Flags = std::map<std::string, std::string>;
  explicit Reader(const Flags& flags) : flags_(flags) {}

  std::string Text(const std::string& name, bool required = true) {
    auto it = flags_.find(name);
    if (it == flags_.end()) {
      if (required) Fail(fmt::format("--{} is required", name));
      return "";
    }
    return it->second;
  }
  uint64_t U64(const std::string& name, bool required = true) {
    std::string s = Text(name, required);
    if (s.empty()) return 0;
    char* end = nullptr;
    errno = 0;
    uint64_t v = std::strtoull(s.c_str(), &end, 10);
    if (*end != '\0' || errno != 0 || s[0] == '-')
      Fail(fmt::format("--{} must be an integer", name));
    return v;
  }
  uint32_t U32(const std::string& name, bool required = true) {
    uint64_t v = U64(name, required);
    if (v > UINT32_MAX) Fail(fmt::format("--{} is too large", name));
    return static_cast<uint32_t>(v);
  }
  std::string Address(const std::string& name) {
    std::string hex = Text(name);
    auto h = Hash32FromHex(hex);
    if (!hex.empty() && (!h || !ParsePublicKey(*h).ok())) {
      Fail(fmt::format("--{} must be a 64-hex-character address", name));
      return "";
    }
    return h ? ToString(*h) : "";
  }
  // A 32-byte address that need not be a key (a custodial personal account).
  std::string Address32(const std::string& name) {
    auto h = Hash32FromHex(Text(name));
    if (!h) Fail(fmt::format("--{} must be 64 hex digits", name));
    return h ? ToString(ByteView(*h)) : "";
  }
  // --NAME-hash HEX, or --NAME TEXT hashed with SHA-256.
  std::string Hash(const std::string& name) {
    if (flags_.count(name + "-hash")) {
      auto h = Hash32FromHex(Text(name + "-hash"));
      if (!h) Fail(fmt::format("--{}-hash must be 64 hex digits", name));
      return h ? ToString(*h) : "";
    }
    std::string text = Text(name);
    return ToString(Sha256(text));
  }
  bool Decision() {
    std::string d = Text("decision");
    if (d != "approve" && d != "reject" && !d.empty()) Fail("--decision must be approve or reject");
    return d == "approve";
  }
  int Enum(const std::string& name, const google::protobuf::EnumDescriptor* e,
           bool required = true) {
    std::string v = Text(name, required);
    if (v.empty()) return 0;
    auto n = rpc::EnumValueFromName(e, v);
    if (!n) Fail(fmt::format("--{}: unknown value '{}'", name, v));
    return n.value_or(0);
  }
  void Fail(std::string e) {
    if (error_.empty()) error_ = std::move(e);
  }
  const std::string& error() const { return error_; }

 private:
  const Flags& flags_;
  std::string error_;
};

}  // namespace puhui::cli
