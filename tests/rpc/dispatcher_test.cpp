#include "rpc/dispatcher.h"

#include <doctest/doctest.h>

#include <atomic>
#include <set>
#include <stdexcept>
#include <string>

#include "rpc/errors.h"

namespace puhui::rpc {
namespace {

using nlohmann::json;

// A dispatcher with one method per behaviour the tests need.
struct Fixture {
  Fixture() {
    dispatcher.Register(
        "echo", [](const json& params) -> RpcResult { return params; }, "Returns its params.");
    dispatcher.Register(
        "count",
        [this](const json&) -> RpcResult {
          ++calls;
          return json(calls.load());
        },
        "Counts calls.");
    dispatcher.Register(
        "missing_block",
        [](const json&) -> RpcResult { return StatusToRpcError(NotFound("no block at height 9")); },
        "Fails with a Status.");
    dispatcher.Register(
        "wants_int", [](const json& params) -> RpcResult { return params.at("x").get<int>() + 1; },
        "Reads params through nlohmann, throwing on a wrong type.");
    dispatcher.Register(
        "throws_std", [](const json&) -> RpcResult { throw std::runtime_error("disk on fire"); },
        "Throws a std::exception.");
    dispatcher.Register(
        "throws_int", [](const json&) -> RpcResult { throw 42; }, "Throws a non-exception.");
    dispatcher.Register(
        "bad_utf8", [](const json&) -> RpcResult { return json(std::string("\xff\xfe")); },
        "Returns a string that is not UTF-8.");
  }

  // The parsed answer to `body`, which must be non-empty.
  json Answer(std::string_view body, DispatchLimits limits = {}) const {
    std::string out = dispatcher.Handle(body, limits);
    REQUIRE_FALSE(out.empty());
    json parsed = json::parse(out, nullptr, false);
    REQUIRE_FALSE(parsed.is_discarded());
    return parsed;
  }

