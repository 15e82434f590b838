#include "tally/codec.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "string_cases.h"
#include "tally/validate.h"

namespace tally {
namespace {

std::string ReadFixture(const std::string& name) {
  std::ifstream in(std::string(TALLY_FIXTURES_DIR) + "/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> SeedLines() {
  std::vector<std::string> lines;
  std::istringstream in(ReadFixture("seed-events.ndjson"));
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

Event SampleEvent() {
  Event e;
  e.event_id = "0193303e-3731-7c11-add4-51b26bcefab3";
  e.type = EventType::kPage;
  e.name = "Viewed page";
  e.user_id = "C-1";
  e.anonymous_id = "anon-1";
  e.session_id = "s-1";
  e.created_at_ms = 1731681204017;
  e.properties.Set("title", Json::String("Trail runner \xE2\x80\x94 Shop"));
  e.context.Set("page", Json::MakeObject());
  return e;
}

std::string DecodeErrorOf(std::string_view text) {
  Result<Event> r = DecodeEvent(text);
  EXPECT_FALSE(r.ok()) << text;
  return r.status().message();
}

// Decodes a batch that must be accepted as a whole.
DecodedBatch MustDecode(std::string_view body, const BatchLimits& limits = {}) {
  DecodedBatch batch;
  Status s = DecodeBatch(body, limits, &batch);
  EXPECT_TRUE(s.ok()) << s.message();
  return batch;
}

// The whole-body error of a batch that must fail.
Status BodyErrorOf(std::string_view body, const BatchLimits& limits = {}) {
  DecodedBatch batch;
  Status s = DecodeBatch(body, limits, &batch);
  EXPECT_FALSE(s.ok()) << "accepted: " << std::string(body.substr(0, 200));
  return s;
}

constexpr char kGoodEvent[] =
    R"({"event_id":"0193303e-3731-7c11-add4-51b26bcefab3","type":"track","name":"click",)"
    R"("user_id":"C-1","created_at":1731681204017,"properties":{"channel":"email"}})";

std::string BatchOf(const std::string& events) {
  return R"({"write_key":"wk_demo","sent_at":1731681205000,"events":[)" + events + "]}";
}

TEST(EncodeEvent, WritesFieldsInThePinnedOrder) {
  EXPECT_EQ(EncodeEvent(SampleEvent()),
            R"({"event_id":"0193303e-3731-7c11-add4-51b26bcefab3","type":"page",)"
            R"("name":"Viewed page","user_id":"C-1","anonymous_id":"anon-1","session_id":"s-1",)"
            R"("created_at":1731681204017,"properties":{"title":"Trail runner )"
            "\xE2\x80\x94"
            R"( Shop"},"context":{"page":{}}})");
}

TEST(EncodeEvent, OmitsEmptyIdsAndEmptyContext) {
  Event e;
  e.name = "x";
  e.created_at_ms = -5;
  EXPECT_EQ(EncodeEvent(e), R"({"type":"track","name":"x","created_at":-5,"properties":{}})");
  std::string out = "[";
  EncodeEvent(e, &out);
  EXPECT_EQ(out, R"([{"type":"track","name":"x","created_at":-5,"properties":{}})");
}

TEST(DecodeEvent, ReadsWhatEncodeEventWrites) {
  Event e = SampleEvent();
  Result<Event> d = DecodeEvent(EncodeEvent(e));
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(d.value().event_id, e.event_id);
  EXPECT_EQ(d.value().type, EventType::kPage);
  EXPECT_EQ(d.value().name, e.name);
  EXPECT_EQ(d.value().user_id, e.user_id);
  EXPECT_EQ(d.value().anonymous_id, e.anonymous_id);
  EXPECT_EQ(d.value().session_id, e.session_id);
  EXPECT_EQ(d.value().created_at_ms, e.created_at_ms);
  EXPECT_EQ(d.value().properties, e.properties);
  EXPECT_EQ(d.value().context, e.context);
}

TEST(DecodeEvent, TypeDefaultsToTrackAndNullMeansAbsent) {
  Result<Event> d = DecodeEvent(
      R"({"name":"x","created_at":1.731681204017e12,"user_id":null,"type":null,"properties":null})");
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(d.value().type, EventType::kTrack);
  EXPECT_EQ(d.value().user_id, "");
  EXPECT_EQ(d.value().created_at_ms, 1731681204017);
  EXPECT_TRUE(d.value().properties.is_object());
  Result<Event> identify = DecodeEvent(R"({"type":"identify","name":"x"})");
  ASSERT_TRUE(identify.ok());
  EXPECT_EQ(identify.value().type, EventType::kIdentify);
}

TEST(DecodeEvent, WrongTypesNameTheField) {
  EXPECT_EQ(DecodeErrorOf(R"({"created_at":"yesterday"})"),
            R"(created_at: must be an integer number of ms since epoch, got "yesterday")");
  EXPECT_EQ(DecodeErrorOf(R"({"created_at":1.5})"),
            "created_at: must be an integer number of ms since epoch, got 1.5");
  EXPECT_EQ(DecodeErrorOf(R"({"created_at":1e300})"),
            "created_at: must be an integer number of ms since epoch, got 1e+300");
  EXPECT_EQ(DecodeErrorOf(R"({"created_at":null})"),
            "created_at: must be an integer number of ms since epoch, got null");
  EXPECT_EQ(DecodeErrorOf(R"({"event_id":42})"), "event_id: must be a string, got 42");
  EXPECT_EQ(DecodeErrorOf(R"({"type":"click"})"),
            R"(type: must be one of track, page, identify, got "click")");
  EXPECT_EQ(DecodeErrorOf(R"({"type":1})"), "type: must be one of track, page, identify, got 1");
  EXPECT_EQ(DecodeErrorOf(R"({"name":null})"), "name: must be a string, got null");
  EXPECT_EQ(DecodeErrorOf(R"({"name":["a"]})"), "name: must be a string, got an array");
  EXPECT_EQ(DecodeErrorOf(R"({"user_id":7})"), "user_id: must be a string, got 7");
  EXPECT_EQ(DecodeErrorOf(R"({"anonymous_id":true})"),
            "anonymous_id: must be a string, got a boolean");
  EXPECT_EQ(DecodeErrorOf(R"({"session_id":{}})"), "session_id: must be a string, got an object");
  EXPECT_EQ(DecodeErrorOf(R"({"properties":[1]})"), "properties: must be an object, got an array");
  EXPECT_EQ(DecodeErrorOf(R"({"context":"x"})"), R"(context: must be an object, got "x")");
  EXPECT_EQ(DecodeErrorOf("[1]"), "event: must be an object, got an array");
}

TEST(DecodeEvent, UnknownFieldsAreErrorsNamingTheField) {
  EXPECT_EQ(DecodeErrorOf(R"({"name":"x","timestamp":1})"),
            "timestamp: unknown field (expected event_id, type, name, user_id, anonymous_id, "
            "session_id, created_at, properties, context)");
  // A hostile key is cut in the message.
  std::string msg = DecodeErrorOf("{\"" + std::string(100000, 'k') + "\":1}");
  EXPECT_EQ(msg.substr(0, 68), std::string(64, 'k') + "...:");
}

TEST(DecodeEvent, TextErrorsAreParseErrors) {
  Result<Event> r = DecodeEvent(R"({"name":"a","name":"b"})");
  EXPECT_EQ(r.status().code(), Code::kParseError);
  EXPECT_EQ(r.status().message(), R"(at byte 12: duplicate key "name")");
}

TEST(Codec, SeedEventsDecodeValidateAndReencodeIdentically) {
  std::vector<std::string> lines = SeedLines();
  ASSERT_EQ(lines.size(), 33u);
  for (const std::string& line : lines) {
    Result<Event> d = DecodeEvent(line);
    ASSERT_TRUE(d.ok()) << line << ": " << d.status().message();
    Event e = std::move(d).value();
    Status v = ValidateEvent(&e, ValidationOptions());
    EXPECT_TRUE(v.ok()) << line << ": " << v.message();
    const std::string once = EncodeEvent(e);
    Result<Event> again = DecodeEvent(once);
    ASSERT_TRUE(again.ok()) << once;
    EXPECT_EQ(EncodeEvent(again.value()), once);
    // Same JSON as the fixture line, up to whitespace and number spelling.
    EXPECT_EQ(ParseJson(once).value(), ParseJson(line).value()) << once;
  }
}

TEST(Codec, MoneyKeepsItsAmountAcrossARoundTrip) {
  // The fixture writes 129.0; the encoder writes 129, the same number.
  Result<Event> d = DecodeEvent(
      R"({"name":"p","created_at":1,"properties":{"price":{"amount":129.0,"currency":"USD"}}})");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(EncodeEvent(d.value()), R"({"type":"track","name":"p","created_at":1,)"
                                    R"("properties":{"price":{"amount":129,"currency":"USD"}}})");
}

TEST(EncodeBatch, WritesThePinnedEnvelope) {
  std::string out;
  EncodeBatch("wk_demo", 1731681205000, std::nullopt, {"{\"a\":1}", "{\"b\":2}"}, &out);
  EXPECT_EQ(out, R"({"write_key":"wk_demo","sent_at":1731681205000,"events":[{"a":1},{"b":2}]})");
  out.clear();
  EncodeBatch("k\"\n", -3, -1520, {}, &out);
  EXPECT_EQ(out, R"({"write_key":"k\"\n","sent_at":-3,"clock_offset_ms":-1520,"events":[]})");
}

