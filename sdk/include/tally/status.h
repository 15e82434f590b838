// Status and Result: errors as values in the core (no exceptions; see STYLE.md habit 3).
#ifndef TALLY_STATUS_H_
#define TALLY_STATUS_H_

#include <cstdint>
#include <string>
#include <utility>

namespace tally {

/// What kind of failure a Status carries. The numeric values cross the Wasm boundary
/// (wasm/tally_abi.h) and must not be renumbered.
enum class Code : int32_t {
  kOk = 0,
  kInvalidArgument = 1,    ///< a field has a wrong type, shape or value
  kParseError = 2,         ///< the text is not JSON (or not the JSON we pinned)
  kTooLarge = 3,           ///< over a byte, count or depth bound
  kDuplicate = 4,          ///< already seen (event_id or content fingerprint)
  kResourceExhausted = 5,  ///< a queue or memory bound is full
  kNotFound = 6,
  kInternal = 7,
};

/// Outcome of an operation. The message names the field when one is at fault, e.g.
/// `properties.price: must be a finite number`.
class Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string msg) {
    return Status(Code::kInvalidArgument, std::move(msg));
  }
  static Status ParseError(std::string msg) { return Status(Code::kParseError, std::move(msg)); }
  static Status TooLarge(std::string msg) { return Status(Code::kTooLarge, std::move(msg)); }
  static Status Duplicate(std::string msg) { return Status(Code::kDuplicate, std::move(msg)); }
  static Status ResourceExhausted(std::string msg) {
    return Status(Code::kResourceExhausted, std::move(msg));
  }
  static Status NotFound(std::string msg) { return Status(Code::kNotFound, std::move(msg)); }
  static Status Internal(std::string msg) { return Status(Code::kInternal, std::move(msg)); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

/// A value or the Status that explains its absence. T must be default-constructible.
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}          // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT: implicit by design

  bool ok() const { return status_.ok(); }
  explicit operator bool() const { return ok(); }
  const Status& status() const { return status_; }
  /// Requires ok().
  const T& value() const& { return value_; }
  T& value() & { return value_; }
  T&& value() && { return std::move(value_); }

 private:
  Status status_;
  T value_{};
};

}  // namespace tally

#endif  // TALLY_STATUS_H_
