#include "tally/tracker.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "fake_clock.h"
#include "tally/codec.h"
#include "tally/uuid.h"

namespace tally {
namespace {

// This file is built twice (tests/sdk/CMakeLists.txt): against the native core, and against the
// browser module's shape (TALLY_BROWSER_CORE), whose Tracker has no Deduper: there a duplicate
// id is refused only while it is still queued, and DedupOptions have no effect.
#ifdef TALLY_BROWSER_CORE
constexpr bool kBrowserCore = true;
#else
constexpr bool kBrowserCore = false;
#endif

constexpr int64_t kT = 1731681120123;

TrackerOptions Options() {
  TrackerOptions options;
  options.write_key = "wk_test";
  return options;
}

std::string ClickJson(const std::string& extra = "") {
  return R"({"type":"track","name":"Clicked CTA","user_id":"C-2847391",)"
         R"("properties":{"plan":"pro","price":19.99},"context":{"page":{"path":"/pricing"}})" +
         extra + "}";
}

std::string WithId(const std::string& id) { return ClickJson(R"(,"event_id":")" + id + "\""); }

DecodedBatch Decode(const std::string& body) {
  DecodedBatch batch;
  const Status status = DecodeBatch(body, BatchLimits{}, &batch);
  EXPECT_TRUE(status.ok()) << status.message() << "\n" << body;
  EXPECT_TRUE(batch.rejected.empty()) << batch.rejected.front().error;
  return batch;
}

Event DecodeOne(const std::string& encoded) {
  Result<Event> event = DecodeEvent(std::string_view(encoded));
  EXPECT_TRUE(event.ok()) << event.status().message();
  return event.value();
}

class TrackerTest : public ::testing::Test {
 protected:
  FakeClock clock_{kT};
  CountingRandom random_;
};

TEST_F(TrackerTest, FillsANewUuidV7AndCreatedAtFromTheClock) {
  Tracker tracker(Options(), &clock_, &random_);
  std::string encoded, id;
  const Status status = tracker.Track(ClickJson(), &encoded, &id);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(UuidV7Generator::TimestampMs(id), kT);
  const Event event = DecodeOne(encoded);
  EXPECT_EQ(event.event_id, id);
  EXPECT_EQ(event.created_at_ms, kT);
  EXPECT_EQ(event.name, "Clicked CTA");
  EXPECT_EQ(tracker.queued_events(), 1u);
  EXPECT_EQ(tracker.queued_bytes(), encoded.size());
}

TEST_F(TrackerTest, IdsOfSuccessiveEventsIncrease) {
  Tracker tracker(Options(), &clock_, &random_);
  std::string previous;
  for (int i = 0; i < 50; ++i) {
    std::string id;
    ASSERT_TRUE(tracker.Track(ClickJson(), nullptr, &id).ok());
    EXPECT_GT(id, previous);
    previous = id;
  }
}

TEST_F(TrackerTest, KeepsAGivenCreatedAtAndEventId) {
  // A snippet replaying calls made before the SDK loaded passes their original time and id.
  Tracker tracker(Options(), &clock_, &random_);
  const std::string given_id = "0193303c-e000-7abc-8def-0123456789ab";
  std::string encoded, id;
  ASSERT_TRUE(tracker
                  .Track(ClickJson(R"(,"created_at":1731681115000,"event_id":")" + given_id + "\""),
                         &encoded, &id)
                  .ok());
  EXPECT_EQ(id, given_id);
  const Event event = DecodeOne(encoded);
  EXPECT_EQ(event.created_at_ms, 1731681115000);
  EXPECT_EQ(event.event_id, given_id);
}

TEST_F(TrackerTest, NullIdAndCreatedAtCountAsAbsent) {
  Tracker tracker(Options(), &clock_, &random_);
  std::string encoded, id;
  ASSERT_TRUE(
      tracker.Track(ClickJson(R"(,"event_id":null,"created_at":null)"), &encoded, &id).ok());
  EXPECT_EQ(UuidV7Generator::TimestampMs(id), kT);
  EXPECT_EQ(DecodeOne(encoded).created_at_ms, kT);
}