TEST(EncodeBatch, OverheadIsExactlyTheBytesAroundTheEvents) {
  const std::string keys[] = {"", "wk_demo", "k\"\\\x01\xC3\xA9", std::string(300, 'w')};
  const int64_t times[] = {0, 1, -1, 1731681205000, -9007199254740992, INT64_MAX, INT64_MIN};
  const std::string encoded_a = EncodeEvent(SampleEvent());
  const std::string encoded_b = R"({"type":"track","name":"x","created_at":1,"properties":{}})";
  for (const std::string& key : keys) {
    for (int64_t sent : times) {
      for (std::optional<int64_t> offset :
           {std::optional<int64_t>(), std::optional<int64_t>(0), std::optional<int64_t>(-1520),
            std::optional<int64_t>(INT64_MIN)}) {
        for (size_t n = 0; n <= 3; ++n) {
          std::vector<std::string_view> events;
          size_t event_bytes = 0;
          for (size_t i = 0; i < n; ++i) {
            events.push_back(i % 2 ? encoded_b : encoded_a);
            event_bytes += events.back().size();
          }
          std::string out;
          EncodeBatch(key, sent, offset, events, &out);
          EXPECT_EQ(out.size(),
                    BatchOverheadBytes(key, sent, offset) + event_bytes + (n ? n - 1 : 0))
              << out;
        }
      }
    }
  }
}

