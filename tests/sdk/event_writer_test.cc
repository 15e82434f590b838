// The EventWriter (one streaming pass) must agree with the document path it replaces in the
// browser core, EncodeEvent(ValidateEvent(DecodeEvent(text))): same verdict, same message, same
// bytes. Checked over the seed events, the Node round-trip extras, the bad-batch fixtures, every
// JSON literal of the core's own validation, codec and JSON tests (as properties, as context and
// as whole events), every prefix of a few events (JSON faults at each byte), and several option
// sets. fuzz/fuzz_event_writer.cc does the same on generated input.
#include "tally/event_writer.h"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "fake_clock.h"
#include "string_cases.h"
#include "tally/codec.h"
#include "tally/json.h"
#include "tally/tracker.h"
#include "tally/validate.h"

namespace tally {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  for (std::string line; std::getline(ss, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

// Raw string literals R"(...)" of a test source: the JSON the core's tests feed it.
std::vector<std::string> RawLiterals(const std::string& path) {
  const std::string src = ReadFile(path);
  std::vector<std::string> out;
  for (size_t at = src.find("R\"("); at != std::string::npos; at = src.find("R\"(", at + 3)) {
    const size_t end = src.find(")\"", at + 3);
    if (end == std::string::npos) break;
    out.push_back(src.substr(at + 3, end - at - 3));
  }
  return out;
}

std::vector<ValidationOptions> OptionSets() {
  std::vector<ValidationOptions> sets(1);
  ValidationOptions truncate;
  truncate.overlong_strings = OverlongString::kTruncate;
  truncate.max_string_chars = 2;
  truncate.max_context_string_chars = 4;
  sets.push_back(truncate);
  sets.push_back(ValidationOptions::IntercomStrict());
  ValidationOptions tight;
  tight.max_members = 2;
  tight.max_depth = 2;
  tight.max_properties = 1;
  tight.max_event_bytes = 200;
  tight.max_name_chars = 3;
  tight.max_id_chars = 5;
  sets.push_back(tight);
  return sets;
}

// What the document path makes of `text`: status, and the encoded event when accepted.
Status DocumentPath(std::string_view text, const ValidationOptions& o, std::string* out) {
  out->clear();
  Result<Event> event = DecodeEvent(text);
  if (!event.ok()) return event.status();
  Status s = ValidateEvent(&event.value(), o);
  if (s.ok()) *out = EncodeEvent(event.value());
  return s;
}

// Number of texts checked, for the test log.
size_t CheckAgree(const std::vector<std::string>& texts) {
  size_t n = 0;
  for (const ValidationOptions& o : OptionSets()) {
    EventWriter writer(o);  // reused across texts, as the tracker does
    for (const std::string& text : texts) {
      std::string want, got;
      const Status a = DocumentPath(text, o, &want);
      const Status b = writer.Write(text, &got);
      EXPECT_EQ(a.code(), b.code())
          << text << "\n doc: " << a.message() << "\n str: " << b.message();
      EXPECT_EQ(a.message(), b.message()) << text;
      if (a.ok() && b.ok()) {
        EXPECT_EQ(want, got) << text;
      }
      ++n;
    }
  }
  return n;
}

const char kBase[] =
    R"({"event_id":"0193303e-3731-7c11-add4-51b26bcefab3","type":"track","name":"n",)"
    R"("anonymous_id":"a","created_at":1731681204017)";

// `value` as properties, as context, and as a member value inside properties.
std::vector<std::string> Embedded(const std::vector<std::string>& values) {
  std::vector<std::string> out;
  for (const std::string& v : values) {
    out.push_back(std::string(kBase) + ",\"properties\":" + v + "}");
    out.push_back(std::string(kBase) + ",\"context\":" + v + "}");
    out.push_back(std::string(kBase) + ",\"properties\":{\"k\":" + v + ",\"z\":1}}");
    out.push_back(std::string(kBase) + ",\"context\":{\"k\":" + v + "},\"properties\":{\"x\":" + v +
                  "}}");
    out.push_back(v);
  }
  return out;
}

TEST(EventWriter, AgreesWithTheDocumentPathOnSeedAndRoundTripEvents) {
  std::vector<std::string> texts = Lines(ReadFile(TALLY_FIXTURES_DIR "/seed-events.ndjson"));
  for (const std::string& l :
       Lines(ReadFile(TALLY_SOURCE_DIR "/tests/js/core/roundtrip-extra.ndjson"))) {
    texts.push_back(l);
  }
  ASSERT_GT(texts.size(), 20u);
  EXPECT_GT(CheckAgree(texts), 80u);
}

TEST(EventWriter, AgreesOnTheEventsOfTheBadBatchFixtures) {
  std::vector<std::string> texts;
  for (const char* name :
       {"bad-event-id", "created-at-string", "deep-nesting", "huge-string-value", "invalid-utf8",
        "missing-event-id", "missing-key", "name-too-long", "nan-number", "negative-created-at"}) {
    const std::string body =
        ReadFile(std::string(TALLY_FIXTURES_DIR "/bad-batches/") + name + ".json");
    Result<Json> parsed = ParseJson(body);
    if (!parsed.ok()) {
      texts.push_back(body);  // the body's own fault, as an event text
      continue;
    }
    const Json* events = parsed.value().Find("events");
    if (events == nullptr || !events->is_array()) continue;
    for (const Json& e : events->as_array()) texts.push_back(ToJsonString(e));
  }
  CheckAgree(texts);
}

TEST(EventWriter, AgreesOnEveryJsonLiteralOfTheCoreTests) {
  std::vector<std::string> literals;
  for (const char* file :
       {"validate_test.cc", "codec_test.cc", "json_test.cc", "tracker_test.cc"}) {
    for (const std::string& l : RawLiterals(std::string(TALLY_SOURCE_DIR "/tests/sdk/") + file)) {
      literals.push_back(l);
    }
  }
  ASSERT_GT(literals.size(), 50u);
  CheckAgree(Embedded(literals));
}

TEST(EventWriter, AgreesOnHandPickedRuleCases) {
  const std::vector<std::string> values = {
      R"({"price":{"amount":19.99,"currency":"EUR"}})",
      R"({"price":{"amount":19.99,"currency":"EURO"}})",
      R"({"price":{"amount":"19.99","currency":"EUR"}})",
      R"({"price":{"amount":1,"currency":5}})",
      R"({"price":{"amount":1,"currency":"EUR","x":"2024-13-01"}})",
      R"({"price":{"x":"2024-13-01","amount":1,"currency":"EUR"}})",
      R"({"price":{"currency":"USD","amount":{"deep":[1,2,{"a":"2024-02-30"}]}}})",
      R"({"l":{"url":"https://x.io/a","value":"shown"}})",
      R"({"l":{"value":"shown","url":"ftp://x.io"}})",
      R"({"l":{"url":5,"value":"shown"}})",
      R"({"l":{"url":"https://","value":"x"}})",
      R"({"l":{"url":"https://x","value":"x","more":1}})",
      R"({"d":"2024-02-29","e":"2023-02-29","f":"2024-01-01T25:00"})",
      R"({"u":"http://a b","v":"https://h:port/","w":"HTTPS://ok.example:8080/x"})",
      R"({"":1})",
      R"({"a":{"":1}})",
      R"({"a":[[[[[[1]]]]]]})",
      R"({"a":{"b":{"c":{"d":{"e":{"f":1}}}}}})",
      R"({"a":[1,2,3],"b":{"x":1,"y":2,"z":3}})",
      R"({"s":"abcdef","t":"é€𝄞xyz","c":{"amount":1,"currency":"EUR"}})",
      R"({"a":1,"b":2,"c":3,"d":4,"e":5,"f":6})",
      R"({"big":1e300,"neg":-0.0,"third":0.3333333333333333,"i":9007199254740993})",
      R"({"ctl":"\u0001\t\"\\/"})",
      R"([1,2])",
      R"("str")",
      R"(5)",
      R"(null)",
  };
  CheckAgree(Embedded(values));
}

// The pass copies a token's input text when it is what the writer would write (event_writer.cc,
// RunWriter): strings with and without escapes, UTF-8 and faults at every place around the
// reader's 8-byte steps (string_cases.h), as values, keys, names and ids.
TEST(EventWriter, AgreesOnStringsOfEveryLengthWithEachPieceAnywhere) {
  std::vector<std::string> values, texts;
  for (const testing::StringCase& c : testing::StringCases()) {
    values.push_back(c.json);
    values.push_back("{" + c.json + ":1,\"z\":[" + c.json + "]}");
    texts.push_back(std::string(kBase) + ",\"user_id\":" + c.json + "}");
    texts.push_back(R"({"event_id":"0193303e-3731-7c11-add4-51b26bcefab3","name":)" + c.json +
                    R"(,"anonymous_id":"a","created_at":1731681204017})");
  }
  CheckAgree(Embedded(values));
  CheckAgree(texts);
}

// Numbers and literals are copied when their text is WriteNumber's (an integer of at most 15
// digits, not -0); whitespace anywhere breaks a copied run; money's currency is edited in place.
TEST(EventWriter, AgreesOnNumbersLiteralsAndWhitespace) {
  const std::vector<std::string> values = {
      "0",
      "-0",
      "7",
      "-7",
      "1.0",
      "1e2",
      "1E+2",
      "0.5",
      "-0.0",
      "100000000000000",
      "123456789012345",
      "-123456789012345",
      "1234567890123456",
      "9007199254740993",
      "1e400",
      "true",
      "false",
      "null",
      " 1 ",
      "\t\r\n[ 1 ,\n-0 , 2.50 ]",
      R"({ "a" : 1 , "b" : [ true , null , false ] , "c" : { } , "d" : [ ] })",
      R"({"amount":5,"currency":"EUR"})",
      R"({ "amount" : 5 , "currency" : "EUR" })",
      R"({"currency":"EUR","x":1})",
      R"({"x":1, "currency" :"EURO"})",
      R"({"currency":"E\u0055R","amount":1})",
      R"({"c":{"currency":"EUR"},"d":"EUR"})",
      R"({"url":"https://a.b" ,"value":"x"})",
      R"({"\u0064":"2024-13-01","k\"q":{"x":"2024-02-30"},"\u00e9":[{"y\n":"http://a b"}]})",
      R"({"m":{"\u0061mount":1,"curr\u0065ncy":"EURO"},"l":{"\u0075rl":"ftp://x","value":"v"}})"};
  CheckAgree(Embedded(values));
  // Whitespace after each piece of punctuation of a rich event, in turn.
  const std::string full =
      std::string(kBase) +
      R"(,"properties":{"p":{"amount":1.5,"currency":"EUR"},"l":[1,"x",true,null,{"a":"b"}],)"
      R"("m":{"currency":"USD","amount":2}},"context":{"page":{"url":"https://e.x/?q=1"}}})";
  std::vector<std::string> texts;
  for (size_t i = 0; i < full.size(); ++i) {
    if (std::string(",:{}[]").find(full[i]) == std::string::npos) continue;
    texts.push_back(full.substr(0, i) + " " + full.substr(i));
    texts.push_back(full.substr(0, i + 1) + "\n\t" + full.substr(i + 1));
  }
  CheckAgree(texts);
}

