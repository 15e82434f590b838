// JSON string literals built to reach every branch of the core's string scanners: the reader's
// 8-byte steps (JsonReader::ParseString), the writer's escape scan (WriteJsonString,
// JsonStringSize) and the streaming pass's copy of unescaped text. Each case puts one piece (an
// escape, a UTF-8 sequence, an invalid byte, ...) at every position of a plain run of every
// length from 0 to kMaxRun, so each piece lands on both sides of every 8-byte word boundary.
#ifndef TALLY_TESTS_SDK_STRING_CASES_H_
#define TALLY_TESTS_SDK_STRING_CASES_H_

#include <string>
#include <vector>

namespace tally {
namespace testing {

struct StringCase {
  std::string json;  ///< the literal as it appears in JSON text, quotes included
  bool valid;        ///< RFC 8259 + UTF-8: ParseJson accepts it
  std::string text;  ///< its decoded bytes (when valid)
};

struct StringPiece {
  const char* json;
  const char* text;  ///< nullptr: the piece makes the string invalid
};

// Escapes of each kind (including "\/" and "\u0041", which decode to bytes WriteJsonString
// writes unescaped), raw UTF-8 of each width, DEL (legal unescaped), and faults of each kind.
inline const std::vector<StringPiece>& StringPieces() {
  static const std::vector<StringPiece> pieces = {
      {"\\\"", "\""},
      {"\\\\", "\\"},
      {"\\/", "/"},
      {"\\n", "\n"},
      {"\\u0000", nullptr},  // decoded below: a NUL byte
      {"\\u0041", "A"},
      {"\\u00e9", "\xC3\xA9"},
      {"\\u20AC", "\xE2\x82\xAC"},
      {"\\ud83d\\ude00", "\xF0\x9F\x98\x80"},
      {"\xC3\xA9", "\xC3\xA9"},
      {"\xE2\x82\xAC", "\xE2\x82\xAC"},
      {"\xF0\x9F\x98\x80", "\xF0\x9F\x98\x80"},
      {"\x7F", "\x7F"},
      {"\x80", nullptr},              // a lone continuation byte
      {"\xC3", nullptr},              // a lead byte without its continuation
      {"\xED\xA0\x80", nullptr},      // a UTF-16 surrogate
      {"\xF4\x90\x80\x80", nullptr},  // above U+10FFFF
      {"\xC0\xAF", nullptr},          // overlong
      {"\x01", nullptr},              // a raw control character
      {"\x1F", nullptr},
      {"\\ud800", nullptr},  // a lone surrogate escape
      {"\\x", nullptr},      // not an escape
  };
  return pieces;
}

constexpr size_t kMaxRun = 20;

// The plain run: ASCII letters and digits that vary, so that keys built from it differ.
inline std::string PlainRun(size_t n, size_t seed = 0) {
  static const char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string s;
  for (size_t i = 0; i < n; ++i) s += kChars[(i + seed) % (sizeof kChars - 1)];
  return s;
}

inline std::vector<StringCase> StringCases() {
  std::vector<StringCase> cases;
  for (size_t n = 0; n <= kMaxRun; ++n) {
    const std::string run = PlainRun(n);
    cases.push_back({"\"" + run + "\"", true, run});
    for (size_t at = 0; at <= n; ++at) {
      for (const StringPiece& p : StringPieces()) {
        const bool nul = std::string(p.json) == "\\u0000";
        const bool valid = p.text != nullptr || nul;
        const std::string text = nul ? std::string(1, '\0') : valid ? p.text : "";
        cases.push_back({"\"" + run.substr(0, at) + p.json + run.substr(at) + "\"", valid,
                         valid ? run.substr(0, at) + text + run.substr(at) : ""});
      }
    }
  }
  return cases;
}

}  // namespace testing
}  // namespace tally

#endif  // TALLY_TESTS_SDK_STRING_CASES_H_