TEST(DecodeBatch, ReadsAnEncodedBatch) {
  std::vector<std::string> encoded;
  for (const std::string& line : SeedLines())
    encoded.push_back(EncodeEvent(DecodeEvent(line).value()));
  std::vector<std::string_view> views(encoded.begin(), encoded.end());
  std::string body;
  EncodeBatch("wk_demo", 1731681205000, -1520, views, &body);
  DecodedBatch batch = MustDecode(body);
  EXPECT_EQ(batch.write_key, "wk_demo");
  EXPECT_EQ(batch.sent_at_ms, 1731681205000);
  ASSERT_TRUE(batch.clock_offset_ms.has_value());
  EXPECT_EQ(*batch.clock_offset_ms, -1520);
  EXPECT_TRUE(batch.rejected.empty());
  ASSERT_EQ(batch.events.size(), encoded.size());
  for (size_t i = 0; i < encoded.size(); ++i) {
    EXPECT_EQ(batch.event_indexes[i], i);
    EXPECT_EQ(EncodeEvent(batch.events[i]), encoded[i]);  // encode -> decode -> encode
  }
}

TEST(DecodeBatch, NormalizesEventIdsToLowerCase) {
  std::string e = kGoodEvent;
  e.replace(e.find("0193303e-3731-7c11-add4-51b26bcefab3"), 36,
            "0193303E-3731-7C11-ADD4-51B26BCEFAB3");
  DecodedBatch batch = MustDecode(BatchOf(e));
  ASSERT_EQ(batch.events.size(), 1u);
  EXPECT_EQ(batch.events[0].event_id, "0193303e-3731-7c11-add4-51b26bcefab3");
}

// Each file in shared/fixtures/bad-batches/, with the outcome its README gives.
TEST(DecodeBatch, BadBatchFixtures400AreRefusedWhole) {
  Status s = BodyErrorOf(ReadFixture("bad-batches/not-json.txt"));
  EXPECT_EQ(s.code(), Code::kParseError);
  EXPECT_EQ(s.message(), "body: at byte 36: expected a JSON value, got end of text");

  s = BodyErrorOf(ReadFixture("bad-batches/array-body.json"));
  EXPECT_EQ(s.code(), Code::kParseError);
  EXPECT_EQ(s.message(), "body: must be a JSON object with an events array, got an array");

  s = BodyErrorOf(ReadFixture("bad-batches/events-not-array.json"));
  EXPECT_EQ(s.code(), Code::kParseError);
  EXPECT_EQ(s.message(), "events: must be an array, got an object");

  s = BodyErrorOf(ReadFixture("bad-batches/nan-number.json"));
  EXPECT_EQ(s.code(), Code::kParseError);
  EXPECT_EQ(s.message(), "body: at byte 220: NaN is not JSON (numbers must be finite)");

  s = BodyErrorOf(ReadFixture("bad-batches/deep-nesting.json"));
  EXPECT_EQ(s.code(), Code::kTooLarge);
  EXPECT_EQ(s.message(), "body: at byte 227: nested deeper than 64 levels");

  s = BodyErrorOf(ReadFixture("bad-batches/invalid-utf8.json"));
  EXPECT_EQ(s.code(), Code::kParseError);
  EXPECT_EQ(s.message(), "body: at byte 144: invalid UTF-8 in a string: missing continuation byte");
}

TEST(DecodeBatch, BadBatchFixtures200RejectEventsByIndex) {
  struct Case {
    const char* file;
    const char* error;
  } cases[] = {
      {"missing-event-id.json", "events[0].event_id: is required (a UUIDv7)"},
      {"bad-event-id.json",
       R"(events[0].event_id: must be a UUIDv7 (8-4-4-4-12 hex digits, version 7), got "not-a-uuid")"},
      {"name-too-long.json", "events[0].name: longer than 255 characters (256)"},
      {"created-at-string.json",
       R"(events[0].created_at: must be an integer number of ms since epoch, got "yesterday")"},
      {"negative-created-at.json",
       "events[0].created_at: must be within [946684800000, 253402300799999] ms since epoch, "
       "got -5"},
      {"huge-string-value.json", "events[0].properties.note: longer than 255 characters (100000)"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file);
    DecodedBatch batch = MustDecode(ReadFixture(std::string("bad-batches/") + c.file));
    EXPECT_EQ(batch.write_key, "wk_demo");
    EXPECT_TRUE(batch.events.empty());
    ASSERT_EQ(batch.rejected.size(), 1u);
    EXPECT_EQ(batch.rejected[0].index, 0u);
    EXPECT_EQ(batch.rejected[0].error, c.error);
  }
  DecodedBatch bad_id = MustDecode(ReadFixture("bad-batches/bad-event-id.json"));
  EXPECT_EQ(bad_id.rejected[0].event_id, "not-a-uuid");  // as sent
}

