// The JavaScript half of wasm/js_numbers.cc: strtod and FormatShortest on top of Number() and
// toExponential() (why, and the exact contract: that file's header). One source, two users:
//  - the asm.js build links it as an Emscripten JS library (--js-library; mergeInto below);
//  - the Wasm build's hand-written loader (wasm/loader.js) is generated with this text inside
//    its factory, where HEAPU8 is the module's current memory view.
// Both functions touch only HEAPU8. Plain ES5: Emscripten copies library functions as written.
var tallyJsNumbers = {
  // The number in text[0, len) (strtod has checked it is a decimal number).
  tally_js_parse_number: function (text, len) {
    var s = '';
    for (var i = 0; i < len; i++) s += String.fromCharCode(HEAPU8[text + i]);
    return Number(s);
  },

  // detail::FormatShortest (wasm/js_numbers.cc): d as "%.*g" at the precision where a search
  // from %.15g (subnormals: %.1g) first reads back as d, NUL-terminated in buf[0, size).
  // toExponential() gives the n shortest digits that read back, the closest ones to d (engines
  // break a tie to the even digit, as printf does). At that precision p = max(15, n), printf's
  // correctly rounded digits are the same: for n <= 15 because two 15-digit decimals never read
  // back as the same double (DBL_DIG), for n > 15 because the closest n-digit decimal reads back
  // when any does; and no precision below n reads back. d is finite and not a small integer
  // (WriteNumber writes those itself), so the layout is printf's %g with trailing zeros cut and
  // the exponent as JavaScript writes it ("1e-7"; WriteNumber would cut a leading zero).
  tally_js_format_shortest: function (d, buf, size) {
    var x = Math.abs(d),
      t = x.toExponential().split('e');
    // A power of two has a narrower rounding interval below it than above: there the closest
    // 16-digit decimal (printf's; toPrecision's, bar a tie, which printf breaks to the even
    // digit and which an exact 5 as the 17th and last digit flags) may not read back although the
    // shortest 16 digits do, and printf goes on to 17 digits. Every power of two is checked
    // against the native core (tests/js/core/roundtrip.test.mjs).
    if (
      t[0].length == 17 &&
      x == Math.pow(2, Math.round(Math.log2(x))) &&
      (+x.toPrecision(16) != x || /^\d\.\d{15}50+e/.test(x.toExponential(40)))
    ) {
      t = x.toExponential(16).split('e');
    }
    var digits = t[0].replace('.', ''),
      X = +t[1],
      s;
    if (X < -4 || X >= Math.max(digits.length, x < 2.2250738585072014e-308 ? 1 : 15)) {
      s = t[0] + 'e' + (X < 0 ? '' : '+') + X;
    } else if (X < 0) {
      s = '0.' + '0'.repeat(-X - 1) + digits;
    } else {
      s =
        digits.length > X + 1
          ? digits.slice(0, X + 1) + '.' + digits.slice(X + 1)
          : digits + '0'.repeat(X + 1 - digits.length);
    }
    if (d < 0) s = '-' + s;
    var n = Math.min(s.length, size - 1);
    for (var i = 0; i < n; i++) HEAPU8[buf + i] = s.charCodeAt(i);
    HEAPU8[buf + n] = 0;
  },
};
if (typeof mergeInto == 'function') mergeInto(LibraryManager.library, tallyJsNumbers);
