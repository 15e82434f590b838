#include "tally/json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "string_cases.h"

namespace tally {
namespace {

Json MustParse(std::string_view text) {
  Result<Json> r = ParseJson(text);
  EXPECT_TRUE(r.ok()) << text << " -> " << r.status().message();
  return r.ok() ? r.value() : Json();
}

// The error message of a text that must fail to parse (with kParseError unless told).
std::string ParseErrorOf(std::string_view text, Code code = Code::kParseError,
                         JsonParseOptions options = {}) {
  Result<Json> r = ParseJson(text, options);
  EXPECT_FALSE(r.ok()) << "parsed: " << std::string(text.substr(0, 200));
  EXPECT_EQ(r.status().code(), code) << r.status().message();
  return r.status().message();
}

std::string RoundTrip(std::string_view text) { return ToJsonString(MustParse(text)); }

TEST(JsonParse, ReadsEveryValueType) {
  Json j = MustParse(R"( {"s":"x","n":-12.5e1,"t":true,"f":false,"z":null,"a":[1,[]],"o":{}} )");
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j.Find("s")->as_string(), "x");
  EXPECT_EQ(j.Find("n")->as_number(), -125);
  EXPECT_TRUE(j.Find("t")->as_bool());
  EXPECT_FALSE(j.Find("f")->as_bool());
  EXPECT_TRUE(j.Find("z")->is_null());
  EXPECT_EQ(j.Find("a")->as_array().size(), 2u);
  EXPECT_TRUE(j.Find("o")->is_object());
  EXPECT_EQ(j.Find("missing"), nullptr);
  EXPECT_TRUE(MustParse("0").is_number());
  EXPECT_TRUE(MustParse("\"\"").is_string());
}

TEST(JsonParse, KeepsMemberOrder) {
  Json j = MustParse(R"({"b":1,"a":2,"c":3})");
  ASSERT_EQ(j.as_object().size(), 3u);
  EXPECT_EQ(j.as_object()[0].first, "b");
  EXPECT_EQ(j.as_object()[1].first, "a");
  EXPECT_EQ(j.as_object()[2].first, "c");
}

TEST(JsonParse, ErrorsGiveTheByteOffset) {
  EXPECT_EQ(ParseErrorOf(R"({"a":1,})"), "at byte 7: trailing comma in object");
  EXPECT_EQ(ParseErrorOf("[1,2,]"), "at byte 5: trailing comma in array");
  EXPECT_EQ(ParseErrorOf("[1 2]"), "at byte 3: expected ',' or ']', got character '2'");
  EXPECT_EQ(ParseErrorOf("{1:2}"), "at byte 1: expected a string key, got character '1'");
  EXPECT_EQ(ParseErrorOf(R"({"a" 1})"), "at byte 5: expected ':' after a key, got character '1'");
  EXPECT_EQ(ParseErrorOf(""), "at byte 0: expected a JSON value, got end of text");
  EXPECT_EQ(ParseErrorOf("  "), "at byte 2: expected a JSON value, got end of text");
  EXPECT_EQ(ParseErrorOf("[1] x"), "at byte 4: unexpected character 'x' after the JSON value");
  EXPECT_EQ(ParseErrorOf("tru"), "at byte 0: expected a JSON value, got character 't'");
  EXPECT_EQ(ParseErrorOf("\"abc"), "at byte 4: unterminated string");
  EXPECT_EQ(ParseErrorOf("[1"), "at byte 2: unterminated array, expected ',' or ']'");
  EXPECT_EQ(ParseErrorOf("{\"a\":1"), "at byte 6: unterminated object, expected ',' or '}'");
  EXPECT_EQ(ParseErrorOf("'a'"), "at byte 0: expected a JSON value, got character '''");
}

TEST(JsonParse, RefusesNanAndInfinity) {
  EXPECT_EQ(ParseErrorOf(R"({"price": NaN})"),
            "at byte 10: NaN is not JSON (numbers must be finite)");
  EXPECT_EQ(ParseErrorOf("[Infinity]"), "at byte 1: Infinity is not JSON (numbers must be finite)");
  EXPECT_EQ(ParseErrorOf("[-Infinity]"),
            "at byte 1: -Infinity is not JSON (numbers must be finite)");
  EXPECT_EQ(ParseErrorOf("1e400"), "at byte 0: number out of range (numbers must be finite)");
  EXPECT_EQ(ParseErrorOf("-1e400"), "at byte 0: number out of range (numbers must be finite)");
  EXPECT_EQ(ParseErrorOf("nan"), "at byte 0: expected a JSON value, got character 'n'");
}

TEST(JsonParse, RefusesNumbersOutsideTheGrammar) {
  EXPECT_EQ(ParseErrorOf("012"), "at byte 0: leading zeros are not allowed in a number");
  EXPECT_EQ(ParseErrorOf("-01"), "at byte 1: leading zeros are not allowed in a number");
  EXPECT_EQ(ParseErrorOf("1."), "at byte 2: expected a digit after '.', got end of text");
  EXPECT_EQ(ParseErrorOf(".5"), "at byte 0: expected a JSON value, got character '.'");
  EXPECT_EQ(ParseErrorOf("+1"), "at byte 0: expected a JSON value, got character '+'");
  EXPECT_EQ(ParseErrorOf("1e"), "at byte 2: expected a digit in an exponent, got end of text");
  EXPECT_EQ(ParseErrorOf("-"), "at byte 1: expected a digit in a number, got end of text");
  EXPECT_EQ(ParseErrorOf("0x10"), "at byte 1: unexpected character 'x' after the JSON value");
}

TEST(JsonParse, ReadsNumbersExactly) {
  EXPECT_EQ(MustParse("0").as_number(), 0);
  EXPECT_EQ(MustParse("-0").as_number(), 0);
  EXPECT_EQ(MustParse("1731681120123").as_number(), 1731681120123.0);
  EXPECT_EQ(MustParse("9007199254740993").as_number(), 9007199254740992.0);  // nearest double
  EXPECT_EQ(MustParse("89.9").as_number(), 89.9);
  EXPECT_EQ(MustParse("1E+2").as_number(), 100);
  EXPECT_EQ(MustParse("2.5e-3").as_number(), 0.0025);
  EXPECT_EQ(MustParse("-123456789012345678901234567890").as_number(), -1.2345678901234568e29);
  EXPECT_EQ(MustParse("1e-400").as_number(), 0);  // underflow is a finite number
}

TEST(JsonParse, RefusesDuplicateKeysWithTheirOffset) {
  EXPECT_EQ(ParseErrorOf(R"({"name":"a","x":1,"name":"b"})"), "at byte 18: duplicate key \"name\"");
  EXPECT_EQ(ParseErrorOf(R"({"o":{"k":1,"k":2}})"), "at byte 12: duplicate key \"k\"");
  // An escaped spelling of the same key is the same key.
  EXPECT_EQ(ParseErrorOf(R"({"ab":1,"a\u0062":2})"), "at byte 8: duplicate key \"ab\"");
}

TEST(JsonParse, FindsDuplicateKeysInLargeObjects) {
  std::string text = "{";
  for (int i = 0; i < 5000; ++i)
    text += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  std::string good = text;
  good.back() = '}';
  EXPECT_EQ(MustParse(good).as_object().size(), 5000u);
  text += "\"k4321\":0}";
  EXPECT_NE(ParseErrorOf(text).find("duplicate key \"k4321\""), std::string::npos);
}

// One key index serves every open object (json_reader.cc): a key counts only against the
// keys of its own object, whether the others are still open or already closed.
TEST(JsonParse, ComparesKeysOnlyWithinTheirObject) {
  EXPECT_TRUE(ParseJson(R"({"a":{"a":{"a":1}},"b":{"a":2,"b":3}})").ok());
  EXPECT_TRUE(ParseJson(R"([{"k":1},{"k":2},{"k":3}])").ok());
  // A closed object's keys sit at the indexes the next keys reuse.
  EXPECT_TRUE(ParseJson(R"({"o":{"x":1,"y":2},"x":3,"y":4})").ok());
  EXPECT_EQ(ParseErrorOf(R"({"o":{"x":1,"y":2},"x":3,"x":4})"), "at byte 25: duplicate key \"x\"");
  EXPECT_EQ(ParseErrorOf(R"({"a":1,"o":{"b":2},"a":3})"), "at byte 19: duplicate key \"a\"");
  // Thousands of small objects inside a large one: the index is rebuilt many times over.
  std::string text = "{";
  for (int i = 0; i < 3000; ++i) {
    text +=
        "\"k" + std::to_string(i) + "\":{\"k" + std::to_string(i + 1) + "\":0,\"v\":[{\"k0\":1}]},";
  }
  std::string good = text;
  good.back() = '}';
  EXPECT_EQ(MustParse(good).as_object().size(), 3000u);
  text += "\"k2999\":0}";
  EXPECT_NE(ParseErrorOf(text).find("duplicate key \"k2999\""), std::string::npos);
}

// Small objects are scanned, larger ones hashed (json_reader.cc): a repeat is found wherever it
// falls around that switch, with small and large objects open inside each other.
TEST(JsonParse, FindsEveryRepeatAroundTheScanToHashSwitch) {
  auto keys = [](int n, const std::string& value) {
    std::string t;
    for (int i = 0; i < n; ++i) t += "\"k" + std::to_string(i) + "\":" + value + ",";
    return t;
  };
  for (int n = 1; n <= 40; ++n) {
    for (int j = 0; j < n; ++j) {
      const std::string repeat = "\"k" + std::to_string(j) + "\":0}";
      SCOPED_TRACE(std::to_string(n) + " keys, repeat of key " + std::to_string(j));
      EXPECT_NE(ParseErrorOf("{" + keys(n, "1") + repeat).find("duplicate key"), std::string::npos);
      // The same inside a large object whose members are large and small objects.
      const std::string inner = "{" + keys(n, "{" + keys(3, "2") + "\"z\":0}") + repeat;
      EXPECT_NE(ParseErrorOf("{" + keys(20, inner) + "\"last\":1}").find("duplicate key"),
                std::string::npos);
      // After a large sibling left entries in the table.
      std::string sibling = "{";
      for (int i = 0; i < 30; ++i) sibling += "\"s" + std::to_string(i) + "\":1,";
      sibling.back() = '}';
      EXPECT_NE(
          ParseErrorOf("[" + sibling + ",{" + keys(n, "1") + repeat + "]").find("duplicate key"),
          std::string::npos);
    }
    std::string good = "{" + keys(n, "{" + keys(20, "[1]") + "\"z\":0}");
    good.back() = '}';
    EXPECT_TRUE(ParseJson("{" + keys(20, good) + "\"k0\":1}")
                    .status()
                    .message()
                    .find("duplicate key \"k0\"") != std::string::npos);
    EXPECT_TRUE(ParseJson("{" + keys(20, good) + "\"last\":1}").ok());
  }
}

// Keys the small-object check (json_reader.cc) files under the same summary bit, since they have
// the same length and end bytes, are still told apart; a key spelled with an escape is still
// the same key; wherever the pair falls among 0 to 20 other keys (around the scan to hash
// switch).
TEST(JsonParse, TellsKeysOfTheSameShapeApartAndFindsEscapedRepeats) {
  for (size_t n = 1; n <= 20; ++n) {
    const std::string key = testing::PlainRun(n);
    std::string near = key;  // same length, same first and last byte
    if (n >= 3) near[n / 2] = near[n / 2] == 'z' ? 'y' : 'z';
    char escaped_first[8];
    std::snprintf(escaped_first, sizeof escaped_first, "\\u%04x", key[0]);
    const std::string twin = escaped_first + key.substr(1);  // the same key, escaped
    for (size_t others = 0; others <= 20; ++others) {
      std::string head = "{";
      for (size_t i = 0; i < others; ++i) head += "\"o" + std::to_string(i) + "\":" + "1,";
      SCOPED_TRACE(key + " after " + std::to_string(others) + " keys");
      if (n >= 3) {
        Result<Json> r = ParseJson(head + "\"" + key + "\":1,\"" + near + "\":2}");
        ASSERT_TRUE(r.ok()) << r.status().message();
        EXPECT_EQ(r.value().as_object().size(), others + 2);
      }
      EXPECT_EQ(ParseErrorOf(head + "\"" + key + "\":1,\"" + twin + "\":2}"),
                "at byte " + std::to_string(head.size() + key.size() + 5) + ": duplicate key \"" +
                    key + "\"");
      EXPECT_EQ(ParseErrorOf(head + "\"" + twin + "\":1,\"" + key + "\":2}"),
                "at byte " + std::to_string(head.size() + twin.size() + 5) + ": duplicate key \"" +
                    key + "\"");
    }
  }
  EXPECT_EQ(ParseErrorOf(R"({"":1,"":2})"), "at byte 6: duplicate key \"\"");
}

TEST(JsonParse, DepthIsBoundedBeforeRecursing) {
  JsonParseOptions three;
  three.max_depth = 3;
  EXPECT_TRUE(ParseJson("[[[1]]]", three).ok());
  EXPECT_TRUE(ParseJson(R"({"a":{"b":[]}})", three).ok());
  EXPECT_EQ(ParseErrorOf("[[[[1]]]]", Code::kTooLarge, three),
            "at byte 3: nested deeper than 3 levels");
  EXPECT_EQ(ParseErrorOf(R"({"a":{"b":{"c":{}}}})", Code::kTooLarge, three),
            "at byte 15: nested deeper than 3 levels");
  // Hostile nesting: 100k unclosed brackets, and 100k closed ones, never overflow the stack.
  EXPECT_EQ(ParseErrorOf(std::string(100000, '['), Code::kTooLarge),
            "at byte 64: nested deeper than 64 levels");
  EXPECT_EQ(ParseErrorOf(std::string(100000, '[') + std::string(100000, ']'), Code::kTooLarge),
            "at byte 64: nested deeper than 64 levels");
  std::string deep_objects;
  for (int i = 0; i < 100000; ++i) deep_objects += "{\"a\":";
  EXPECT_EQ(ParseErrorOf(deep_objects, Code::kTooLarge),
            "at byte 320: nested deeper than 64 levels");
  EXPECT_TRUE(ParseJson(std::string(64, '[') + std::string(64, ']')).ok());
}

TEST(JsonParse, DecodesEscapes) {
  EXPECT_EQ(MustParse(R"("a\"b\\c\/d\b\f\n\r\t")").as_string(), "a\"b\\c/d\b\f\n\r\t");
  EXPECT_EQ(MustParse(R"("\u0041\u00e9\u20AC")").as_string(), "A\xC3\xA9\xE2\x82\xAC");
  EXPECT_EQ(MustParse(R"("\u0000")").as_string(), std::string(1, '\0'));
  // A surrogate pair becomes one 4-byte code point (U+1F600).
  EXPECT_EQ(MustParse(R"("\ud83d\ude00")").as_string(), "\xF0\x9F\x98\x80");
  EXPECT_EQ(ParseErrorOf(R"("\x41")"),
            "at byte 2: invalid escape: backslash followed by character 'x'");
  EXPECT_EQ(ParseErrorOf(R"("\u12G4")"),
            "at byte 5: expected 4 hex digits in a \\u escape, got character 'G'");
  EXPECT_EQ(ParseErrorOf(R"("\u12")"), "at byte 3: truncated \\u escape");
}

// Each string case (string_cases.h: escapes, UTF-8, faults at every place of plain runs around
// the reader's 8-byte steps) alone, as a key and as a value. Then every cut of it, held in a
// buffer of exactly that size, so that a read past its end trips AddressSanitizer.
TEST(JsonParse, DecodesStringsOfEveryLengthWithEachPieceAnywhere) {
  size_t checked = 0;
  for (const testing::StringCase& c : testing::StringCases()) {
    SCOPED_TRACE(c.json);
    Result<Json> alone = ParseJson(c.json);
    ASSERT_EQ(alone.ok(), c.valid) << alone.status().message();
    Result<Json> member = ParseJson("{" + c.json + ":" + c.json + "}");
    ASSERT_EQ(member.ok(), c.valid);
    if (c.valid) {
      EXPECT_EQ(alone.value().as_string(), c.text);
      ASSERT_EQ(member.value().as_object().size(), 1u);
      EXPECT_EQ(member.value().as_object()[0].first, c.text);
      EXPECT_EQ(member.value().as_object()[0].second.as_string(), c.text);
    }
    for (size_t k = 0; k < c.json.size(); ++k) {
      std::vector<char> cut(c.json.begin(), c.json.begin() + static_cast<std::ptrdiff_t>(k));
      EXPECT_FALSE(ParseJson(std::string_view(cut.data(), k)).ok()) << k;
    }
    ++checked;
  }
  EXPECT_GT(checked, 4000u);
}

TEST(JsonParse, RefusesLoneSurrogateEscapes) {
  EXPECT_EQ(ParseErrorOf(R"(["\ud83d"])"), "at byte 2: lone high surrogate escape in a string");
  EXPECT_EQ(ParseErrorOf(R"(["\ud83dx"])"), "at byte 2: lone high surrogate escape in a string");
  EXPECT_EQ(ParseErrorOf(R"(["\ud83d\u0041"])"),
            "at byte 2: lone high surrogate escape in a string");
  EXPECT_EQ(ParseErrorOf(R"(["\ude00"])"), "at byte 2: lone low surrogate escape in a string");
}

TEST(JsonParse, RefusesRawControlCharacters) {
  EXPECT_EQ(ParseErrorOf("[\"a\nb\"]"),
            "at byte 3: control character byte 0x0A in a string must be escaped");
  EXPECT_EQ(ParseErrorOf(std::string("\"a\0b\"", 5)),
            "at byte 2: control character byte 0x00 in a string must be escaped");
  EXPECT_EQ(MustParse("\"\x7f\"").as_string(), "\x7f");  // DEL is not a control char in JSON
}

TEST(JsonParse, RefusesEachKindOfInvalidUtf8) {
  // A lead byte followed by a non-continuation byte (the fixture's "caf\xC3(").
  EXPECT_EQ(ParseErrorOf("\"caf\xC3(\""),
            "at byte 4: invalid UTF-8 in a string: missing continuation byte");
  EXPECT_EQ(ParseErrorOf("\"\xE2\x82\""),
            "at byte 1: invalid UTF-8 in a string: missing continuation byte");
  EXPECT_EQ(ParseErrorOf("\"\xE2\x82"),
            "at byte 1: invalid UTF-8 in a string: truncated sequence at end of text");
  EXPECT_EQ(ParseErrorOf("\"\x80\""),
            "at byte 1: invalid UTF-8 in a string: unexpected continuation byte");
  // Overlong forms of '/', of U+0000 and of U+20AC.
  EXPECT_EQ(ParseErrorOf("\"\xC0\xAF\""),
            "at byte 1: invalid UTF-8 in a string: overlong encoding");
  EXPECT_EQ(ParseErrorOf("\"\xC1\xBF\""),
            "at byte 1: invalid UTF-8 in a string: overlong encoding");
  EXPECT_EQ(ParseErrorOf("\"\xE0\x80\x80\""),
            "at byte 1: invalid UTF-8 in a string: overlong encoding");
  EXPECT_EQ(ParseErrorOf("\"\xF0\x82\x82\xAC\""),
            "at byte 1: invalid UTF-8 in a string: overlong encoding");
  // Encoded surrogates (CESU-8 style).
  EXPECT_EQ(ParseErrorOf("\"\xED\xA0\x80\""),
            "at byte 1: invalid UTF-8 in a string: UTF-16 surrogate");
  EXPECT_EQ(ParseErrorOf("\"\xED\xBF\xBF\""),
            "at byte 1: invalid UTF-8 in a string: UTF-16 surrogate");
  // Beyond U+10FFFF.
  EXPECT_EQ(ParseErrorOf("\"\xF4\x90\x80\x80\""),
            "at byte 1: invalid UTF-8 in a string: code point above U+10FFFF");
  EXPECT_EQ(ParseErrorOf("\"\xF5\x80\x80\x80\""),
            "at byte 1: invalid UTF-8 in a string: code point above U+10FFFF");
  EXPECT_EQ(ParseErrorOf("\"\xFF\""),
            "at byte 1: invalid UTF-8 in a string: code point above U+10FFFF");
  // Outside strings too (a byte-order mark, a stray high byte).
  EXPECT_EQ(ParseErrorOf("\xEF\xBB\xBF{}"), "at byte 0: expected a JSON value, got byte 0xEF");
  EXPECT_EQ(ParseErrorOf("[1,\x80]"),
            "at byte 3: expected a JSON value, got byte 0x80 (invalid UTF-8: unexpected "
            "continuation byte)");
  // Keys are strings too.
  EXPECT_EQ(ParseErrorOf("{\"\xC3\":1}"),
            "at byte 2: invalid UTF-8 in a string: missing continuation byte");
  // The largest valid code points of each length are fine.
  EXPECT_EQ(MustParse("\"\x7F\xDF\xBF\xEF\xBF\xBF\xF4\x8F\xBF\xBF\"").as_string(),
            "\x7F\xDF\xBF\xEF\xBF\xBF\xF4\x8F\xBF\xBF");
}

TEST(JsonParse, ReadsAMegabyteString) {
  std::string big(1 << 20, 'y');
  big[12345] = '\xC3';  // é in the middle: the slow path inside a fast run
  big.insert(12346, 1, '\xA9');
  Json j = MustParse("\"" + big + "\"");
  EXPECT_EQ(j.as_string(), big);
  std::string bad = big;
  bad[500000] = '\xC3';
  EXPECT_EQ(ParseErrorOf("\"" + bad + "\""),
            "at byte 500001: invalid UTF-8 in a string: missing continuation byte");
}

TEST(JsonWrite, IsCompactAndKeepsOrder) {
  EXPECT_EQ(RoundTrip(R"( { "b" : [ 1 , true , null ] , "a" : { } , "c" : [ ] } )"),
            R"({"b":[1,true,null],"a":{},"c":[]})");
}

TEST(JsonWrite, PrintsIntegralNumbersAsIntegers) {
  EXPECT_EQ(ToJsonString(Json::Number(129.0)), "129");
  EXPECT_EQ(ToJsonString(Json::Number(-0.0)), "0");
  EXPECT_EQ(ToJsonString(Json::Number(1731681120123.0)), "1731681120123");
  EXPECT_EQ(ToJsonString(Json::Number(9007199254740992.0)), "9007199254740992");
  EXPECT_EQ(ToJsonString(Json::Number(-9007199254740992.0)), "-9007199254740992");
  EXPECT_EQ(ToJsonString(Json::Number(1e20)), "1e+20");
  EXPECT_EQ(ToJsonString(Json::Number(1e300)), "1e+300");
}

TEST(JsonWrite, PrintsTheShortestRoundTrippingForm) {
  EXPECT_EQ(ToJsonString(Json::Number(89.9)), "89.9");
  EXPECT_EQ(ToJsonString(Json::Number(0.1)), "0.1");
  EXPECT_EQ(ToJsonString(Json::Number(0.1 + 0.2)), "0.30000000000000004");
  EXPECT_EQ(ToJsonString(Json::Number(-2.5)), "-2.5");
  EXPECT_EQ(ToJsonString(Json::Number(1.5e-7)), "1.5e-7");
  EXPECT_EQ(ToJsonString(Json::Number(5e-324)), "5e-324");
  EXPECT_EQ(ToJsonString(Json::Number(1.7976931348623157e308)), "1.7976931348623157e+308");
  EXPECT_EQ(ToJsonString(Json::Number(std::nan(""))), "null");  // as JSON.stringify
  // Every printed double reads back to itself.
  double d = 1.0;
  for (int i = 0; i < 2000; ++i) {
    d = d * 1.37 + 0.001 * i;
    if (d > 1e200) d = 1e-200 * i;
    std::string s = ToJsonString(Json::Number(d));
    EXPECT_EQ(MustParse(s).as_number(), d) << s;
    EXPECT_EQ(ToJsonString(Json::Number(-d)), "-" + s);
  }
}

TEST(JsonWrite, EscapesStringsAsJsonStringify) {
  std::string all;
  for (int c = 1; c < 0x20; ++c) all += static_cast<char>(c);
  EXPECT_EQ(ToJsonString(Json::String(all)),
            R"("\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000b\f\r\u000e\u000f)"
            R"(\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b)"
            R"(\u001c\u001d\u001e\u001f")");
  EXPECT_EQ(ToJsonString(Json::String(std::string("a\0b", 3))), R"("a\u0000b")");
  EXPECT_EQ(ToJsonString(Json::String("q\"b\\s/")), R"("q\"b\\s/")");
  // Everything else raw, including DEL, U+2028 and astral code points.
  EXPECT_EQ(ToJsonString(Json::String("\x7f\xE2\x80\xA8\xF0\x9F\x98\x80\xC3\xA9")),
            "\"\x7f\xE2\x80\xA8\xF0\x9F\x98\x80\xC3\xA9\"");
  std::string out = "prefix:";
  WriteJsonString("x", &out);
  EXPECT_EQ(out, "prefix:\"x\"");
}