TEST(DecodeBatch, EventNotObjectFixtureKeepsTheGoodEvent) {
  DecodedBatch batch = MustDecode(ReadFixture("bad-batches/event-not-object.json"));
  ASSERT_EQ(batch.events.size(), 1u);
  EXPECT_EQ(batch.event_indexes[0], 0u);
  EXPECT_EQ(batch.events[0].name, "click");
  ASSERT_EQ(batch.rejected.size(), 2u);
  EXPECT_EQ(batch.rejected[0].index, 1u);
  EXPECT_EQ(batch.rejected[0].error, R"(events[1]: must be an object, got "click")");
  EXPECT_EQ(batch.rejected[0].event_id, "");
  EXPECT_EQ(batch.rejected[1].index, 2u);
  EXPECT_EQ(batch.rejected[1].error, "events[2]: must be an object, got 42");
}

TEST(DecodeBatch, EmptyAndKeylessFixturesDecode) {
  DecodedBatch empty = MustDecode(ReadFixture("bad-batches/empty-events.json"));
  EXPECT_TRUE(empty.events.empty());
  EXPECT_TRUE(empty.rejected.empty());
  // 401 is the collector's call: the decoder reports that no key came in the body.
  DecodedBatch keyless = MustDecode(ReadFixture("bad-batches/missing-key.json"));
  EXPECT_EQ(keyless.write_key, "");
  EXPECT_EQ(keyless.sent_at_ms, 1);
  EXPECT_EQ(keyless.events.size(), 1u);
}

TEST(DecodeBatch, HugeStringIsTruncatedUnderTheTruncateOption) {
  BatchLimits limits;
  limits.validation.overlong_strings = OverlongString::kTruncate;
  DecodedBatch batch = MustDecode(ReadFixture("bad-batches/huge-string-value.json"), limits);
  ASSERT_EQ(batch.events.size(), 1u);
  EXPECT_EQ(batch.events[0].properties.Find("note")->as_string(), std::string(255, 'y'));
}

// The collector stores event_docs as the rows' JSON text instead of writing the documents
// again, so they must be exactly what WriteJson writes for the decoded (and truncated) events.
TEST(DecodeBatch, HandsBackEachEventsDocumentsAsWriteJsonWritesThem) {
  std::vector<std::string> lines = SeedLines();
  std::vector<std::string_view> views(lines.begin(), lines.end());
  std::string body;
  EncodeBatch("wk_demo", 1731681205000, std::nullopt, views, &body);
  DecodedBatch batch = MustDecode(body);
  ASSERT_EQ(batch.events.size(), lines.size());
  ASSERT_EQ(batch.event_docs.size(), batch.events.size());
  bool some_context = false;
  for (size_t i = 0; i < batch.events.size(); ++i) {
    std::string properties, context;
    WriteJson(batch.events[i].properties, &properties);
    WriteJson(batch.events[i].context, &context);
    EXPECT_EQ(batch.event_docs[i].properties, properties) << lines[i];
    EXPECT_EQ(batch.event_docs[i].context, context) << lines[i];
    some_context = some_context || context != "{}";
  }
  EXPECT_TRUE(some_context);

  BatchLimits limits;
  limits.validation.overlong_strings = OverlongString::kTruncate;
  DecodedBatch cut = MustDecode(ReadFixture("bad-batches/huge-string-value.json"), limits);
  ASSERT_EQ(cut.event_docs.size(), 1u);
  std::string properties;
  WriteJson(cut.events[0].properties, &properties);
  EXPECT_EQ(cut.event_docs[0].properties, properties);
  EXPECT_NE(properties.find(std::string(255, 'y') + "\""), std::string::npos);
}