TEST_F(TrackerTest, TrackEventFillsWhatIsAbsent) {
  Tracker tracker(Options(), &clock_, &random_);
  Event event;
  event.name = "Signed up";
  event.anonymous_id = "anon-1";
  std::string encoded;
  ASSERT_TRUE(tracker.Track(event, &encoded).ok());
  const Event back = DecodeOne(encoded);
  EXPECT_EQ(UuidV7Generator::TimestampMs(back.event_id), kT);
  EXPECT_EQ(back.created_at_ms, kT);
  EXPECT_EQ(back.anonymous_id, "anon-1");
}

TEST_F(TrackerTest, ValidationErrorsNameTheField) {
  Tracker tracker(Options(), &clock_, &random_);
  std::string encoded;
  Status status = tracker.Track(R"({"type":"track","name":"","user_id":"u"})", &encoded, nullptr);
  EXPECT_EQ(status.code(), Code::kInvalidArgument);
  EXPECT_EQ(status.message().rfind("name", 0), 0u) << status.message();

  status = tracker.Track(R"({"type":"track","name":"x","user_id":"u","properties":{"note":")" +
                             std::string(300, 'a') + "\"}}",
                         &encoded, nullptr);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("properties.note"), std::string::npos) << status.message();

  status = tracker.Track(R"({"type":"track","name":"x","user_id":"u","created_at":"yesterday"})",
                         &encoded, nullptr);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("created_at"), std::string::npos) << status.message();
  EXPECT_EQ(tracker.queued_events(), 0u);
}

TEST_F(TrackerTest, MalformedJsonAndNonObjectsAreRefused) {
  Tracker tracker(Options(), &clock_, &random_);
  EXPECT_EQ(tracker.Track(R"({"name":)", nullptr, nullptr).code(), Code::kParseError);
  EXPECT_EQ(tracker.Track("", nullptr, nullptr).code(), Code::kParseError);
  EXPECT_EQ(tracker.Track(R"({"name":"a","name":"b"})", nullptr, nullptr).code(),
            Code::kParseError);
  const Status status = tracker.Track(R"(["Clicked CTA"])", nullptr, nullptr);
  EXPECT_EQ(status.code(), Code::kInvalidArgument);
  EXPECT_EQ(status.message(), "event: must be a JSON object");
  EXPECT_EQ(tracker.queued_events(), 0u);
}

TEST_F(TrackerTest, SecondTrackOfAnIdIsADuplicateEvenAfterDelivery) {
  Tracker tracker(Options(), &clock_, &random_);
  const std::string id = "0193303c-ef7b-7abc-8def-0123456789ab";
  ASSERT_TRUE(tracker.Track(WithId(id), nullptr, nullptr).ok());
  Status status = tracker.Track(WithId(id), nullptr, nullptr);
  EXPECT_EQ(status.code(), Code::kDuplicate);
  EXPECT_NE(status.message().find("event_id"), std::string::npos) << status.message();
  EXPECT_EQ(tracker.queued_events(), 1u);
  tracker.Ack(1);
  if (kBrowserCore) {
    // Delivered and forgotten: queued again (the collector drops the second copy by event_id).
    EXPECT_TRUE(tracker.Track(WithId(id), nullptr, nullptr).ok());
    EXPECT_EQ(tracker.queued_events(), 1u);
  } else {
    EXPECT_EQ(tracker.Track(WithId(id), nullptr, nullptr).code(), Code::kDuplicate);
    EXPECT_EQ(tracker.queued_events(), 0u);
  }
}

TEST_F(TrackerTest, ContentFingerprintOptionCatchesTheSameActionWithAnotherId) {
  TrackerOptions options = Options();
  options.dedup.fingerprint = true;
  Tracker tracker(options, &clock_, &random_);
  ASSERT_TRUE(tracker.Track(ClickJson(), nullptr, nullptr).ok());
  clock_.Advance(100);  // same second, a new id
  EXPECT_EQ(tracker.Track(ClickJson(), nullptr, nullptr).code(),
            kBrowserCore ? Code::kOk : Code::kDuplicate);  // no effect in the browser core
  clock_.Advance(1000);
  EXPECT_TRUE(tracker.Track(ClickJson(), nullptr, nullptr).ok());
}