// WriteJsonString skips plain 8-byte words: every byte value at every place of a run of every
// length from 0 to 20 is escaped exactly as a byte-by-byte writer does.
TEST(JsonWrite, EscapesEachByteAtEveryPlace) {
  auto reference = [](const std::string& s) {
    static const char kHex[] = "0123456789abcdef";
    std::string out = "\"";
    for (char ch : s) {
      const auto c = static_cast<unsigned char>(ch);
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\b':
          out += "\\b";
          break;
        case '\f':
          out += "\\f";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        default:
          if (c < 0x20) {
            out += "\\u00";
            out += kHex[c >> 4];
            out += kHex[c & 15];
          } else {
            out += ch;
          }
      }
    }
    return out + "\"";
  };
  for (size_t n = 0; n <= 20; ++n) {
    for (size_t at = 0; at <= n; ++at) {
      for (int b = 0; b < 256; ++b) {
        const std::string run = testing::PlainRun(n);
        const std::string s = run.substr(0, at) + static_cast<char>(b) + run.substr(at);
        std::string out;
        WriteJsonString(s, &out);
        ASSERT_EQ(out, reference(s)) << n << " " << at << " " << b;
      }
    }
  }
}

TEST(JsonWrite, ParseWriteParseIsStable) {
  const char* texts[] = {
      R"({"a":"\u00e9\ud83d\ude00\n","b":[0.5,-3,1e-7,123456789.125],"c":{"d":[{}]}})",
      R"([null,false,true,"",[],{}])",
      R"("\u001f")",
  };
  for (const char* t : texts) {
    std::string once = RoundTrip(t);
    EXPECT_EQ(RoundTrip(once), once);
    EXPECT_EQ(MustParse(once), MustParse(t));
  }
}

