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
#include <emscripten/emscripten.h>  // EM_JS (em_js.h alone lacks EMSCRIPTEN_KEEPALIVE in 3.1.6)

#include <cstdarg>
#include <cstddef>

// clang-format off
EM_JS(double, tally_js_parse_number, (const char* text, int len), {
  var s = "";
  for (var i = 0; i < len; i++) s += String.fromCharCode(HEAPU8[text + i]);
  return Number(s);
});

EM_JS(int, tally_js_format_g, (double d, int p, char* buf, int size), {
  var s, digits, X;
  if (p < 0) p = 6; else if (p == 0) p = 1;
  if (!isFinite(d)) {
    s = d != d ? "nan" : d < 0 ? "-inf" : "inf";
  } else {
    var x = Math.abs(d);
    if (x == 0) {
      digits = "0"; X = 0;
    } else {
      var t = x.toExponential(p);  // p + 1 significant digits: a "5" last may be an exact tie
      if (t.charAt(p + 1) != "5" || typeof BigInt == "undefined") {
        t = x.toExponential(p - 1).split("e");
        digits = t[0].replace(".", ""); X = +t[1];
      } else {
        // The exact decimal expansion of x = m * 2^e, then round half to even at p digits.
        var v = new DataView(new ArrayBuffer(8)); v.setFloat64(0, x);
        var hi = v.getUint32(0), e = hi >>> 20, B = BigInt;
        var m = B(hi & 0xfffff) * B(4294967296) + B(v.getUint32(4));
        if (e) m += B(4503599627370496); else e = 1;
        e -= 1075;
        var all = (e >= 0 ? m * B(2) ** B(e) : m * B(5) ** B(-e)).toString();
        X = all.length - 1 + (e < 0 ? e : 0);
        digits = all.slice(0, p);
        var r = all.charAt(p);
        if (r > "5" || (r == "5" && (/[1-9]/.test(all.slice(p + 1)) || digits.charCodeAt(p - 1) & 1))) {
          digits = (B(digits) + B(1)).toString();
          if (digits.length > p) { digits = digits.slice(0, p); X++; }
        }
      }
    }
    var z = digits.length;  // %g drops trailing zeros
    while (z > 1 && digits.charAt(z - 1) == "0") z--;
    digits = digits.slice(0, z);
    if (X < -4 || X >= p) {
      s = digits.charAt(0) + (digits.length > 1 ? "." + digits.slice(1) : "") + "e" +
          (X < 0 ? "-" : "+") + (X > -10 && X < 10 ? "0" : "") + Math.abs(X);
    } else if (X < 0) {
      s = "0." + "0".repeat(-X - 1) + digits;
    } else {
      s = digits.length > X + 1 ? digits.slice(0, X + 1) + "." + digits.slice(X + 1)
                                : digits + "0".repeat(X + 1 - digits.length);
    }
    if (d < 0 || 1 / d < 0) s = "-" + s;
  }
  var n = Math.min(s.length, size - 1);
  for (var i = 0; i < n; i++) HEAPU8[buf + i] = s.charCodeAt(i);
  if (size > 0) HEAPU8[buf + n] = 0;
  return s.length;
});
// clang-format on

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