TEST(DecodeBatch, WholeBodyShapeErrors) {
  EXPECT_EQ(BodyErrorOf(R"({"write_key":"k"})").message(),
            "events: is required (an array of events)");
  EXPECT_EQ(BodyErrorOf(R"({"events":null})").message(), "events: must be an array, got null");
  EXPECT_EQ(BodyErrorOf(R"({"write_key":5,"events":[]})").message(),
            "write_key: must be a string, got 5");
  EXPECT_EQ(BodyErrorOf(R"({"sent_at":"now","events":[]})").message(),
            R"(sent_at: must be an integer number of ms, got "now")");
  EXPECT_EQ(BodyErrorOf(R"({"sent_at":1.5,"events":[]})").message(),
            "sent_at: must be an integer number of ms, got 1.5");
  EXPECT_EQ(BodyErrorOf(R"({"clock_offset_ms":[],"events":[]})").message(),
            "clock_offset_ms: must be an integer number of ms, got an array");
  EXPECT_EQ(BodyErrorOf("\"events\"").message(),
            R"(body: must be a JSON object with an events array, got "events")");
  EXPECT_EQ(BodyErrorOf("").message(), "body: at byte 0: expected a JSON value, got end of text");
  EXPECT_EQ(BodyErrorOf(R"({"events":[],"events":[]})").message(),
            R"(body: at byte 13: duplicate key "events")");
  EXPECT_EQ(BodyErrorOf(R"({"write_key":"a","events":[],"write_key":"b"})").message(),
            R"(body: at byte 29: duplicate key "write_key")");
  // Null optional members are absent.
  DecodedBatch batch =
      MustDecode(R"({"write_key":null,"sent_at":null,"clock_offset_ms":null,"events":[]})");
  EXPECT_EQ(batch.write_key, "");
  EXPECT_FALSE(batch.clock_offset_ms.has_value());
  // Unknown batch members are ignored (forward compatible).
  EXPECT_TRUE(MustDecode(R"({"events":[],"library":{"name":"tally-js"}})").rejected.empty());
}

TEST(DecodeBatch, MoreThanMaxEventsIsTooLarge) {
  BatchLimits limits;
  limits.max_events = 2;
  EXPECT_TRUE(MustDecode(BatchOf("1,2"), limits).rejected.size() == 2);
  Status s = BodyErrorOf(BatchOf("1,2,3"), limits);
  EXPECT_EQ(s.code(), Code::kTooLarge);
  EXPECT_EQ(s.message(), "events: 3 events, more than the limit of 2");
}

TEST(DecodeBatch, DuplicateKeyInsideAnEventRejectsOnlyThatEvent) {
  const std::string dup_name =
      R"({"event_id":"0193303e-3731-7c11-add4-51b26bcefab4","name":"a","name":"b",)"
      R"("user_id":"C-1","created_at":1731681204017})";
  const std::string dup_nested =
      R"({"event_id":"0193303e-3731-7c11-add4-51b26bcefab5","name":"a","user_id":"C-1",)"
      R"("created_at":1731681204017,"properties":{"items":[{"sku":1,"sku":2,"sku":3}],"q":{"x":1,"x":2}}})";
  DecodedBatch batch = MustDecode(
      BatchOf(std::string(kGoodEvent) + "," + dup_name + "," + dup_nested + "," + kGoodEvent));
  ASSERT_EQ(batch.events.size(), 2u);
  EXPECT_EQ(batch.event_indexes[0], 0u);
  EXPECT_EQ(batch.event_indexes[1], 3u);
  ASSERT_EQ(batch.rejected.size(), 2u);
  EXPECT_EQ(batch.rejected[0].index, 1u);
  EXPECT_EQ(batch.rejected[0].event_id, "0193303e-3731-7c11-add4-51b26bcefab4");
  EXPECT_EQ(batch.rejected[0].error, "events[1].name: duplicate key");
  EXPECT_EQ(batch.rejected[1].index, 2u);
  EXPECT_EQ(batch.rejected[1].error, "events[2].properties.items[0].sku: duplicate key");
}

TEST(DecodeBatch, DuplicateKeysInLargeObjectsAreAttributedToo) {
  std::string props = "{";
  for (int i = 0; i < 40; ++i) props += "\"p" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  std::string event =
      R"({"event_id":"0193303e-3731-7c11-add4-51b26bcefab3","name":"a","user_id":"u",)"
      R"("created_at":1731681204017,"properties":)";
  DecodedBatch batch = MustDecode(
      BatchOf(event + props + "\"p17\":0,\"p39\":1,\"q\":2}}," + event + props + "\"q\":1}}"));
  ASSERT_EQ(batch.rejected.size(), 1u);
  EXPECT_EQ(batch.rejected[0].error, "events[0].properties.p17: duplicate key");
  ASSERT_EQ(batch.events.size(), 1u);
  EXPECT_EQ(batch.events[0].properties.as_object().size(), 41u);
}

TEST(DecodeBatch, EventsNeedACreatedAtOfTheirOwn) {
  DecodedBatch batch = MustDecode(
      BatchOf(R"({"event_id":"0193303e-3731-7c11-add4-51b26bcefab3","name":"x","user_id":"u"})"));
  ASSERT_EQ(batch.rejected.size(), 1u);
  EXPECT_EQ(batch.rejected[0].error, "events[0].created_at: is required (ms since epoch)");
  EXPECT_EQ(batch.rejected[0].event_id, "0193303e-3731-7c11-add4-51b26bcefab3");
}

TEST(DecodeBatch, OversizeEventInAGoodBatchIsRejectedAlone) {
  BatchLimits limits;
  limits.validation.max_string_chars = 1 << 20;
  std::string big = kGoodEvent;
  big.replace(big.find("\"email\""), 7, "\"" + std::string(40000, 'z') + "\"");
  DecodedBatch batch = MustDecode(BatchOf(std::string(kGoodEvent) + "," + big), limits);
  EXPECT_EQ(batch.events.size(), 1u);
  ASSERT_EQ(batch.rejected.size(), 1u);
  EXPECT_EQ(batch.rejected[0].error,
            "events[1]: encoded size 40152 bytes is over the limit of 32768");
}

