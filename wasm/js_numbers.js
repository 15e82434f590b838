// The JavaScript half of wasm/js_numbers.cc: strtod and "%.*g" on top of Number() and
// toExponential() (why, and the exact contract: that file's header). One source, two users:
//  - the asm.js build links it as an Emscripten JS library (--js-library; mergeInto below);
//  - the Wasm build's hand-written loader (wasm/loader.js) is generated with this text inside
//    its factory, where HEAPU8 is the module's current memory view.
// Both functions touch only HEAPU8. Plain ES5: Emscripten copies library functions as written.
var tallyJsNumbers = {
  // The number in text[0, len) (strtod has checked it is a decimal number).
  tally_js_parse_number: function (text, len) {
    var s = "";
    for (var i = 0; i < len; i++) s += String.fromCharCode(HEAPU8[text + i]);
    return Number(s);
  },

  // snprintf(buf, size, "%.*g", p, d); returns the length of the whole result.
  tally_js_format_g: function (d, p, buf, size) {
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
  },
};
if (typeof mergeInto == "function") mergeInto(LibraryManager.library, tallyJsNumbers);