TEST(JsonDom, SetReplacesAndEraseRemoves) {
  Json o = Json::MakeObject();
  o.Set("a", Json::Number(1));
  o.Set("b", Json::Bool(true));
  o.Set("a", Json::String("x"));
  EXPECT_EQ(ToJsonString(o), R"({"a":"x","b":true})");
  EXPECT_TRUE(o.Erase("a"));
  EXPECT_FALSE(o.Erase("a"));
  EXPECT_EQ(ToJsonString(o), R"({"b":true})");
  Json a = Json::MakeArray();
  a.Append(Json::Null());
  a.Append(o);
  EXPECT_EQ(ToJsonString(a), R"([null,{"b":true}])");
  EXPECT_EQ(a.Find("b"), nullptr);  // not an object
  EXPECT_NE(Json::Number(1), Json::String("1"));
  EXPECT_EQ(MustParse(R"({"a":1,"b":2})"), MustParse(R"({"a":1,"b":2})"));
  EXPECT_NE(MustParse(R"({"a":1,"b":2})"), MustParse(R"({"b":2,"a":1})"));
}

TEST(Utf8, ValidatesLengthsAndPrefixes) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii that is longer than eight bytes"));
  EXPECT_TRUE(IsValidUtf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("caf\xC3("));
  EXPECT_FALSE(IsValidUtf8("0123456789\xC0\xAF"));
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));
  EXPECT_FALSE(IsValidUtf8("\xE2\x82"));
  EXPECT_EQ(Utf8Length("caf\xC3\xA9"), 4u);
  EXPECT_EQ(Utf8Length("\xF0\x9F\x98\x80x"), 2u);
  EXPECT_EQ(Utf8Prefix("caf\xC3\xA9s", 4), "caf\xC3\xA9");
  EXPECT_EQ(Utf8Prefix("caf\xC3\xA9s", 3), "caf");  // never splits a code point
  EXPECT_EQ(Utf8Prefix("abc", 10), "abc");
  EXPECT_EQ(Utf8Prefix("abc", 0), "");
}

}  // namespace
}  // namespace tally
