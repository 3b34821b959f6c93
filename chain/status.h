// Expected failures as values: a closed set of codes plus a message a person can act on.
// Programmer errors use PUHUI_CHECK (always on, aborts with context) and never peer or user input.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <variant>

namespace puhui {

enum class StatusCode {
  kOk,
  kInvalidArgument,     // malformed or out-of-range input from a user or peer
  kNotFound,            // the thing asked for does not exist
  kAlreadyExists,       // duplicate: a replay, a known transaction, an existing id
  kPermissionDenied,    // the signer lacks the role the action needs
  kFailedPrecondition,  // valid input that the current state does not allow
  kResourceExhausted,   // a named limit was reached (mempool, body size, batch)
  kUnauthenticated,     // a signature does not verify
  kCorruption,          // our own stored data is inconsistent: stop, do not guess
  kIoError,             // the disk or the OS failed us
  kInternal,            // a bug; should not happen
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status Ok() { return {}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) {
  return {StatusCode::kInvalidArgument, std::move(m)};
}
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
inline Status PermissionDenied(std::string m) {
  return {StatusCode::kPermissionDenied, std::move(m)};
}
inline Status FailedPrecondition(std::string m) {
  return {StatusCode::kFailedPrecondition, std::move(m)};
}
inline Status ResourceExhausted(std::string m) {
  return {StatusCode::kResourceExhausted, std::move(m)};
}
inline Status Unauthenticated(std::string m) {
  return {StatusCode::kUnauthenticated, std::move(m)};
}
inline Status Corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
inline Status IoError(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

// A value or the Status that explains why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Status status) : v_(std::move(status)) {}

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

[[noreturn]] void CheckFailed(const char* expr, const char* file, int line, const std::string& msg);

}  // namespace puhui

// Always-on assertion for invariants of our own code.
#define PUHUI_CHECK(cond, ...)                                                              \
  do {                                                                                      \
    if (!(cond)) ::puhui::CheckFailed(#cond, __FILE__, __LINE__, std::string{__VA_ARGS__}); \
  } while (0)

// Propagates a non-ok Status from an expression that yields Status.
#define PUHUI_RETURN_IF_ERROR(expr)      \
  do {                                   \
    ::puhui::Status puhui_s_ = (expr);   \
    if (!puhui_s_.ok()) return puhui_s_; \
  } while (0)