TEST(EventWriter, AgreesOnTopLevelFields) {
  const std::vector<std::string> texts = {
      R"({"name":"n","anonymous_id":"a","created_at":1731681204017})",
      R"({"event_id":null,"name":"n","anonymous_id":"a","created_at":1731681204017})",
      R"({"event_id":"0193303E-3731-7C11-ADD4-51B26BCEFAB3","name":"n","user_id":"u","created_at":1731681204017})",
      R"({"event_id":"0193303e-3731-4c11-add4-51b26bcefab3","name":"n","user_id":"u","created_at":1731681204017})",
      R"({"event_id":5,"name":"n","user_id":"u","created_at":1731681204017})",
      R"({"event_id":"0193303e-3731-7c11-add4-51b26bcefab3","name":"","user_id":"u","created_at":1})",
      R"({"event_id":"0193303e-3731-7c11-add4-51b26bcefab3","name":"n","created_at":1731681204017})",
      R"({"event_id":"0193303e-3731-7c11-add4-51b26bcefab3","name":"n","user_id":"u","created_at":1.5})",
      R"({"event_id":"0193303e-3731-7c11-add4-51b26bcefab3","name":"n","user_id":"u","created_at":"1"})",
      R"({"event_id":"0193303e-3731-7c11-add4-51b26bcefab3","name":"n","user_id":"u","created_at":null})",
      R"({"event_id":"0193303e-3731-7c11-add4-51b26bcefab3","name":null,"user_id":"u","created_at":1731681204017})",
      R"({"event_id":"0193303e-3731-7c11-add4-51b26bcefab3","name":{"a":[1]},"user_id":"u","created_at":1731681204017})",
      R"({"event_id":"0193303e-3731-7c11-add4-51b26bcefab3","type":"page","name":"n","user_id":"u","session_id":"s","created_at":1731681204017})",
      R"({"event_id":"0193303e-3731-7c11-add4-51b26bcefab3","type":"pageview","name":"n","user_id":"u","created_at":1731681204017})",
      R"({"event_id":"0193303e-3731-7c11-add4-51b26bcefab3","type":null,"name":"n","user_id":"u","created_at":1731681204017,"properties":null,"context":null})",
      R"({"event_id":"0193303e-3731-7c11-add4-51b26bcefab3","name":"n","user_id":"u","created_at":1731681204017,"extra":{"x":[1,2]}})",
      R"({"extra":1,"name":5})",
      R"({"name":5,"extra":1,"properties":{"a":NaN}})",
      R"({"context":{"page":{"url":"https://x"}},"properties":{"a":"2024-99-99"},"event_id":"0193303e-3731-7c11-add4-51b26bcefab3","name":"n","user_id":"u","created_at":1731681204017})",
      R"({"context":{"":1},"properties":{"a":"2024-99-99"},"event_id":"0193303e-3731-7c11-add4-51b26bcefab3","name":"n","user_id":"u","created_at":1731681204017})",
      R"({"properties":[],"name":"n"})",
      R"({"name":"n","name":"m"})",
      R"({"properties":{"a":1,"a":2}})",
      R"(  {"name":"n"}  x)",
      R"([])",
      R"()",
      "{\"name\":\"\xff\"}",
  };
  CheckAgree(texts);
}