TEST_F(TrackerTest, QueueFullIsResourceExhaustedAndLeavesNoTrace) {
  TrackerOptions options = Options();
  options.queue.max_events = 2;
  Tracker tracker(options, &clock_, &random_);
  ASSERT_TRUE(tracker.Track(ClickJson(), nullptr, nullptr).ok());
  ASSERT_TRUE(tracker.Track(ClickJson(), nullptr, nullptr).ok());
  const std::string id = "0193303c-ef7b-7abc-8def-0123456789ab";
  const Status status = tracker.Track(WithId(id), nullptr, nullptr);
  EXPECT_EQ(status.code(), Code::kResourceExhausted);
  EXPECT_NE(status.message().find("queue"), std::string::npos) << status.message();
  EXPECT_EQ(tracker.queued_events(), 2u);
  // Once there is room, the same event is accepted: the refusal did not mark it as seen.
  tracker.Ack(1);
  EXPECT_TRUE(tracker.Track(WithId(id), nullptr, nullptr).ok());
}

TEST_F(TrackerTest, InvalidEventLeavesNoTraceEither) {
  Tracker tracker(Options(), &clock_, &random_);
  const std::string id = "0193303c-ef7b-7abc-8def-0123456789ab";
  ASSERT_FALSE(tracker
                   .Track(R"({"type":"track","name":"","user_id":"u","event_id":")" + id + "\"}",
                          nullptr, nullptr)
                   .ok());
  EXPECT_TRUE(tracker.Track(WithId(id), nullptr, nullptr).ok());
}

TEST_F(TrackerTest, EventThatCouldNeverFitABatchIsTooLarge) {
  TrackerOptions options = Options();
  options.batch.max_bytes = 400;
  Tracker tracker(options, &clock_, &random_);
  const std::string big = ClickJson(R"(,"anonymous_id":")" + std::string(200, 'a') + "\"");
  const Status status = tracker.Track(big, nullptr, nullptr);
  EXPECT_EQ(status.code(), Code::kTooLarge);
  EXPECT_EQ(tracker.queued_events(), 0u);
  EXPECT_TRUE(tracker.Track(ClickJson(), nullptr, nullptr).ok());
}

