// The browser module's number conversions, backed by JavaScript's own.
//
// Why: the core's JSON code (sdk/src/json.cc) reads numbers with strtod and writes them as the
// shortest of "%.15g".."%.17g" that reads back (detail::FormatShortest). In Wasm, musl's strtod
// and snprintf pull in the whole printf machinery and 128-bit long-double soft-float: 23 KB of
// the module, 11.6 KB gzip (docs/BENCHMARKS.md, "Core module size"). The browser already
// carries a correctly rounded parser and a shortest round-trip formatter, so this file, linked
// only into the Emscripten builds (ahead of libc), provides strtod and FormatShortest on top of
// them (TALLY_JS_NUMBERS, wasm/CMakeLists.txt).
//
// Contract: the results are the native core's, byte for byte. strtod on a decimal number
// (optional sign, digits, fraction, exponent) is correctly rounded (ECMAScript's Number(), as
// every engine implements it). FormatShortest starts from the shortest digits that read back as
// the number (Number.prototype.toExponential() without an argument; engines pick the closest
// such digits, half to even on a tie, as printf rounds) and lays them out as "%.*g" at
// precision max(15, digits) (subnormals: digits): a search from %.15g stops at that precision,
// and the correctly rounded value at that precision is those digits (wasm/js_numbers.js says
// why). The Node suite (tests/js/core/roundtrip.test.mjs) checks thousands of numbers, ties
// included, against the native core's output. Anything else of strtod's (hex floats, "inf") is
// not supported: it reads no number. Nothing in Tally asks for it.
#include <cstddef>

#include "json_internal.h"  // sdk/src: detail::FormatShortest

// Implemented in JavaScript (wasm/js_numbers.js), imported by the module.
extern "C" double tally_js_parse_number(const char* text, int len);
extern "C" void tally_js_format_shortest(double d, char* buf, int size);

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

extern "C" {

double strtod(const char* text, char** end) {
  const char* p = text;
  while (*p == ' ' || (*p >= '\t' && *p <= '\r')) ++p;
  const char* start = p;
  if (*p == '+' || *p == '-') ++p;
  const char* mantissa = p;
  while (IsDigit(*p)) ++p;
  bool any_digit = p != mantissa;
  if (*p == '.') {
    ++p;
    while (IsDigit(*p)) ++p, any_digit = true;
  }
  if (!any_digit) {
    if (end != nullptr) *end = const_cast<char*>(text);
    return 0;
  }
  if (*p == 'e' || *p == 'E') {
    const char* q = p + 1;
    if (*q == '+' || *q == '-') ++q;
    if (IsDigit(*q)) {
      while (IsDigit(*q)) ++q;
      p = q;
    }
  }
  if (end != nullptr) *end = const_cast<char*>(p);
  return tally_js_parse_number(start, static_cast<int>(p - start));
}

// libc++'s string.o (std::to_string's home) also refers to these; Tally never calls them.
float strtof(const char* text, char** end) { return static_cast<float>(strtod(text, end)); }
long double strtold(const char* text, char** end) { return strtod(text, end); }

}  // extern "C"

void tally::detail::FormatShortest(double d, char* buf) { tally_js_format_shortest(d, buf, 40); }