TEST(DecodeBatch, ValidationErrorsCarryTheEventPrefix) {
  std::string e = kGoodEvent;
  e.replace(e.find(R"("email")"), 7, R"({"amount":5,"currency":"EURO"})");
  DecodedBatch batch = MustDecode(BatchOf(std::string(kGoodEvent) + "," + e));
  ASSERT_EQ(batch.rejected.size(), 1u);
  EXPECT_EQ(
      batch.rejected[0].error,
      R"(events[1].properties.channel.currency: must be an ISO 4217 currency code, got "EURO")");
}

// The streaming pass (keep_documents false) against the document path, on one body: the same
// status and message, the same batch fields, rejections and accepted events, and text documents
// equal to the documents' own encoding.
void ExpectSameDecodingBothWays(const std::string& body, BatchLimits limits = BatchLimits()) {
  SCOPED_TRACE(body.size() > 300 ? body.substr(0, 300) + "..." : body);
  limits.keep_documents = true;
  DecodedBatch docs;
  Status with_docs = DecodeBatch(body, limits, &docs);
  limits.keep_documents = false;
  DecodedBatch text;
  Status streamed = DecodeBatch(body, limits, &text);
  ASSERT_EQ(streamed.code(), with_docs.code());
  ASSERT_EQ(streamed.message(), with_docs.message());
  if (!with_docs.ok()) return;
  EXPECT_EQ(text.write_key, docs.write_key);
  EXPECT_EQ(text.sent_at_ms, docs.sent_at_ms);
  EXPECT_EQ(text.clock_offset_ms, docs.clock_offset_ms);
  EXPECT_EQ(text.event_indexes, docs.event_indexes);
  ASSERT_EQ(text.rejected.size(), docs.rejected.size());
  for (size_t i = 0; i < docs.rejected.size(); ++i) {
    EXPECT_EQ(text.rejected[i].index, docs.rejected[i].index);
    EXPECT_EQ(text.rejected[i].event_id, docs.rejected[i].event_id);
    EXPECT_EQ(text.rejected[i].error, docs.rejected[i].error);
  }
  ASSERT_EQ(text.events.size(), docs.events.size());
  ASSERT_EQ(text.event_docs.size(), docs.event_docs.size());
  for (size_t i = 0; i < docs.events.size(); ++i) {
    const Event& a = text.events[i];
    const Event& b = docs.events[i];
    EXPECT_EQ(a.event_id, b.event_id);
    EXPECT_EQ(a.type, b.type);
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.user_id, b.user_id);
    EXPECT_EQ(a.anonymous_id, b.anonymous_id);
    EXPECT_EQ(a.session_id, b.session_id);
    EXPECT_EQ(a.created_at_ms, b.created_at_ms);
    EXPECT_EQ(text.event_docs[i].properties, docs.event_docs[i].properties);
    EXPECT_EQ(text.event_docs[i].context, docs.event_docs[i].context);
    EXPECT_EQ(docs.event_docs[i].properties, ToJsonString(b.properties));
    EXPECT_EQ(docs.event_docs[i].context, ToJsonString(b.context));
  }
}

TEST(DecodeBatchStreaming, AgreesWithTheDocumentPathOnEveryFixture) {
  std::string all;
  for (const std::string& line : SeedLines()) {
    ExpectSameDecodingBothWays(BatchOf(line));
    all += (all.empty() ? "" : ",") + line;
  }
  ExpectSameDecodingBothWays(BatchOf(all));
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(TALLY_FIXTURES_DIR) + "/bad-batches")) {
    ExpectSameDecodingBothWays(ReadFixture("bad-batches/" + entry.path().filename().string()));
  }
  for (const auto& entry : std::filesystem::directory_iterator(std::string(TALLY_SOURCE_DIR) +
                                                               "/fuzz/corpus/fuzz_decode_batch")) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    ExpectSameDecodingBothWays(ss.str());
  }
}