TEST_F(TrackerTest, BatchBodyDecodesToTheSameEvents) {
  Tracker tracker(Options(), &clock_, &random_);
  std::vector<std::string> encoded(3);
  for (auto& e : encoded) ASSERT_TRUE(tracker.Track(ClickJson(), &e, nullptr).ok());
  std::string body;
  ASSERT_EQ(tracker.NextBatch(&body), 3u);
  const DecodedBatch batch = Decode(body);
  EXPECT_EQ(batch.write_key, "wk_test");
  EXPECT_EQ(batch.sent_at_ms, kT);
  EXPECT_FALSE(batch.clock_offset_ms.has_value());
  ASSERT_EQ(batch.events.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(EncodeEvent(batch.events[i]), encoded[i]);
  // NextBatch does not remove: the events stay queued until Ack.
  EXPECT_EQ(tracker.queued_events(), 3u);
}

TEST_F(TrackerTest, RetriesKeepIdsAndCreatedAtWithAFreshSentAt) {
  Tracker tracker(Options(), &clock_, &random_);
  ASSERT_TRUE(tracker.Track(ClickJson(), nullptr, nullptr).ok());
  clock_.Advance(7);
  ASSERT_TRUE(tracker.Track(ClickJson(), nullptr, nullptr).ok());
  clock_.Advance(2000);
  std::string first, second;
  ASSERT_EQ(tracker.NextBatch(&first), 2u);
  clock_.Advance(30000);  // the send failed; retry later
  ASSERT_EQ(tracker.NextBatch(&second), 2u);
  const DecodedBatch a = Decode(first);
  const DecodedBatch b = Decode(second);
  EXPECT_EQ(a.sent_at_ms, kT + 2007);
  EXPECT_EQ(b.sent_at_ms, kT + 32007);
  ASSERT_EQ(a.events.size(), 2u);
  ASSERT_EQ(b.events.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(a.events[i].event_id, b.events[i].event_id);
    EXPECT_EQ(a.events[i].created_at_ms, b.events[i].created_at_ms);
  }
  EXPECT_EQ(a.events[0].created_at_ms, kT);
  EXPECT_EQ(a.events[1].created_at_ms, kT + 7);
}

TEST_F(TrackerTest, AckRemovesTheDeliveredHead) {
  Tracker tracker(Options(), &clock_, &random_);
  std::vector<std::string> ids(3);
  for (auto& id : ids) ASSERT_TRUE(tracker.Track(ClickJson(), nullptr, &id).ok());
  tracker.Ack(2);
  std::string body;
  ASSERT_EQ(tracker.NextBatch(&body), 1u);
  EXPECT_EQ(Decode(body).events[0].event_id, ids[2]);
  tracker.Ack(1);
  EXPECT_EQ(tracker.NextBatch(&body), 0u);
  EXPECT_TRUE(body.empty());
}

TEST_F(TrackerTest, BatchCarriesTheClockOffset) {
  Tracker tracker(Options(), &clock_, &random_);
  tracker.OnServerTime(kT - 100, kT - 20, kT - 60 - 1520);  // collector 1.52 s behind
  EXPECT_EQ(tracker.ClockOffsetMs(), -1520);
  tracker.OnServerTime(kT, kT - 5, kT);  // negative round trip: ignored
  EXPECT_EQ(tracker.ClockOffsetMs(), -1520);
  ASSERT_TRUE(tracker.Track(ClickJson(), nullptr, nullptr).ok());
  std::string body;
  ASSERT_EQ(tracker.NextBatch(&body), 1u);
  EXPECT_EQ(Decode(body).clock_offset_ms, -1520);
}

TEST_F(TrackerTest, DueOnAgeThroughTheClock) {
  Tracker tracker(Options(), &clock_, &random_);  // max_age_ms 2000
  EXPECT_FALSE(tracker.BatchDue());
  EXPECT_EQ(tracker.MsUntilDue(), -1);
  ASSERT_TRUE(tracker.Track(ClickJson(), nullptr, nullptr).ok());
  EXPECT_FALSE(tracker.BatchDue());
  EXPECT_EQ(tracker.MsUntilDue(), 2000);
  clock_.Advance(1999);
  EXPECT_EQ(tracker.MsUntilDue(), 1);
  clock_.Advance(1);
  EXPECT_TRUE(tracker.BatchDue());
  EXPECT_EQ(tracker.MsUntilDue(), 0);
}

TEST_F(TrackerTest, DueOnCount) {
  TrackerOptions options = Options();
  options.batch.max_events = 5;
  Tracker tracker(options, &clock_, &random_);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(tracker.Track(ClickJson(), nullptr, nullptr).ok());
  EXPECT_FALSE(tracker.BatchDue());
  ASSERT_TRUE(tracker.Track(ClickJson(), nullptr, nullptr).ok());
  EXPECT_TRUE(tracker.BatchDue());
}

TEST_F(TrackerTest, NeverBuildsABatchOverTheByteLimit) {
  TrackerOptions options = Options();
  options.batch.max_bytes = 3000;
  options.batch.max_events = 1000;
  Tracker tracker(options, &clock_, &random_);
  tracker.OnServerTime(kT - 100, kT - 20, kT - 60 - 1520);
  for (int i = 0; i < 60; ++i) {
    const std::string note(static_cast<size_t>(i * 37 % 200), 'x');
    ASSERT_TRUE(
        tracker.Track(ClickJson(R"(,"anonymous_id":")" + note + "a\""), nullptr, nullptr).ok());
    clock_.Advance(3);
  }
  for (size_t limit : {size_t{0}, size_t{1500}, size_t{700}}) {
    std::string body;
    const size_t n = tracker.NextBatch(&body, limit);
    ASSERT_GT(n, 0u);
    const size_t bound = limit == 0 ? 3000 : limit;
    EXPECT_LE(body.size(), bound);
    EXPECT_EQ(Decode(body).events.size(), n);
    // And it is the longest such prefix: one more event would pass the limit.
    std::vector<std::string> parts;
    std::string snapshot = tracker.Snapshot();
    for (size_t pos = 0; parts.size() < n + 1;) {
      const size_t end = snapshot.find('\n', pos);
      parts.push_back(snapshot.substr(pos, end - pos));
      pos = end + 1;
    }
    std::vector<std::string_view> views(parts.begin(), parts.end());
    std::string bigger;
    EncodeBatch("wk_test", clock_.NowMs(), -1520, views, &bigger);
    EXPECT_GT(bigger.size(), bound);
  }
  // Draining it batch by batch delivers every event once.
  size_t delivered = 0;
  std::string body;
  while (size_t n = tracker.NextBatch(&body)) {
    EXPECT_LE(body.size(), 3000u);
    delivered += n;
    tracker.Ack(n);
  }
  EXPECT_EQ(delivered, 60u);
}