  Dispatcher dispatcher;
  std::atomic<int> calls{0};
};

int ErrorCode(const json& response) { return response.at("error").at("code").get<int>(); }

void CheckError(const json& response, int code, const json& id) {
  CHECK(response.at("jsonrpc") == "2.0");
  CHECK(ErrorCode(response) == code);
  CHECK(response.at("error").at("message").is_string());
  CHECK(response.at("id") == id);
  CHECK_FALSE(response.contains("result"));
}

TEST_CASE("a call returns the handler's result with the request's id") {
  Fixture f;
  json r = f.Answer(R"({"jsonrpc":"2.0","method":"echo","params":[1,"a"],"id":7})");
  CHECK(r == json{{"jsonrpc", "2.0"}, {"result", {1, "a"}}, {"id", 7}});

  CHECK(f.Answer(R"({"jsonrpc":"2.0","method":"echo","params":{"k":true},"id":"abc"})")["id"] ==
        "abc");
  CHECK(f.Answer(R"({"jsonrpc":"2.0","method":"echo","params":[],"id":null})")["id"].is_null());
  CHECK(f.Answer(R"({"jsonrpc":"2.0","method":"echo","params":[],"id":-1.5})")["id"] == -1.5);
  CHECK(f.Answer(
            R"({"jsonrpc":"2.0","method":"echo","params":[],"id":18446744073709551615})")["id"] ==
        18446744073709551615ull);
}

TEST_CASE("omitted params reach the handler as null") {
  Fixture f;
  json r = f.Answer(R"({"jsonrpc":"2.0","method":"echo","id":1})");
  CHECK(r.at("result").is_null());
}

TEST_CASE("a body that is not JSON is a parse error with a null id") {
  Fixture f;
  for (const char* body : {"", "{", "{\"jsonrpc\":\"2.0\",", "[1,2", "nonsense", "{'a':1}",
                           "{\"id\":1} trailing", "\"\xff\""}) {
    CAPTURE(body);
    CheckError(f.Answer(body), kParseError, nullptr);
  }
}

TEST_CASE("a request that is neither an object nor an array is an invalid request") {
  Fixture f;
  for (const char* body : {"1", "\"echo\"", "null", "true"}) {
    CAPTURE(body);
    CheckError(f.Answer(body), kInvalidRequest, nullptr);
  }
}

TEST_CASE("a missing or non-string method is an invalid request that keeps the id") {
  Fixture f;
  CheckError(f.Answer(R"({"jsonrpc":"2.0","id":3})"), kInvalidRequest, 3);
  CheckError(f.Answer(R"({"jsonrpc":"2.0","method":5,"id":3})"), kInvalidRequest, 3);
  CheckError(f.Answer(R"({"jsonrpc":"2.0","method":null,"id":"x"})"), kInvalidRequest, "x");
}

TEST_CASE("jsonrpc other than exactly \"2.0\" is an invalid request") {
  Fixture f;
  for (const char* body :
       {R"({"method":"echo","id":1})", R"({"jsonrpc":"1.0","method":"echo","id":1})",
        R"({"jsonrpc":2.0,"method":"echo","id":1})",
        R"({"jsonrpc":"2.0 ","method":"echo","id":1})"}) {
    CAPTURE(body);
    CheckError(f.Answer(body), kInvalidRequest, 1);
  }
}

TEST_CASE("params that are neither an object nor an array are an invalid request") {
  Fixture f;
  for (const char* params : {"1", "\"a\"", "null", "true"}) {
    CAPTURE(params);
    std::string body =
        std::string(R"({"jsonrpc":"2.0","method":"echo","id":1,"params":)") + params + "}";
    CheckError(f.Answer(body), kInvalidRequest, 1);
  }
}

TEST_CASE("an id that is not a string, number or null is an invalid request with a null id") {
  Fixture f;
  for (const char* id : {"{}", "[1]", "true"}) {
    CAPTURE(id);
    std::string body = std::string(R"({"jsonrpc":"2.0","method":"echo","id":)") + id + "}";
    CheckError(f.Answer(body), kInvalidRequest, nullptr);
  }
}

TEST_CASE("an unknown method is method-not-found and the message names it") {
  Fixture f;
  json r = f.Answer(R"({"jsonrpc":"2.0","method":"no_such_thing","id":1})");
  CheckError(r, kMethodNotFound, 1);
  CHECK(r["error"]["message"].get<std::string>().find("no_such_thing") != std::string::npos);
}

TEST_CASE("a notification runs its handler but gets no response, even when it fails") {
  Fixture f;
  CHECK(f.dispatcher.Handle(R"({"jsonrpc":"2.0","method":"count"})").empty());
  CHECK(f.calls == 1);
  CHECK(f.dispatcher.Handle(R"({"jsonrpc":"2.0","method":"no_such_thing"})").empty());
  CHECK(f.dispatcher.Handle(R"({"jsonrpc":"2.0","method":"throws_std"})").empty());
  CHECK(
      f.dispatcher.Handle(R"({"jsonrpc":"2.0","method":"wants_int","params":{"x":"s"}})").empty());
}

TEST_CASE("a malformed request without an id is still answered, with a null id") {
  Fixture f;
  CheckError(f.Answer(R"({"foo":"boo"})"), kInvalidRequest, nullptr);
  CheckError(f.Answer(R"({"jsonrpc":"2.0","method":"echo","params":"x"})"), kInvalidRequest,
             nullptr);
}

TEST_CASE("a batch answers each request in order and skips notifications") {
  Fixture f;
  json r = f.Answer(R"([
    {"jsonrpc":"2.0","method":"echo","params":[1],"id":"a"},
    {"jsonrpc":"2.0","method":"count"},
    {"jsonrpc":"2.0","method":"echo","params":[2],"id":"b"}
  ])");
  REQUIRE(r.is_array());
  REQUIRE(r.size() == 2);
  CHECK(r[0] == json{{"jsonrpc", "2.0"}, {"result", {1}}, {"id", "a"}});
  CHECK(r[1] == json{{"jsonrpc", "2.0"}, {"result", {2}}, {"id", "b"}});
  CHECK(f.calls == 1);
}

TEST_CASE("a batch mixing valid and invalid entries answers each entry on its own") {
  Fixture f;
  json r = f.Answer(R"([
    1,
    {"jsonrpc":"2.0","method":"echo","params":[1],"id":1},
    {"foo":"boo"},
    {"jsonrpc":"2.0","method":"nope","id":2},
    {"jsonrpc":"2.0","method":"count"},
    {"jsonrpc":"2.0","method":"wants_int","params":{"x":"s"},"id":3}
  ])");
  REQUIRE(r.size() == 5);
  CheckError(r[0], kInvalidRequest, nullptr);
  CHECK(r[1]["result"] == json{1});
  CheckError(r[2], kInvalidRequest, nullptr);
  CheckError(r[3], kMethodNotFound, 2);
  CheckError(r[4], kInvalidParams, 3);
}