// Each body exercises one way the streaming pass hands over to the document path, or one kind
// of event it refuses and the document path then explains.
TEST(DecodeBatchStreaming, AgreesWithTheDocumentPathOnHostileBodies) {
  const std::string good = kGoodEvent;
  const std::string id = R"("event_id":"0193303e-3731-7c11-add4-51b26bcefab3")";
  const char* bodies[] = {
      "",
      "[]",
      "null",
      "{}",
      R"({"events":{}})",
      R"({"events":[]})",
      R"({"events":null})",
      R"({"events":[],"events":[]})",
      R"({"write_key":5,"events":[]})",
      R"({"write_key":null,"events":[]})",
      R"({"sent_at":"x","events":[]})",
      R"({"sent_at":1.5,"events":[]})",
      R"({"sent_at":null,"clock_offset_ms":-20,"events":[]})",
      R"({"clock_offset_ms":1e300,"events":[]})",
      R"({"meta":{"a":1,"a":2},"events":[]})",
      R"({"meta":[{"b":[1,{"c":2}]}],"events":[] , "x" : null})",
      R"({"events":[1,"a",null,[],[[1]],{}]})",
      R"({"events":[]} x)",
      R"({"events":[{"name":"a"}] )",
      R"({"events":[{"name":"a"},]})",
      R"({"events":[{"name":NaN}]})",
      R"({"events":[{"name":"\ud800"}]})",
      R"({"events":[{"name":"a","name":"b"}]})",
      R"({"events":[{"properties":{"a":1,"a":2}}]})",
      R"({"events":[{"context":{"x":[{"k":1,"k":1}]}}]})",
  };
  for (const char* body : bodies) ExpectSameDecodingBothWays(body);

  const std::string events[] = {
      good,
      "{" + id + R"(,"name":"x","user_id":"u"})",                    // no created_at
      "{" + id + R"(,"name":"x","user_id":"u","created_at":null})",  // null created_at
      "{" + id + R"(,"name":"x","user_id":"u","created_at":1731681204017,"name":"y"})",
      "{" + id + R"(,"name":"","user_id":"u","created_at":1731681204017})",
      "{" + id + R"(,"name":"x","user_id":"u","created_at":1731681204017,"extra":1})",
      "{" + id +
          R"(,"type":"page","name":"x","anonymous_id":"a","session_id":"s",)"
          R"("created_at":1731681204017.0,"properties":null,"context":null})",
      "{" + id +
          R"(,"name":"x","user_id":"u","created_at":1731681204017,)"
          R"("properties":{"m":{"amount":5,"currency":"EUR"},"l":{"url":"https://a.b","value":"c"},)"
          R"("d":"2024-11-15T10:00:00Z","n":[1,2,{"x":null}],"e":"\u00e9\n"}})",
      "{" + id +
          R"(,"name":"x","user_id":"u","created_at":1731681204017,)"
          R"("properties":{"":1}})",
      R"({"event_id":"0193303E-3731-7C11-ADD4-51B26BCEFAB3","name":"x","user_id":"u",)"
      R"("created_at":1731681204017})",
      "  {  " + id + R"( , "name" : "x" , "user_id" : "u" , "created_at" : 1731681204017 }  )",
  };
  for (const std::string& e : events) {
    ExpectSameDecodingBothWays(BatchOf(e));
    ExpectSameDecodingBothWays(BatchOf(good + "," + e + "," + good));
  }
  std::string all;
  for (const std::string& e : events) all += (all.empty() ? "" : ",") + e;
  ExpectSameDecodingBothWays(BatchOf(all));

  BatchLimits few;
  few.max_events = 2;
  ExpectSameDecodingBothWays(BatchOf(good + "," + good), few);
  ExpectSameDecodingBothWays(BatchOf(good + "," + good + "," + good), few);
  BatchLimits truncate;
  truncate.validation.overlong_strings = OverlongString::kTruncate;
  std::string long_value = good;
  long_value.replace(long_value.find(R"("email")"), 7, "\"" + std::string(300, 'q') + "\"");
  ExpectSameDecodingBothWays(BatchOf(long_value), truncate);
  ExpectSameDecodingBothWays(BatchOf(long_value));
}

// Around the 32 KB bound on an encoded event, with escapes in the name and the value (the
// streaming pass measures the encoding it writes, the document path the one it would write).
TEST(DecodeBatchStreaming, AgreesOnTheEncodedSizeBound) {
  BatchLimits limits;
  limits.validation.max_string_chars = 1 << 20;
  // Escapes of every width in the head the size is counted from: \" and \n (2 bytes), \u0001
  // (6), and UTF-8 that is not escaped.
  const std::string head =
      R"({"event_id":"0193303e-3731-7c11-add4-51b26bcefab3","name":"say \"hi\"\n\u0001 é",)"
      R"("user_id":"C-\"1","anonymous_id":"a\u0002","session_id":"s\\1",)"
      R"("created_at":1731681204017,"properties":{"v":")";
  const size_t base = EncodeEvent(MustDecode(BatchOf(head + "\"}}")).events[0]).size();
  size_t accepted = 0, refused = 0;
  for (size_t n = 32768 - base - 4; n <= 32768 - base + 4; ++n) {
    const std::string plain = BatchOf(head + std::string(n, 'x') + "\"}}");
    ExpectSameDecodingBothWays(plain, limits);
    (MustDecode(plain, limits).events.empty() ? refused : accepted)++;
    std::string escaped;  // n / 2 escaped tabs: two bytes each on the wire and when encoded
    for (size_t i = 0; i < n / 2; ++i) escaped += "\\t";
    ExpectSameDecodingBothWays(BatchOf(head + escaped + "\"}}"), limits);
  }
  EXPECT_EQ(accepted, 5u);
  EXPECT_EQ(refused, 4u);
}