TEST_F(TrackerTest, SnapshotRestoreRoundTripKeepsIdsAndCreatedAt) {
  Tracker tab1(Options(), &clock_, &random_);
  std::vector<std::string> ids(3);
  for (auto& id : ids) {
    ASSERT_TRUE(tab1.Track(ClickJson(), nullptr, &id).ok());
    clock_.Advance(11);
  }
  const std::string snapshot = tab1.Snapshot();
  EXPECT_EQ(std::count(snapshot.begin(), snapshot.end(), '\n'), 3);

  // A reload: a new tracker, a later clock, other random bits.
  clock_.Advance(3600000);
  CountingRandom other_random(42);
  Tracker tab2(Options(), &clock_, &other_random);
  size_t restored = 0, dropped = 0;
  ASSERT_TRUE(tab2.Restore(snapshot, &restored, &dropped).ok());
  EXPECT_EQ(restored, 3u);
  EXPECT_EQ(dropped, 0u);
  EXPECT_EQ(tab2.Snapshot(), snapshot);

  std::string body;
  ASSERT_EQ(tab2.NextBatch(&body), 3u);
  const DecodedBatch batch = Decode(body);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(batch.events[i].event_id, ids[i]);
    EXPECT_EQ(batch.events[i].created_at_ms, kT + 11 * static_cast<int64_t>(i));
  }
  // They have waited an hour: due at once.
  EXPECT_TRUE(tab2.BatchDue());
}

TEST_F(TrackerTest, RestoringTwiceDoesNotDuplicate) {
  Tracker tab1(Options(), &clock_, &random_);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(tab1.Track(ClickJson(), nullptr, nullptr).ok());
  const std::string snapshot = tab1.Snapshot();
  CountingRandom other_random(42);
  Tracker tab2(Options(), &clock_, &other_random);
  size_t restored = 0, dropped = 0;
  ASSERT_TRUE(tab2.Restore(snapshot, &restored, &dropped).ok());
  ASSERT_TRUE(tab2.Restore(snapshot, &restored, &dropped).ok());
  EXPECT_EQ(restored, 0u);
  EXPECT_EQ(dropped, 0u);
  EXPECT_EQ(tab2.queued_events(), 4u);
  // Nor does restoring events this tracker already delivered (natively; the browser core keeps
  // no memory of delivered ids and queues them again, for the collector to drop).
  tab2.Ack(4);
  ASSERT_TRUE(tab2.Restore(snapshot, &restored, &dropped).ok());
  EXPECT_EQ(restored, kBrowserCore ? 4u : 0u);
  EXPECT_EQ(tab2.queued_events(), kBrowserCore ? 4u : 0u);
}

TEST_F(TrackerTest, RestoreCountsAndSkipsBadLines) {
  Tracker tab1(Options(), &clock_, &random_);
  std::string a, b;
  ASSERT_TRUE(tab1.Track(ClickJson(), &a, nullptr).ok());
  ASSERT_TRUE(tab1.Track(ClickJson(), &b, nullptr).ok());
  const std::string no_name =
      R"({"event_id":"0193303c-ef7b-7abc-8def-0123456789ab","type":"track","name":"",)"
      R"("user_id":"u","created_at":1731681120123})";
  const std::string no_id =
      R"({"type":"track","name":"x","user_id":"u","created_at":1731681120123})";
  const std::string snapshot = a + "\r\n" + "not json\n" + "\n" + no_name + "\n" + no_id + "\n" +
                               "{\"event_id\":\"\xff\"}\n" + b;  // and no final newline
  CountingRandom other_random(42);
  Tracker tab2(Options(), &clock_, &other_random);
  size_t restored = 0, dropped = 0;
  ASSERT_TRUE(tab2.Restore(snapshot, &restored, &dropped).ok());
  EXPECT_EQ(restored, 2u);
  EXPECT_EQ(dropped, 4u);
  EXPECT_EQ(tab2.Snapshot(), a + "\n" + b + "\n");
}