TEST_CASE("a batch of only notifications gets an empty response") {
  Fixture f;
  CHECK(f.dispatcher
            .Handle(R"([{"jsonrpc":"2.0","method":"count"},{"jsonrpc":"2.0","method":"count"}])")
            .empty());
  CHECK(f.calls == 2);
}

TEST_CASE("an empty batch is one invalid-request error, not an array") {
  Fixture f;
  json r = f.Answer("[]");
  REQUIRE(r.is_object());
  CheckError(r, kInvalidRequest, nullptr);
}

TEST_CASE("a batch over the limit is refused whole with -32002") {
  Fixture f;
  std::string call = R"({"jsonrpc":"2.0","method":"count","id":1})";
  DispatchLimits limits{.max_batch = 3};
  json at_limit = f.Answer("[" + call + "," + call + "," + call + "]", limits);
  CHECK(at_limit.size() == 3);
  CHECK(f.calls == 3);

  json over = f.Answer("[" + call + "," + call + "," + call + "," + call + "]", limits);
  REQUIRE(over.is_object());
  CheckError(over, kBatchTooLarge, nullptr);
  CHECK(f.calls == 3);  // nothing in the refused batch ran

  std::string big = "[" + call;
  for (size_t i = 1; i <= DispatchLimits::kDefaultMaxBatch; ++i) big += "," + call;
  CheckError(f.Answer(big + "]"), kBatchTooLarge, nullptr);
}

TEST_CASE("nesting deeper than the limit is refused before parsing, without a crash") {
  Fixture f;
  // A million open brackets would exhaust the stack of a recursive parser.
  CheckError(f.Answer(std::string(1'000'000, '[')), kInvalidRequest, nullptr);
  std::string deep_params = R"({"jsonrpc":"2.0","method":"echo","id":1,"params":)" +
                            std::string(100, '[') + std::string(100, ']') + "}";
  CheckError(f.Answer(deep_params), kInvalidRequest, nullptr);

  // Within the limit (the request object is level 1): fine.
  std::string ok_params = R"({"jsonrpc":"2.0","method":"echo","id":1,"params":)" +
                          std::string(63, '[') + std::string(63, ']') + "}";
  CHECK(f.Answer(ok_params).contains("result"));

  // Brackets inside strings are text, not nesting.
  std::string in_string = R"({"jsonrpc":"2.0","method":"echo","id":1,"params":[")" +
                          std::string(1000, '[') + R"(\"[["]})";
  json r = f.Answer(in_string);
  CHECK(r["result"][0].get<std::string>().size() == 1003);
}

TEST_CASE("a handler throwing a JSON type error yields invalid params") {
  Fixture f;
  json r = f.Answer(R"({"jsonrpc":"2.0","method":"wants_int","params":{"x":"seven"},"id":1})");
  CheckError(r, kInvalidParams, 1);
  std::string message = r["error"]["message"];
  CHECK(message.find("number") != std::string::npos);
  CHECK(message.find("[json.exception") == std::string::npos);
  CheckError(f.Answer(R"({"jsonrpc":"2.0","method":"wants_int","params":{},"id":2})"),
             kInvalidParams, 2);
  CheckError(f.Answer(R"({"jsonrpc":"2.0","method":"wants_int","id":3})"), kInvalidParams, 3);
}