TEST(EventWriter, AgreesOnEveryPrefixOfAnEvent) {
  std::vector<std::string> texts;
  const std::vector<std::string> seeds = Lines(ReadFile(TALLY_FIXTURES_DIR "/seed-events.ndjson"));
  ASSERT_FALSE(seeds.empty());
  const std::string full =
      std::string(kBase) +
      R"(,"properties":{"p":{"amount":1.5,"currency":"EUR"},"l":[1,"x",true,null,{"a":"\u00e9\ud83d\ude00"}]},"context":{"page":{"url":"https://e.x/?q=1"}}})";
  for (const std::string& event : {seeds.front(), full}) {
    for (size_t i = 0; i <= event.size(); ++i) texts.push_back(event.substr(0, i));
  }
  CheckAgree(texts);
}

TEST(EventWriter, WritesAnEventWithoutTouchingTheDocumentParser) {
  EventWriter writer(ValidationOptions{});
  std::string out;
  ASSERT_TRUE(writer.Write(std::string(kBase) + R"(,"properties":{"b":true}})", &out).ok());
  EXPECT_EQ(out, R"({"event_id":"0193303e-3731-7c11-add4-51b26bcefab3","type":"track","name":"n",)"
                 R"("anonymous_id":"a","created_at":1731681204017,"properties":{"b":true}})");
  EXPECT_EQ(writer.event_id(), "0193303e-3731-7c11-add4-51b26bcefab3");
  EXPECT_EQ(writer.created_at_ms(), 1731681204017);
}

TEST(EventWriter, FillMintsAMissingIdAndTimeAsTrackDoes) {
  CountingRandom random;
  UuidV7Generator ids(&random);
  EventWriter writer(ValidationOptions{});
  EventWriter::Fill fill{&ids, 1731681204017};
  std::string out;
  ASSERT_TRUE(writer.Write(R"({"name":"n","anonymous_id":"a","event_id":null})", &out, &fill).ok());
  EXPECT_TRUE(IsUuidV7(writer.event_id()));
  EXPECT_EQ(writer.created_at_ms(), 1731681204017);
  EXPECT_EQ(writer.Write(R"("x")", &out, &fill).message(), "event: must be a JSON object");
  EXPECT_EQ(writer.Write(R"("x")", &out).message(), "event: must be an object, got \"x\"");
}

}  // namespace
}  // namespace tally