TEST_F(TrackerTest, RestoreIntoAFullQueueSaysSoAndKeepsWhatFits) {
  Tracker tab1(Options(), &clock_, &random_);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(tab1.Track(ClickJson(), nullptr, nullptr).ok());
  TrackerOptions small = Options();
  small.queue.max_events = 3;
  CountingRandom other_random(42);
  Tracker tab2(small, &clock_, &other_random);
  size_t restored = 0, dropped = 0;
  const Status status = tab2.Restore(tab1.Snapshot(), &restored, &dropped);
  EXPECT_EQ(status.code(), Code::kResourceExhausted);
  EXPECT_EQ(restored, 3u);
  EXPECT_EQ(dropped, 2u);
  EXPECT_EQ(tab2.queued_events(), 3u);
}

// The browser module restores line by line (wasm/tally_abi.h tally_restore).
TEST_F(TrackerTest, RestoreEventSaysWhatItDidWithOneLine) {
  Tracker tab1(Options(), &clock_, &random_);
  std::string a, b;
  ASSERT_TRUE(tab1.Track(ClickJson(), &a, nullptr).ok());
  ASSERT_TRUE(tab1.Track(ClickJson(), &b, nullptr).ok());
  TrackerOptions one = Options();
  one.queue.max_events = 1;
  CountingRandom other_random(42);
  Tracker tab2(one, &clock_, &other_random);
  using R = Tracker::Restored;
  EXPECT_EQ(tab2.RestoreEvent(""), R::kSkipped);
  EXPECT_EQ(tab2.RestoreEvent(" \t\r"), R::kSkipped);
  EXPECT_EQ(tab2.RestoreEvent("not json"), R::kDropped);
  EXPECT_EQ(tab2.RestoreEvent(R"({"type":"track","name":"x","user_id":"u"})"), R::kDropped);
  EXPECT_EQ(tab2.RestoreEvent(a + "\r"), R::kRestored);
  EXPECT_EQ(tab2.RestoreEvent(a), R::kSkipped);  // still queued
  EXPECT_EQ(tab2.RestoreEvent(b), R::kNoRoom);
  EXPECT_EQ(tab2.Snapshot(), a + "\n");
}

TEST_F(TrackerTest, TrackingARestoredIdIsADuplicate) {
  Tracker tab1(Options(), &clock_, &random_);
  std::string id;
  ASSERT_TRUE(tab1.Track(ClickJson(), nullptr, &id).ok());
  CountingRandom other_random(42);
  Tracker tab2(Options(), &clock_, &other_random);
  ASSERT_TRUE(tab2.Restore(tab1.Snapshot(), nullptr, nullptr).ok());
  EXPECT_EQ(tab2.Track(WithId(id), nullptr, nullptr).code(), Code::kDuplicate);
}

TEST_F(TrackerTest, EmptySnapshotRestoresNothing) {
  Tracker tracker(Options(), &clock_, &random_);
  size_t restored = 9, dropped = 9;
  ASSERT_TRUE(tracker.Restore("", &restored, &dropped).ok());
  EXPECT_EQ(restored, 0u);
  EXPECT_EQ(dropped, 0u);
  EXPECT_EQ(tracker.Snapshot(), "");
}

// PushEncoded: the lite module's tally_push (events the script-tag SDK encoded itself).

std::string Encoded(const std::string& id, int64_t created_at_ms, const std::string& rest = "") {
  return R"({"event_id":")" + id + R"(","created_at":)" + std::to_string(created_at_ms) +
         R"(,"type":"track","name":"Clicked CTA","anonymous_id":"anon-1")" + rest + "}";
}

