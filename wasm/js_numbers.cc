// The browser module's strtod and snprintf, backed by JavaScript's own number conversions.
//
// Why: the core's JSON code (sdk/src/json.cc) reads numbers with strtod and writes them with
// snprintf("%.*g"). In Wasm, musl's versions pull in the whole printf machinery and 128-bit
// long-double soft-float: 23 KB of the module, 11.6 KB gzip, more than a third of it
// (docs/BENCHMARKS.md, "Core module size"). The browser already carries a correctly rounded
// parser and formatter, so this file, linked only into the Emscripten builds ahead of libc,
// provides the two symbols on top of them and leaves sdk/ portable and unchanged.
//
// Contract: the results are the ones musl (and glibc) give, byte for byte, for what the core
// asks: strtod on a decimal number (optional sign, digits, fraction, exponent) is correctly
// rounded (ECMAScript's Number(), as every engine implements it with double-conversion or
// equivalent); snprintf supports exactly "%.*g" with a double, rounding the exact binary value
// half to even as printf does. JavaScript's toExponential rounds exact ties away from zero, so
// when a tie is possible the digits are derived exactly with BigInt instead. The Node suite
// (tests/js/core/roundtrip.test.mjs) checks the output against the native core's.
// Anything else (hex floats, "inf", other formats) is not supported: strtod reads no number and
// snprintf writes an empty string and returns -1. Nothing in Tally asks for them.
#include <cstdarg>
#include <cstddef>

// Implemented in JavaScript (wasm/js_numbers.js), imported by the module.
extern "C" double tally_js_parse_number(const char* text, int len);
extern "C" int tally_js_format_g(double d, int p, char* buf, int size);

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

int snprintf(char* buf, size_t size, const char* format, ...) {
  int written = -1;
  va_list args;
  va_start(args, format);
  if (format[0] == '%' && format[1] == '.' && format[2] == '*' && format[3] == 'g' &&
      format[4] == '\0') {
    const int precision = va_arg(args, int);
    const double value = va_arg(args, double);
    written = tally_js_format_g(value, precision, buf, static_cast<int>(size));
  } else if (size > 0) {
    buf[0] = '\0';
  }
  va_end(args);
  return written;
}

}  // extern "C"