// The streaming pass reads strings as views into the body and copies unescaped ones as they are
// (json_reader.h, event_writer.cc): each string case (string_cases.h) as a name, an id, a key
// and a value of properties and context; and, for a name, with the encoded size bound set just
// at and just under the event's size (the pass measures the head; the document path writes it).
TEST(DecodeBatchStreaming, AgreesOnStringsOfEveryLengthWithEachPieceAnywhere) {
  const std::string id = R"("event_id":"0193303e-3731-7c11-add4-51b26bcefab3")";
  const std::string when = R"("created_at":1731681204017)";
  size_t bounded = 0;
  for (const testing::StringCase& c : testing::StringCases()) {
    const std::string named = "{" + id + ",\"name\":" + c.json + ",\"user_id\":\"u\"," + when + "}";
    const std::string events[] = {
        named,
        "{" + id + ",\"name\":\"n\",\"anonymous_id\":" + c.json + "," + when + "}",
        "{" + id + ",\"name\":\"n\",\"user_id\":\"u\"," + when + ",\"properties\":{" + c.json +
            ":" + c.json + ",\"a\":{\"b\":[" + c.json + "]}}}",
        "{" + id + ",\"name\":\"n\",\"user_id\":\"u\"," + when + ",\"context\":{\"k\":" + c.json +
            ",\"page\":{" + c.json + ":1}}}",
    };
    std::string all;
    for (const std::string& e : events) all += (all.empty() ? "" : ",") + e;
    ExpectSameDecodingBothWays(BatchOf(all));
    if (!c.valid) continue;
    for (const std::string& e : {events[0], events[1]}) {  // the case in the event's head
      DecodedBatch batch = MustDecode(BatchOf(e));
      if (batch.events.empty()) continue;
      BatchLimits limits;
      limits.validation.max_event_bytes = EncodeEvent(batch.events[0]).size();
      ExpectSameDecodingBothWays(BatchOf(e), limits);
      --limits.validation.max_event_bytes;
      ExpectSameDecodingBothWays(BatchOf(e), limits);
      ++bounded;
    }
  }
  EXPECT_GT(bounded, 2000u);
}

// Numbers and literals are copied when their text is what the writer writes, whitespace ends a
// copied run, and money's currency is edited in place (with truncation on, so a currency that
// is not money's is cut); repeated keys however spelled.
TEST(DecodeBatchStreaming, AgreesOnNumbersLiteralsWhitespaceAndRepeatedKeys) {
  const std::string head =
      R"({"event_id":"0193303e-3731-7c11-add4-51b26bcefab3","name":"n","user_id":"u",)"
      R"("created_at":1731681204017,"properties":)";
  const std::vector<std::string> properties = {
      R"({"a":0,"b":-0,"c":7,"d":-7,"e":1.0,"f":1e2,"g":1E+2,"h":0.5,"i":-0.0})",
      R"({"a":123456789012345,"b":-123456789012345,"c":1234567890123456,"d":9007199254740993})",
      R"({"a":1e400})",
      R"({ "a" : true , "b" : [ null , false , 1 ] , "c" : { } , "d" : [ ] })",
      "{\t\"a\"\r:\n1}",
      R"({"m":{"amount":5,"currency":"EUR"},"n":{ "amount" : 5 , "currency" : "EUR" }})",
      R"({"m":{"currency":"EUR","x":1},"n":{"x":1, "currency" :"EURO"}})",
      R"({"m":{"currency":"E\u0055R","amount":1},"n":{"c":{"currency":"EUR"}}})",
      R"({"ab":1,"a\u0062":2})",
      R"({"x":{"k":1},"k":{"k":{"k":2}},"k\u0000":3})",
      R"({"":1,"":2})",
      R"({"axb":1,"ayb":2,"azb":{"axb":[{"ayb":1,"ayb":2}]}})",
  };
  BatchLimits truncate;
  truncate.validation.overlong_strings = OverlongString::kTruncate;
  truncate.validation.max_string_chars = 2;
  for (const std::string& p : properties) {
    const std::string event = head + p + "}";
    ExpectSameDecodingBothWays(BatchOf(event));
    ExpectSameDecodingBothWays(BatchOf(event), truncate);
    for (size_t i = head.size(); i < event.size(); ++i) {  // whitespace after each byte
      ExpectSameDecodingBothWays(BatchOf(event.substr(0, i) + " " + event.substr(i)));
    }
  }
  // A repeated key at the top of an event, spelled with an escape, after 0 to 20 others.
  for (size_t others = 0; others <= 20; ++others) {
    std::string extra;
    for (size_t i = 0; i < others; ++i) extra += ",\"x" + std::to_string(i) + "\":1";
    ExpectSameDecodingBothWays(BatchOf(head + "{}" + extra + ",\"n\\u0061me\":\"m\"}"));
    ExpectSameDecodingBothWays(BatchOf(head + "{\"k\":1" + extra + ",\"\\u006b\":2}}"));
  }
}

TEST(DecodeBatchStreaming, AcceptedEventsKeepNoDocuments) {
  BatchLimits limits;
  limits.keep_documents = false;
  DecodedBatch batch = MustDecode(BatchOf(kGoodEvent), limits);
  ASSERT_EQ(batch.events.size(), 1u);
  EXPECT_TRUE(batch.events[0].properties.as_object().empty());
  EXPECT_NE(batch.event_docs[0].properties, "{}");
}

}  // namespace
}  // namespace tally