TEST_F(TrackerTest, PushEncodedQueuesTheTextAsGivenForTheBatch) {
  Tracker tracker(Options(), &clock_, &random_);
  const std::string id = "0193303c-ef7b-7abc-8def-0123456789ab";
  const std::string text = Encoded(id, kT - 5);
  ASSERT_TRUE(tracker.PushEncoded(id, kT - 5, text).ok());
  EXPECT_EQ(tracker.Snapshot(), text + "\n");
  std::string body;
  ASSERT_EQ(tracker.NextBatch(&body), 1u);
  EXPECT_EQ(body, R"({"write_key":"wk_test","sent_at":)" + std::to_string(kT) + R"(,"events":[)" +
                      text + "]}");
  const DecodedBatch batch = Decode(body);
  ASSERT_EQ(batch.events.size(), 1u);
  EXPECT_EQ(batch.events[0].event_id, id);
  EXPECT_EQ(batch.events[0].created_at_ms, kT - 5);
}

TEST_F(TrackerTest, PushEncodedDoesNotValidateTheCollectorDoes) {
  Tracker tracker(Options(), &clock_, &random_);
  const std::string id = "0193303c-ef7b-7abc-8def-0123456789ab";
  const std::string text =
      Encoded(id, kT, R"(,"properties":{"plan":")" + std::string(300, 'x') + R"("})");
  ASSERT_TRUE(tracker.PushEncoded(id, kT, text).ok());
  std::string body;
  ASSERT_EQ(tracker.NextBatch(&body), 1u);
  DecodedBatch batch;
  ASSERT_TRUE(DecodeBatch(body, BatchLimits{}, &batch).ok());
  ASSERT_EQ(batch.rejected.size(), 1u);
  EXPECT_EQ(batch.rejected[0].error.rfind("events[0].properties.plan: ", 0), 0u)
      << batch.rejected[0].error;
}

TEST_F(TrackerTest, PushEncodedRefusesTooLargeDuplicateFullAndAWrongPrefix) {
  TrackerOptions options = Options();
  options.validation.max_event_bytes = 200;
  options.queue.max_events = 2;
  Tracker tracker(options, &clock_, &random_);
  const std::string a = "0193303c-ef7b-7abc-8def-00000000000a";
  const std::string b = "0193303c-ef7b-7abc-8def-00000000000b";
  const std::string c = "0193303c-ef7b-7abc-8def-00000000000c";
  const std::string big =
      Encoded(c, kT, R"(,"properties":{"s":")" + std::string(200, 'y') + R"("})");
  Status s = tracker.PushEncoded(c, kT, big);
  EXPECT_EQ(s.code(), Code::kTooLarge);
  EXPECT_EQ(s.message(), "event: encoded size " + std::to_string(big.size()) +
                             " bytes is over the limit of 200");
  s = tracker.PushEncoded(b, kT, Encoded(a, kT));
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message(), R"(event: must start with {"event_id":")" + b + "\"");
  EXPECT_EQ(tracker.PushEncoded(a, kT, "").code(), Code::kInvalidArgument);
  ASSERT_TRUE(tracker.PushEncoded(a, kT, Encoded(a, kT)).ok());
  EXPECT_EQ(tracker.PushEncoded(a, kT, Encoded(a, kT)).code(), Code::kDuplicate);
  ASSERT_TRUE(tracker.PushEncoded(b, kT, Encoded(b, kT)).ok());
  EXPECT_EQ(tracker.PushEncoded(c, kT, Encoded(c, kT)).code(), Code::kResourceExhausted);
  EXPECT_EQ(tracker.queued_events(), 2u);
}

TEST_F(TrackerTest, PushEncodedCountsTheEventAsQueuedSinceItsCreatedAt) {
  Tracker tracker(Options(), &clock_, &random_);  // max_age_ms 2000
  const std::string a = "0193303c-ef7b-7abc-8def-00000000000a";
  ASSERT_TRUE(tracker.PushEncoded(a, kT - 500, Encoded(a, kT - 500)).ok());
  EXPECT_EQ(tracker.MsUntilDue(), 1500);
  // A created_at in the future counts from now.
  Tracker later(Options(), &clock_, &random_);
  ASSERT_TRUE(later.PushEncoded(a, kT + 100000, Encoded(a, kT + 100000)).ok());
  EXPECT_EQ(later.MsUntilDue(), 2000);
}

}  // namespace
}  // namespace tally
