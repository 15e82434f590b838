// A small JSON document model, parser and writer for the core.
//
// Why not nlohmann_json here: the core also runs in the browser, where nlohmann's serializer alone
// costs about 15 KB gzip of Wasm (docs/BENCHMARKS.md), and the core builds with -fno-exceptions,
// where nlohmann aborts on a type error. This parser also reports what nlohmann silently accepts
// or cannot bound: duplicate keys, nesting depth (checked before recursing, so hostile input
// cannot overflow the stack) and invalid UTF-8, each with the byte offset.
// The collector still uses nlohmann_json for its config and response bodies.
#ifndef TALLY_JSON_H_
#define TALLY_JSON_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tally/status.h"

namespace tally {

namespace detail {
class JsonParser;
}  // namespace detail

/// A JSON value. Objects keep their members in insertion order; the parser rejects duplicate
/// keys, and Set() replaces an existing key, so keys within one object are unique.
class Json {
 public:
  enum class Type : uint8_t { kNull, kBool, kNumber, kString, kArray, kObject };
  using Array = std::vector<Json>;
  using Member = std::pair<std::string, Json>;
  using Object = std::vector<Member>;

  Json() = default;  ///< null
  static Json Null() { return Json(); }
  static Json Bool(bool b);
  static Json Number(double d);  ///< requires a finite d
  static Json String(std::string s);
  static Json MakeArray();
  static Json MakeObject();

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_bool() const { return type_ == Type::kBool; }
  bool is_number() const { return type_ == Type::kNumber; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_object() const { return type_ == Type::kObject; }

  /// Each accessor requires the matching type.
  bool as_bool() const { return bool_; }
  double as_number() const { return number_; }
  const std::string& as_string() const { return string_; }
  std::string& as_string() { return string_; }
  const Array& as_array() const { return array_; }
  Array& as_array() { return array_; }
  const Object& as_object() const { return object_; }
  Object& as_object() { return object_; }

  /// Object member by key, or nullptr (also when this is not an object).
  const Json* Find(std::string_view key) const;
  Json* Find(std::string_view key);
  /// Requires is_object(). Replaces the value of an existing key, else appends.
  void Set(std::string key, Json value);
  /// Requires is_object(). Returns whether the key was there.
  bool Erase(std::string_view key);
  /// Requires is_array().
  void Append(Json value);

  /// Deep equality; objects are equal when they hold equal members in the same order (the order
  /// the writer emits), and numbers compare as doubles (so -0 == 0).
  friend bool operator==(const Json& a, const Json& b);
  friend bool operator!=(const Json& a, const Json& b) { return !(a == b); }

 private:
  friend class detail::JsonParser;  // fills values in place, without temporaries

  Type type_ = Type::kNull;
  bool bool_ = false;
  double number_ = 0;
  std::string string_;
  Array array_;
  Object object_;
};

/// Bounds the parser enforces; a violation is an error, never a crash.
struct JsonParseOptions {
  /// Arrays and objects nested deeper than this are refused (the outermost value is depth 1).
  size_t max_depth = 64;
};

/// Parses one JSON text (RFC 8259). Surrounding whitespace is allowed, anything else after the
/// value is an error. Errors are kParseError (syntax, NaN/Infinity, invalid UTF-8, lone
/// surrogate escapes, duplicate keys) or kTooLarge (depth); each message gives the byte offset,
/// e.g. `at byte 17: duplicate key "name"`.
Result<Json> ParseJson(std::string_view text, const JsonParseOptions& options = {});

/// Appends the compact JSON text of `value` to `out`. Deterministic: members in stored order,
/// integral numbers within ±2^53 without a fraction or exponent, other numbers in the shortest
/// form that reads back to the same double, strings escaped as JSON.stringify escapes them.
void WriteJson(const Json& value, std::string* out);
std::string ToJsonString(const Json& value);

/// Appends `s` as a quoted, escaped JSON string. Requires valid UTF-8.
void WriteJsonString(std::string_view s, std::string* out);

/// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, ≤ U+10FFFF).
bool IsValidUtf8(std::string_view s);
/// The number of code points in valid UTF-8 `s`.
size_t Utf8Length(std::string_view s);
/// The longest prefix of valid UTF-8 `s` holding at most `max_chars` code points.
std::string_view Utf8Prefix(std::string_view s, size_t max_chars);

}  // namespace tally

#endif  // TALLY_JSON_H_
