#include "rpc/params.h"

#include <doctest/doctest.h>

#include <string>

#include "rpc/dispatcher.h"

namespace puhui::rpc {
namespace {

using nlohmann::json;

constexpr Param kHeight{"height", 0};
constexpr Param kName{"name", 1};

// The error a getter throws, or a default RpcError if it throws nothing.
template <typename F>
RpcError ErrorOf(F&& get) {
  try {
    get();
  } catch (const RpcException& e) {
    return e.error();
  }
  FAIL("expected an RpcException");
  return {};
}

TEST_CASE("params are found by name in an object and by position in an array") {
  CHECK(GetUint64(json{{"height", 5}, {"name", "x"}}, kHeight) == 5);
  CHECK(GetString(json{{"height", 5}, {"name", "x"}}, kName) == "x");
  CHECK(GetUint64(json{5, "x"}, kHeight) == 5);
  CHECK(GetString(json{5, "x"}, kName) == "x");
}

TEST_CASE("a missing required param is invalid params naming it") {
  for (const json& params :
       {json(), json::object(), json::array(), json{{"other", 1}}, json{{"height", nullptr}}}) {
    CAPTURE(params.dump());
    RpcError e = ErrorOf([&] { (void)GetUint64(params, kHeight); });
    CHECK(e.code == kInvalidParams);
    CHECK(e.message == "param 'height' is required");
    CHECK(e.data == json{{"param", "height"}});
  }
}

TEST_CASE("optional getters treat absent and null as not given, but still check the type") {
  CHECK_FALSE(GetOptionalUint64(json::object(), kHeight).has_value());
  CHECK_FALSE(GetOptionalUint64(json{nullptr, "x"}, kHeight).has_value());
  CHECK_FALSE(GetOptionalString(json{1}, kName).has_value());
  CHECK_FALSE(GetOptionalBool(json(), kHeight).has_value());
  CHECK_FALSE(GetOptionalHexBytes(json::array(), kHeight).has_value());
  CHECK_FALSE(GetOptionalHash32(json::array(), kHeight).has_value());
  CHECK(GetOptionalUint64(json{{"height", "12"}}, kHeight) == 12u);
  CHECK(GetOptionalBool(json{true}, kHeight) == true);
  CHECK(GetOptionalString(json{1, "n"}, kName) == "n");
  CHECK(ErrorOf([] {
          (void)GetOptionalUint64(json{{"height", "x"}}, kHeight);
        }).message == "param 'height' must be an unsigned integer");
  CHECK(ErrorOf([] { (void)GetOptionalBool(json{1}, kHeight); }).message ==
        "param 'height' must be a boolean");
}

TEST_CASE("a string param must be a JSON string") {
  CHECK(GetString(json{{"name", ""}}, kName).empty());
  for (const json& v : {json(1), json(true), json::array(), json::object()}) {
    CHECK(ErrorOf([&] {
            (void)GetString(json{{"name", v}}, kName);
          }).message == "param 'name' must be a string");
  }
}

TEST_CASE("an unsigned param accepts JSON unsigned integers and decimal strings") {
  CHECK(GetUint64(json{0}, kHeight) == 0);
  CHECK(GetUint64(json::parse("[18446744073709551615]"), kHeight) == UINT64_MAX);
  CHECK(GetUint64(json{"18446744073709551615"}, kHeight) == UINT64_MAX);
  CHECK(GetUint64(json{"007"}, kHeight) == 7);
  CHECK(GetUint64(json{int64_t{9}}, kHeight) == 9);  // built in C++ as signed
}

TEST_CASE("an unsigned param rejects negatives, fractions, overflow and non-decimal text") {
  for (const char* params :
       {"[-1]", "[1.5]", "[1e3]", "[18446744073709551616]", "[\"\"]", "[\"-1\"]", "[\"+1\"]",
        "[\" 1\"]", "[\"1 \"]", "[\"12abc\"]", "[\"0x10\"]", "[true]", "[[1]]", "[{}]"}) {
    CAPTURE(params);
    RpcError e = ErrorOf([&] { (void)GetUint64(json::parse(params), kHeight); });
    CHECK(e.code == kInvalidParams);
    CHECK(e.message == "param 'height' must be an unsigned integer");
  }
  CHECK(ErrorOf([] { (void)GetUint64(json{"18446744073709551616"}, kHeight); }).message ==
        "param 'height' is out of range for an unsigned 64-bit integer");
}

TEST_CASE("a bool param must be a JSON boolean") {
  CHECK(GetBool(json{false}, kHeight) == false);
  for (const json& v : {json(0), json("true"), json(nullptr)}) {
    CAPTURE(v.dump());
    CHECK(ErrorOf([&] { (void)GetBool(json::array({v}), kHeight); }).code == kInvalidParams);
  }
}

TEST_CASE("hex params decode either case, with or without 0x") {
  Bytes expected{0xde, 0xad, 0xbe, 0xef};
  CHECK(GetHexBytes(json{"deadbeef"}, kHeight) == expected);
  CHECK(GetHexBytes(json{"DEADBEEF"}, kHeight) == expected);
  CHECK(GetHexBytes(json{"0xdeadBEEF"}, kHeight) == expected);
  CHECK(GetHexBytes(json{""}, kHeight).empty());
  CHECK(GetHexBytes(json{"0x"}, kHeight).empty());
  CHECK(GetHexBytes(json{"deadbeef"}, kHeight, 4) == expected);
}

TEST_CASE("hex params reject odd length, non-hex digits, wrong types and wrong sizes") {
  for (const json& v : {json("abc"), json("zz"), json("0xg0"), json(" 00"), json(12)}) {
    CAPTURE(v.dump());
    RpcError e = ErrorOf([&] { (void)GetHexBytes(json::array({v}), kHeight); });
    CHECK(e.code == kInvalidParams);
    CHECK(e.message.starts_with("param 'height' must be a hex string"));
  }
  CHECK(ErrorOf([] { (void)GetHexBytes(json{"00"}, kHeight, 4); }).message ==
        "param 'height' must be 4 bytes of hex (8 digits), got 1 bytes");
}

TEST_CASE("a Hash32 param is exactly 32 bytes of hex") {
  std::string hex(64, 'a');
  Hash32 h = GetHash32(json{hex}, kHeight);
  CHECK(Hex(h) == hex);
  CHECK(GetOptionalHash32(json{hex}, kHeight) == h);
  CHECK(ErrorOf([] { (void)GetHash32(json{std::string(62, 'a')}, kHeight); }).message ==
        "param 'height' must be 32 bytes of hex (64 digits), got 31 bytes");
}

TEST_CASE("ExpectOnly rejects unknown names and surplus positions") {
  ExpectOnly(json(), {"a"});
  ExpectOnly(json{{"a", 1}}, {"a", "b"});
  ExpectOnly(json{1, 2}, {"a", "b"});
  CHECK(ErrorOf([] { ExpectOnly(json{{"c", 1}}, {"a", "b"}); }).message == "unknown param 'c'");
  CHECK(ErrorOf([] {
          ExpectOnly(json{1, 2, 3}, {"a", "b"});
        }).message == "expected at most 2 params, got 3");
}

TEST_CASE("a handler using the helpers answers bad input with -32602 and the helper's message") {
  Dispatcher d;
  d.Register(
      "get_block",
      [](const json& params) -> RpcResult {
        return json{{"height", GetUint64(params, {"height", 0})}};
      },
      "Returns a block.");
  json ok =
      json::parse(d.Handle(R"({"jsonrpc":"2.0","method":"get_block","params":["42"],"id":1})"));
  CHECK(ok["result"]["height"] == 42);
  json bad = json::parse(
      d.Handle(R"({"jsonrpc":"2.0","method":"get_block","params":{"height":-3},"id":2})"));
  CHECK(bad["error"] == json{{"code", kInvalidParams},
                             {"message", "param 'height' must be an unsigned integer"},
                             {"data", {{"param", "height"}}}});
}

}  // namespace
}  // namespace puhui::rpc