TEST_CASE("a handler throwing anything else yields internal error and the server carries on") {
  Fixture f;
  json r = f.Answer(R"({"jsonrpc":"2.0","method":"throws_std","id":1})");
  CheckError(r, kInternalError, 1);
  CHECK(r["error"]["data"]["detail"] == "disk on fire");
  CheckError(f.Answer(R"({"jsonrpc":"2.0","method":"throws_int","id":2})"), kInternalError, 2);
  CHECK(f.Answer(R"({"jsonrpc":"2.0","method":"echo","params":[],"id":3})").contains("result"));
}

TEST_CASE("a handler's RpcException reaches the client unchanged") {
  Dispatcher d;
  d.Register(
      "custom",
      [](const json&) -> RpcResult {
        throw RpcException(RpcError{kStatusNotFound, "gone", {{"k", 1}}});
      },
      "Throws an RpcException.");
  json r = json::parse(d.Handle(R"({"jsonrpc":"2.0","method":"custom","id":1})"));
  CHECK(r["error"] == json{{"code", kStatusNotFound}, {"message", "gone"}, {"data", {{"k", 1}}}});
}

TEST_CASE("a failed Status becomes its application code with the status name in data") {
  Fixture f;
  json r = f.Answer(R"({"jsonrpc":"2.0","method":"missing_block","id":1})");
  CHECK(r["error"] == json{{"code", 1002},
                           {"message", "no block at height 9"},
                           {"data", {{"status", "NOT_FOUND"}}}});
}

TEST_CASE("every StatusCode has its own stable application code in 1000-1099") {
  CHECK(RpcCodeForStatus(StatusCode::kOk) == 1000);
  CHECK(RpcCodeForStatus(StatusCode::kInvalidArgument) == 1001);
  CHECK(RpcCodeForStatus(StatusCode::kNotFound) == 1002);
  CHECK(RpcCodeForStatus(StatusCode::kAlreadyExists) == 1003);
  CHECK(RpcCodeForStatus(StatusCode::kPermissionDenied) == 1004);
  CHECK(RpcCodeForStatus(StatusCode::kFailedPrecondition) == 1005);
  CHECK(RpcCodeForStatus(StatusCode::kResourceExhausted) == 1006);
  CHECK(RpcCodeForStatus(StatusCode::kUnauthenticated) == 1007);
  CHECK(RpcCodeForStatus(StatusCode::kCorruption) == 1008);
  CHECK(RpcCodeForStatus(StatusCode::kIoError) == 1009);
  CHECK(RpcCodeForStatus(StatusCode::kInternal) == 1010);
  std::set<int> seen;
  for (int c = 0; c <= static_cast<int>(StatusCode::kInternal); ++c) {
    int code = RpcCodeForStatus(static_cast<StatusCode>(c));
    CHECK(code >= 1000);
    CHECK(code <= 1099);
    seen.insert(code);
  }
  CHECK(seen.size() == static_cast<size_t>(StatusCode::kInternal) + 1);
  CHECK(kParseError == -32700);
  CHECK(kInvalidRequest == -32600);
  CHECK(kMethodNotFound == -32601);
  CHECK(kInvalidParams == -32602);
  CHECK(kInternalError == -32603);
  CHECK(kBodyTooLarge == -32001);
  CHECK(kBatchTooLarge == -32002);
  CHECK(kServerBusy == -32003);
}

TEST_CASE("a result that is not valid UTF-8 is still answered") {
  Fixture f;
  json r = f.Answer(R"({"jsonrpc":"2.0","method":"bad_utf8","id":1})");
  CHECK(r["result"].is_string());
}

TEST_CASE("rpc_methods lists every method with its description") {
  Fixture f;
  json r = f.Answer(R"({"jsonrpc":"2.0","method":"rpc_methods","id":1})");
  REQUIRE(r["result"].is_array());
  std::set<std::string> names;
  for (const json& m : r["result"]) {
    names.insert(m.at("name").get<std::string>());
    CHECK_FALSE(m.at("description").get<std::string>().empty());
  }
  CHECK(names == std::set<std::string>{"bad_utf8", "count", "echo", "missing_block", "rpc_methods",
                                       "throws_int", "throws_std", "wants_int"});
  CHECK(f.dispatcher.Methods().at("echo") == "Returns its params.");
}

}  // namespace
}  // namespace puhui::rpc
