#include "tally/validate.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "tally/codec.h"

namespace tally {
namespace {

Event GoodEvent() {
  Event e;
  e.event_id = "0193303e-3731-7c11-add4-51b26bcefab3";
  e.name = "Purchased an item";
  e.user_id = "C-1029384";
  e.created_at_ms = 1731681957293;
  return e;
}

// An event whose properties are the given JSON object text.
Event WithProperties(std::string_view json) {
  Event e = GoodEvent();
  Result<Json> p = ParseJson(json);
  EXPECT_TRUE(p.ok()) << json;
  e.properties = p.value();
  return e;
}

std::string ErrorOf(Event e, const ValidationOptions& o = {}) {
  Status s = ValidateEvent(&e, o);
  EXPECT_FALSE(s.ok()) << EncodeEvent(e);
  return s.message();
}

std::string PropertyError(std::string_view json, const ValidationOptions& o = {}) {
  return ErrorOf(WithProperties(json), o);
}

void ExpectValid(Event e, const ValidationOptions& o = {}) {
  Status s = ValidateEvent(&e, o);
  EXPECT_TRUE(s.ok()) << s.message() << " in " << EncodeEvent(e);
}

void ExpectValidProperties(std::string_view json, const ValidationOptions& o = {}) {
  ExpectValid(WithProperties(json), o);
}

TEST(IsUuidV7, AcceptsCanonicalVersion7Only) {
  EXPECT_TRUE(IsUuidV7("0193303e-3731-7c11-add4-51b26bcefab3"));
  EXPECT_TRUE(IsUuidV7("0193303E-3731-7C11-ADD4-51B26BCEFAB3"));
  EXPECT_TRUE(IsUuidV7("0193303e-3731-7c11-8dd4-51b26bcefab3"));
  EXPECT_FALSE(IsUuidV7("0193303e-3731-4c11-add4-51b26bcefab3"));  // version 4
  EXPECT_FALSE(IsUuidV7("0193303e-3731-7c11-cdd4-51b26bcefab3"));  // not the RFC variant
  EXPECT_FALSE(IsUuidV7("0193303e37317c11add451b26bcefab3"));      // no hyphens
  EXPECT_FALSE(IsUuidV7("{0193303e-3731-7c11-add4-51b26bcefab3}"));
  EXPECT_FALSE(IsUuidV7("0193303e-3731-7c11-add4-51b26bcefab"));
  EXPECT_FALSE(IsUuidV7("0193303g-3731-7c11-add4-51b26bcefab3"));
  EXPECT_FALSE(IsUuidV7("0193303e_3731-7c11-add4-51b26bcefab3"));
  EXPECT_FALSE(IsUuidV7(""));
}

// IsUuidV7 checks 8 bytes at a time: it agrees with a check of one character at a time on every
// byte value at every position of an id, in either case.
TEST(IsUuidV7, AgreesWithACharacterByCharacterCheckOnEveryByteEverywhere) {
  auto reference = [](std::string_view s) {
    if (s.size() != 36) return false;
    for (size_t i = 0; i < 36; ++i) {
      const char c = s[i];
      const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
      const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
      if (dash ? c != '-' : !hex) return false;
    }
    return s[14] == '7' && std::string_view("89abAB").find(s[19]) != std::string_view::npos;
  };
  size_t accepted = 0;
  for (const std::string base :
       {"0193303e-3731-7c11-add4-51b26bcefab3", "0193303E-3731-7C11-BDD4-51B26BCEFAB3"}) {
    for (size_t i = 0; i < base.size(); ++i) {
      for (int b = 0; b < 256; ++b) {
        std::string id = base;
        id[i] = static_cast<char>(b);
        ASSERT_EQ(IsUuidV7(id), reference(id)) << id << " (byte " << b << " at " << i << ")";
        accepted += reference(id);
      }
    }
    EXPECT_FALSE(IsUuidV7(base.substr(0, 35)));
    EXPECT_FALSE(IsUuidV7(base + "0"));
  }
  EXPECT_GT(accepted, 1000u);
}

// The 8-bytes-at-a-time lower-casing, with an upper-case letter at each place.
TEST(ValidateEvent, LowerCasesEachHexLetterOfTheIdWhereverItIs) {
  const std::string lower = "0193303e-3731-7c11-add4-51b26bcefab3";
  for (size_t i = 0; i < lower.size(); ++i) {
    for (char letter : std::string("abcdef")) {
      if (lower[i] == '-' || i == 14) continue;
      if (i == 19 && letter > 'b') continue;  // the variant
      Event e = GoodEvent();
      e.event_id = lower;
      e.event_id[i] = static_cast<char>(letter - 'a' + 'A');
      ASSERT_TRUE(ValidateEvent(&e, {}).ok()) << e.event_id;
      std::string want = lower;
      want[i] = letter;
      EXPECT_EQ(e.event_id, want);
    }
  }
}

TEST(ValidateEvent, AcceptsAGoodEventAndLowerCasesItsId) {
  Event e = GoodEvent();
  e.event_id = "0193303E-3731-7C11-ADD4-51B26BCEFAB3";
  ASSERT_TRUE(ValidateEvent(&e, {}).ok());
  EXPECT_EQ(e.event_id, "0193303e-3731-7c11-add4-51b26bcefab3");
}

TEST(ValidateEvent, EventIdMustBeAUuidV7) {
  Event e = GoodEvent();
  e.event_id = "";
  EXPECT_EQ(ErrorOf(e), "event_id: is required (a UUIDv7)");
  e.event_id = "6fa459ea-ee8a-3ca4-894e-db77e160355e";
  EXPECT_EQ(
      ErrorOf(e),
      R"(event_id: must be a UUIDv7 (8-4-4-4-12 hex digits, version 7), got "6fa459ea-ee8a-3ca4-894e-db77e160355e")");
}

TEST(ValidateEvent, NameMustBeNonEmptyAndBounded) {
  Event e = GoodEvent();
  e.name = "";
  EXPECT_EQ(ErrorOf(e), "name: must not be empty");
  e.name = std::string(255, 'x');
  ExpectValid(e);
  e.name = std::string(256, 'x');
  EXPECT_EQ(ErrorOf(e), "name: longer than 255 characters (256)");
  // Code points, not bytes: 255 two-byte characters are fine.
  e.name.clear();
  for (int i = 0; i < 255; ++i) e.name += "\xC3\xA9";
  ExpectValid(e);
  e.name += "\xC3\xA9";
  EXPECT_EQ(ErrorOf(e), "name: longer than 255 characters (256)");
  // Names are never truncated, even under kTruncate.
  ValidationOptions truncate;
  truncate.overlong_strings = OverlongString::kTruncate;
  EXPECT_EQ(ErrorOf(e, truncate), "name: longer than 255 characters (256)");
  e.name = "caf\xC3(";
  EXPECT_EQ(ErrorOf(e), "name: must be valid UTF-8");
}

TEST(ValidateEvent, IdsAreBoundedAndOneIdentityIsRequired) {
  Event e = GoodEvent();
  e.user_id = "";
  EXPECT_EQ(ErrorOf(e),
            "user_id: required when there is no anonymous_id (the event could not be attributed)");
  e.anonymous_id = "anon-1";
  ExpectValid(e);
  ValidationOptions o;
  o.max_id_chars = 8;
  e.session_id = "123456789";
  EXPECT_EQ(ErrorOf(e, o), "session_id: longer than 8 characters (9)");
  e.session_id = "";
  e.anonymous_id = "anon-123456";
  EXPECT_EQ(ErrorOf(e, o), "anonymous_id: longer than 8 characters (11)");
  e.anonymous_id = "a";
  e.user_id = std::string(9, 'u');
  EXPECT_EQ(ErrorOf(e, o), "user_id: longer than 8 characters (9)");
  e.user_id = "\xFF";
  EXPECT_EQ(ErrorOf(e, o), "user_id: must be valid UTF-8");
}

TEST(ValidateEvent, CreatedAtIsBounded) {
  Event e = GoodEvent();
  e.created_at_ms = 946684800000;
  ExpectValid(e);
  e.created_at_ms = 946684799999;
  EXPECT_EQ(ErrorOf(e),
            "created_at: must be within [946684800000, 253402300799999] ms since epoch, got "
            "946684799999");
  e.created_at_ms = 253402300800000;
  EXPECT_EQ(ErrorOf(e),
            "created_at: must be within [946684800000, 253402300799999] ms since epoch, got "
            "253402300800000");
}

TEST(ValidateEvent, PropertiesAndContextMustBeObjects) {
  Event e = GoodEvent();
  e.properties = Json::MakeArray();
  EXPECT_EQ(ErrorOf(e), "properties: must be an object, got an array");
  e = GoodEvent();
  e.context = Json::Null();
  EXPECT_EQ(ErrorOf(e), "context: must be an object, got null");
}

TEST(ValidateEvent, KeysMayHoldPunctuationButNotBeEmpty) {
  ExpectValidProperties(R"({"source.submitted":1,"$price":2,"a-b c/d:e":3,"ünï":4})");
  EXPECT_EQ(PropertyError(R"({"":1})"), "properties: keys must not be empty");
  EXPECT_EQ(PropertyError(R"({"a":{"":1}})"), "properties.a: keys must not be empty");
  Event e = GoodEvent();
  e.context.Set("", Json::Null());
  EXPECT_EQ(ErrorOf(e), "context: keys must not be empty");
  e = GoodEvent();
  e.properties.Set("bad\xC3", Json::Null());
  EXPECT_EQ(ErrorOf(e), "properties: keys must be valid UTF-8");
}

TEST(ValidateEvent, CountsAreBounded) {
  std::string fifty = "{";
  for (int i = 0; i < 50; ++i) fifty += "\"p" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  fifty.back() = '}';
  ExpectValidProperties(fifty);
  std::string fifty_one = fifty;
  fifty_one.back() = ',';
  fifty_one += "\"p50\":50}";
  Event e = WithProperties(fifty_one);
  Status s = ValidateEvent(&e, {});
  EXPECT_EQ(s.code(), Code::kTooLarge);
  EXPECT_EQ(s.message(), "properties: more than 50 properties (51)");
  // Intercom's strict preset: five properties.
  EXPECT_EQ(PropertyError(R"({"a":1,"b":2,"c":3,"d":4,"e":5,"f":6})",
                          ValidationOptions::IntercomStrict()),
            "properties: more than 5 properties (6)");
  ValidationOptions o;
  o.max_members = 3;
  ExpectValidProperties(R"({"list":[1,2,3],"obj":{"a":1,"b":2,"c":3}})", o);
  EXPECT_EQ(PropertyError(R"({"list":[1,2,3,4]})", o), "properties.list: more than 3 elements (4)");
  EXPECT_EQ(PropertyError(R"({"o":{"a":1,"b":2,"c":3,"d":4}})", o),
            "properties.o: more than 3 members (4)");
  e = GoodEvent();
  for (int i = 0; i < 4; ++i) e.context.Set("c" + std::to_string(i), Json::Number(i));
  EXPECT_EQ(ErrorOf(e, o), "context: more than 3 members (4)");
}

TEST(ValidateEvent, NestingIsBounded) {
  // properties itself is depth 1; five levels are allowed by default.
  ExpectValidProperties(R"({"a":{"b":[{"c":[1]}]}})");
  EXPECT_EQ(PropertyError(R"({"a":{"b":[{"c":[[1]]}]}})"),
            "properties.a.b[0].c[0]: nested deeper than 5 levels");
  EXPECT_EQ(PropertyError(R"({"a":{"b":{"c":1}}})", ValidationOptions::IntercomStrict()),
            "properties.a.b: nested deeper than 2 levels");
  // Money still fits Intercom's strict depth.
  ExpectValidProperties(R"({"price":{"amount":1999,"currency":"EUR"}})",
                        ValidationOptions::IntercomStrict());
  Event e = GoodEvent();
  Json deep = Json::Number(1);
  for (int i = 0; i < 6; ++i) {
    Json a = Json::MakeArray();
    a.Append(std::move(deep));
    deep = std::move(a);
  }
  e.context.Set("d", deep);
  EXPECT_EQ(ErrorOf(e), "context.d[0][0][0][0]: nested deeper than 5 levels");
}

TEST(ValidateEvent, NumbersMustBeFinite) {
  Event e = GoodEvent();
  e.properties.Set("price", Json::Number(std::nan("")));
  EXPECT_EQ(ErrorOf(e), "properties.price: must be a finite number");
  e = GoodEvent();
  Json list = Json::MakeArray();
  list.Append(Json::Number(1));
  list.Append(Json::Number(INFINITY));
  e.context.Set("xs", list);
  EXPECT_EQ(ErrorOf(e), "context.xs[1]: must be a finite number");
}

TEST(ValidateEvent, MoneyNeedsAFiniteAmountAndAnIsoCurrency) {
  ExpectValidProperties(
      R"({"price":{"amount":1999,"currency":"EUR"},"r":{"currency":"JPY","amount":-5.5}})");
  ExpectValidProperties(R"({"items":[{"sku":"a","price":{"amount":1,"currency":"CHF"}}]})");
  EXPECT_EQ(PropertyError(R"({"price":{"amount":1999,"currency":"EURO"}})"),
            R"(properties.price.currency: must be an ISO 4217 currency code, got "EURO")");
  EXPECT_EQ(PropertyError(R"({"price":{"amount":1999,"currency":"eur"}})"),
            R"(properties.price.currency: must be an ISO 4217 currency code, got "eur")");
  EXPECT_EQ(PropertyError(R"({"price":{"amount":1999,"currency":"ABC"}})"),
            R"(properties.price.currency: must be an ISO 4217 currency code, got "ABC")");
  EXPECT_EQ(PropertyError(R"({"price":{"amount":1999,"currency":978}})"),
            "properties.price.currency: must be an ISO 4217 currency code, got a number");
  EXPECT_EQ(PropertyError(R"({"price":{"amount":"19.99","currency":"USD"}})"),
            "properties.price.amount: must be a finite number, got a string");
  EXPECT_EQ(PropertyError(R"({"price":{"amount":1,"currency":"USD","tax":0}})"),
            "properties.price: a money value must have exactly the members amount and currency");
  for (const char* code : {"AED", "USD", "GBP", "JPY", "XAU", "ZWL", "CHF", "INR", "BRL"}) {
    ExpectValidProperties(std::string(R"({"p":{"amount":1,"currency":")") + code + "\"}}");
  }
  for (const char* code : {"XXX", "XTS", "AAA", "ZZZ", "US", "USDD", ""}) {
    EXPECT_NE(PropertyError(std::string(R"({"p":{"amount":1,"currency":")") + code + "\"}}"), "")
        << code;
  }
}

TEST(ValidateEvent, RichLinksNeedAnHttpUrl) {
  ExpectValidProperties(R"({"article":{"url":"https://example.com/a","value":"Read me"}})");
  EXPECT_EQ(PropertyError(R"({"article":{"url":"ftp://example.com/a","value":"x"}})"),
            R"(properties.article.url: must be an http or https URL, got "ftp://example.com/a")");
  EXPECT_EQ(PropertyError(R"({"article":{"url":"https://","value":"x"}})"),
            R"(properties.article.url: a link must have a host, got "https://")");
  EXPECT_EQ(PropertyError(R"({"article":{"url":"https://a.b","value":3}})"),
            "properties.article.value: must be a string, got a number");
}

TEST(ValidateEvent, DateStringsMustBeRealDates) {
  ExpectValidProperties(
      R"({"a":"2024-11-20","b":"2024-11-20T00:00:00Z","c":"2024-02-29","d":"2000-02-29T23:59:59.999+05:30",)"
      R"("e":"2024-11-15T14:32Z","f":"2024-11-15T14:32:00","g":"2024-12-31T23:59:60-08:00","h":"not a date",)"
      R"("i":"2024-1-5","j":"20241115"})");
  const char* bad[] = {
      "2024-13-01",
      "2024-00-10",
      "2024-11-31",
      "2023-02-29",
      "1900-02-29",
      "2024-11-00",
      "2024-11-15T24:00Z",
      "2024-11-15T12:60Z",
      "2024-11-15T12:00:61Z",
      "2024-11-15T12",
      "2024-11-15T12:00:00.Z",
      "2024-11-15T12:00+5",
      "2024-11-15T12:00+24:00",
      "2024-11-15 12:00",
      "2024-11-15x",
      "2024-11-15T12:00Zx",
  };
  for (const char* s : bad) {
    EXPECT_EQ(
        PropertyError(std::string(R"({"when":")") + s + "\"}"),
        std::string("properties.when: must be a valid ISO 8601 date (YYYY-MM-DD) or date-time "
                    "(YYYY-MM-DDThh:mm[:ss[.fff]][Z|+hh:mm]), got \"") +
            s + "\"");
  }
}

TEST(ValidateEvent, LinkStringsMustBeWellFormed) {
  ExpectValidProperties(
      R"({"a":"https://shop.example.com/r/77812","b":"http://localhost:8080/x?y=1#z",)"
      R"("c":"HTTPS://EXAMPLE.COM","d":"https://user:pw@host.example/","e":"http://[::1]:3000/",)"
      R"("f":"https://例え.jp/パス","g":"httpx is not a link"})");
  EXPECT_EQ(
      PropertyError(R"({"u":"https://exa mple.com"})"),
      R"(properties.u: a link must not contain spaces or control characters, got "https://exa mple.com")");
  EXPECT_EQ(
      PropertyError(R"({"u":"https://a.com/\t"})"),
      R"(properties.u: a link must not contain spaces or control characters, got "https://a.com/\u0009")");
  EXPECT_EQ(PropertyError(R"({"u":"http:///path"})"),
            R"(properties.u: a link must have a host, got "http:///path")");
  EXPECT_EQ(PropertyError(R"({"u":"https://user@:80/"})"),
            R"(properties.u: a link must have a host, got "https://user@:80/")");
  EXPECT_EQ(PropertyError(R"({"u":"https://host:http/"})"),
            R"(properties.u: a link must have a numeric port, got "https://host:http/")");
  EXPECT_EQ(PropertyError(R"({"u":"https://[::1/"})"),
            R"(properties.u: a link must have a host, got "https://[::1/")");
}

TEST(ValidateEvent, TypedRulesApplyToPropertiesNotContext) {
  Event e = GoodEvent();
  Result<Json> ctx = ParseJson(
      R"({"page":{"url":"https://x y"},"note":"2024-99-99","m":{"amount":1,"currency":"NOPE"}})");
  e.context = ctx.value();
  ExpectValid(e);
}

TEST(ValidateEvent, OverlongStringsAreRejectedOrTruncated) {
  std::string long_value(300, 'n');
  Event e = GoodEvent();
  e.properties.Set("note", Json::String(long_value));
  EXPECT_EQ(ErrorOf(e), "properties.note: longer than 255 characters (300)");

  ValidationOptions truncate;
  truncate.overlong_strings = OverlongString::kTruncate;
  ASSERT_TRUE(ValidateEvent(&e, truncate).ok());
  EXPECT_EQ(e.properties.Find("note")->as_string(), std::string(255, 'n'));

  // Truncation cuts on a code point boundary: 254 ASCII + a 4-byte emoji + more.
  std::string mixed = std::string(254, 'a') + "\xF0\x9F\x98\x80" + "\xC3\xA9tail";
  e = GoodEvent();
  e.properties.Set("items", Json::MakeArray());
  e.properties.Find("items")->Append(Json::String(mixed));
  ASSERT_TRUE(ValidateEvent(&e, truncate).ok());
  const std::string& cut = e.properties.Find("items")->as_array()[0].as_string();
  EXPECT_EQ(cut, std::string(254, 'a') + "\xF0\x9F\x98\x80");
  EXPECT_TRUE(IsValidUtf8(cut));

  // Context strings have their own, larger limit.
  e = GoodEvent();
  e.context.Set("user_agent", Json::String(std::string(2048, 'u')));
  ExpectValid(e);
  e.context.Set("user_agent", Json::String(std::string(2049, 'u')));
  EXPECT_EQ(ErrorOf(e), "context.user_agent: longer than 2048 characters (2049)");
  ASSERT_TRUE(ValidateEvent(&e, truncate).ok());
  EXPECT_EQ(e.context.Find("user_agent")->as_string().size(), 2048u);

  // Invalid UTF-8 in a value built in code (the parser already refuses it in text).
  e = GoodEvent();
  e.properties.Set("v", Json::String("\xED\xA0\x80"));
  EXPECT_EQ(ErrorOf(e), "properties.v: must be valid UTF-8");
}

// The size rule adds up the encoding's parts (so the documents' text can be handed back); with
// a context it must still count exactly EncodeEvent's bytes.
TEST(ValidateEvent, EncodedSizeWithAContextIsExactAndTheDocumentsComeBack) {
  Event e = GoodEvent();
  e.properties.Set("plan", Json::String("pro"));
  e.context.Set("page", Json::String("/pricing \"a\"\n"));
  const size_t size = EncodeEvent(e).size();
  ValidationOptions o;
  o.max_event_bytes = size;
  EventDocsJson docs;
  Event at_limit = e;
  ASSERT_TRUE(ValidateEvent(&at_limit, o, &docs).ok());
  EXPECT_EQ(docs.properties, R"({"plan":"pro"})");
  EXPECT_EQ(docs.context, R"({"page":"/pricing \"a\"\n"})");
  o.max_event_bytes = size - 1;
  Event over = e;
  Status s = ValidateEvent(&over, o, &docs);
  EXPECT_EQ(s.code(), Code::kTooLarge);
  EXPECT_EQ(s.message(), "event: encoded size " + std::to_string(size) +
                             " bytes is over the limit of " + std::to_string(size - 1));
}

TEST(ValidateEvent, EncodedSizeIsBounded) {
  ValidationOptions o;
  o.max_string_chars = 1 << 20;
  o.max_event_bytes = 1000;
  Event e = GoodEvent();
  const size_t base = EncodeEvent(e).size();  // with properties {}
  const std::string filler = R"({"f":""})";
  // {"f":"xxx"} replaces {} in the encoding: exactly at the limit is fine, one more is not.
  e.properties.Set("f", Json::String(std::string(1000 - base - (filler.size() - 2), 'x')));
  ExpectValid(e, o);
  EXPECT_EQ(EncodeEvent(e).size(), 1000u);
  e.properties.Set("f", Json::String(std::string(1000 - base - (filler.size() - 2) + 1, 'x')));
  Status s = ValidateEvent(&e, o);
  EXPECT_EQ(s.code(), Code::kTooLarge);
  EXPECT_EQ(s.message(), "event: encoded size 1001 bytes is over the limit of 1000");
  // The default is 32 KB: a megabyte string under kTruncate ends well inside it.
  ValidationOptions truncate;
  truncate.overlong_strings = OverlongString::kTruncate;
  e = GoodEvent();
  e.properties.Set("huge", Json::String(std::string(1 << 20, 'h')));
  ExpectValid(e, truncate);
}

TEST(ValidateEvent, HostileKeysAreCutInMessages) {
  Event e = GoodEvent();
  std::string key(1 << 20, 'k');
  e.properties.Set(key, Json::Number(NAN));
  std::string msg = ErrorOf(e);
  EXPECT_EQ(msg, "properties." + std::string(64, 'k') + "...: must be a finite number");
}

}  // namespace
}  // namespace tally
