#include "tally/batcher.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "tally/codec.h"

namespace tally {
namespace {

constexpr int64_t kT = 1731681120000;

// A stand-in for an encoded event of exactly `size` bytes (the batcher only measures them).
std::string Encoded(const std::string& id, size_t size) {
  std::string s = "{\"event_id\":\"" + id + "\"";
  if (s.size() + 1 < size) s.append(size - s.size() - 1, ' ');
  s.push_back('}');
  return s;
}

std::string Id(int i) { return "id-" + std::to_string(i); }

TEST(Batcher, EmptyQueueIsNeverDue) {
  Batcher batcher(BatchOptions{}, QueueOptions{});
  EXPECT_FALSE(batcher.Due(kT + 1000000));
  EXPECT_EQ(batcher.MsUntilDue(kT), -1);
  EXPECT_EQ(batcher.NextBatchCount(50), 0u);
}

TEST(Batcher, FlushesOnCount) {
  BatchOptions batch;
  batch.max_events = 3;
  Batcher batcher(batch, QueueOptions{});
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(batcher.Push(Id(i), Encoded(Id(i), 100), kT).ok());
  EXPECT_FALSE(batcher.Due(kT));
  ASSERT_TRUE(batcher.Push(Id(2), Encoded(Id(2), 100), kT).ok());
  EXPECT_TRUE(batcher.Due(kT));
  EXPECT_EQ(batcher.MsUntilDue(kT), 0);
  ASSERT_TRUE(batcher.Push(Id(3), Encoded(Id(3), 100), kT).ok());
  EXPECT_EQ(batcher.NextBatchCount(50), 3u);  // never more than max_events
}

TEST(Batcher, FlushesWhenBytesReachTheLimit) {
  BatchOptions batch;
  batch.max_bytes = 1000;
  Batcher batcher(batch, QueueOptions{});
  // 4 events of 249 bytes joined by 3 commas are 999 bytes: not yet a full batch.
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(batcher.Push(Id(i), Encoded(Id(i), 249), kT).ok());
  EXPECT_FALSE(batcher.Due(kT));
  ASSERT_TRUE(batcher.Push(Id(4), Encoded(Id(4), 10), kT).ok());
  EXPECT_TRUE(batcher.Due(kT));
}

TEST(Batcher, FlushesOnAge) {
  BatchOptions batch;
  batch.max_age_ms = 2000;
  Batcher batcher(batch, QueueOptions{});
  ASSERT_TRUE(batcher.Push(Id(0), Encoded(Id(0), 100), kT).ok());
  ASSERT_TRUE(batcher.Push(Id(1), Encoded(Id(1), 100), kT + 1500).ok());
  EXPECT_FALSE(batcher.Due(kT + 1999));
  EXPECT_EQ(batcher.MsUntilDue(kT + 500), 1500);  // the oldest decides
  EXPECT_TRUE(batcher.Due(kT + 2000));
  EXPECT_EQ(batcher.MsUntilDue(kT + 2000), 0);
  batcher.Pop(1);
  EXPECT_FALSE(batcher.Due(kT + 2000));
  EXPECT_EQ(batcher.MsUntilDue(kT + 2000), 1500);
}

TEST(Batcher, ClockSteppingBackIsDueRatherThanStranded) {
  Batcher batcher(BatchOptions{}, QueueOptions{});
  ASSERT_TRUE(batcher.Push(Id(0), Encoded(Id(0), 100), kT).ok());
  EXPECT_TRUE(batcher.Due(kT - 3600000));
}

TEST(Batcher, NeverBuildsBatchOverByteLimit) {
  BatchOptions batch;
  batch.max_bytes = 1000;
  Batcher batcher(batch, QueueOptions{});
  const size_t sizes[] = {300, 250, 200, 240, 50, 999};
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(batcher.Push(Id(i), Encoded(Id(i), sizes[i]), kT).ok());
  // overhead 9 + 300 + 1 + 250 + 1 + 200 + 1 + 240 = 1002 > 1000: three fit (760 bytes).
  EXPECT_EQ(batcher.NextBatchCount(9), 3u);
  // Exactly at the limit still fits.
  EXPECT_EQ(batcher.NextBatchCount(7), 4u);  // 7 + 300+1+250+1+200+1+240 = 1000
  EXPECT_EQ(batcher.NextBatchCount(8), 3u);  // one byte over
  // A smaller budget (the page-unload path) takes fewer.
  EXPECT_EQ(batcher.NextBatchCount(9, 600), 2u);
  // The head alone does not fit a tiny budget: nothing, rather than an oversized batch.
  EXPECT_EQ(batcher.NextBatchCount(9, 300), 0u);
  // An envelope larger than the budget leaves no room at all.
  EXPECT_EQ(batcher.NextBatchCount(2000), 0u);
}

TEST(Batcher, NeverBuildsBatchOverByteLimitWithTheRealEncoder) {
  // The size NextBatchCount predicts is the size EncodeBatch writes, to the byte.
  BatchOptions batch;
  batch.max_bytes = 2048;
  batch.max_events = 1000;
  Batcher batcher(batch, QueueOptions{});
  for (int i = 0; i < 40; ++i) {
    Event event;
    event.event_id = "0193303c-ef7b-7abc-8def-0123456789" + std::to_string(10 + i);
    event.name = "Clicked \"CTA\" " + std::string(static_cast<size_t>(i * 13 % 97), 'x');
    event.user_id = "C-2847391";
    event.created_at_ms = kT + i;
    event.properties.Set("note", Json::String(std::string(static_cast<size_t>(i * 7 % 50), 'n')));
    ASSERT_TRUE(batcher.Push(event.event_id, EncodeEvent(event), kT).ok());
  }
  for (const std::optional<int64_t> offset :
       {std::optional<int64_t>(), std::optional<int64_t>(-1520)}) {
    for (size_t limit : {size_t{0}, size_t{1024}, size_t{600}}) {
      const size_t overhead = BatchOverheadBytes("wk_\"quoted\"", kT + 5000, offset);
      const size_t n = batcher.NextBatchCount(overhead, limit);
      ASSERT_GT(n, 0u);
      const size_t bound = limit == 0 ? batch.max_bytes : limit;
      std::string body;
      EncodeBatch("wk_\"quoted\"", kT + 5000, offset, batcher.Head(n), &body);
      EXPECT_LE(body.size(), bound);
      std::string one_more;
      EncodeBatch("wk_\"quoted\"", kT + 5000, offset, batcher.Head(n + 1), &one_more);
      EXPECT_GT(one_more.size(), bound) << "a longer batch would have fit";
    }
  }
}

TEST(Batcher, RefusesAnEventThatCouldNeverFitABatch) {
  BatchOptions batch;
  batch.max_bytes = 1000;
  Batcher batcher(batch, QueueOptions{});
  const Status status = batcher.Push(Id(0), Encoded(Id(0), 1001), kT);
  EXPECT_EQ(status.code(), Code::kTooLarge);
  EXPECT_NE(status.message().find("event:"), std::string::npos) << status.message();
  EXPECT_TRUE(batcher.empty());
}

TEST(Batcher, QueueFullByCountIsResourceExhausted) {
  QueueOptions queue;
  queue.max_events = 3;
  Batcher batcher(BatchOptions{}, queue);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(batcher.Push(Id(i), Encoded(Id(i), 100), kT).ok());
  const Status status = batcher.Push(Id(3), Encoded(Id(3), 100), kT);
  EXPECT_EQ(status.code(), Code::kResourceExhausted);
  EXPECT_NE(status.message().find("queue"), std::string::npos) << status.message();
  EXPECT_EQ(batcher.size(), 3u);
  EXPECT_FALSE(batcher.Contains(Id(3)));
  batcher.Pop(1);
  EXPECT_TRUE(batcher.Push(Id(3), Encoded(Id(3), 100), kT).ok());
}

TEST(Batcher, QueueFullByBytesIsResourceExhausted) {
  QueueOptions queue;
  queue.max_bytes = 250;
  Batcher batcher(BatchOptions{}, queue);
  ASSERT_TRUE(batcher.Push(Id(0), Encoded(Id(0), 100), kT).ok());
  ASSERT_TRUE(batcher.Push(Id(1), Encoded(Id(1), 150), kT).ok());  // exactly the bound
  EXPECT_EQ(batcher.bytes(), 250u);
  EXPECT_EQ(batcher.Push(Id(2), Encoded(Id(2), 20), kT).code(), Code::kResourceExhausted);
  EXPECT_EQ(batcher.bytes(), 250u);
  EXPECT_EQ(batcher.CanPush(Id(2), 20).code(), Code::kResourceExhausted);
  batcher.Pop(1);
  EXPECT_TRUE(batcher.CanPush(Id(2), 20).ok());
}

TEST(Batcher, RefusesAnIdAlreadyQueued) {
  Batcher batcher(BatchOptions{}, QueueOptions{});
  ASSERT_TRUE(batcher.Push(Id(0), Encoded(Id(0), 100), kT).ok());
  EXPECT_EQ(batcher.Push(Id(0), Encoded(Id(0), 100), kT).code(), Code::kDuplicate);
  EXPECT_EQ(batcher.size(), 1u);
}

TEST(Batcher, HeadPopAndContainsFollowTheQueue) {
  Batcher batcher(BatchOptions{}, QueueOptions{});
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(batcher.Push(Id(i), Encoded(Id(i), 50 + i), kT).ok());
  EXPECT_EQ(batcher.bytes(), 50u + 51 + 52 + 53 + 54);
  const auto head = batcher.Head(2);
  ASSERT_EQ(head.size(), 2u);
  EXPECT_EQ(head[0], Encoded(Id(0), 50));
  EXPECT_EQ(head[1], Encoded(Id(1), 51));
  EXPECT_EQ(batcher.Head(99).size(), 5u);
  EXPECT_EQ(batcher.size(), 5u);  // Head does not remove

  batcher.Pop(2);
  EXPECT_FALSE(batcher.Contains(Id(0)));
  EXPECT_FALSE(batcher.Contains(Id(1)));
  EXPECT_TRUE(batcher.Contains(Id(2)));
  EXPECT_TRUE(batcher.Contains(Id(4)));
  EXPECT_EQ(batcher.bytes(), 52u + 53 + 54);
  EXPECT_EQ(batcher[0].event_id, Id(2));

  batcher.Pop(100);  // more than queued
  EXPECT_TRUE(batcher.empty());
  EXPECT_EQ(batcher.bytes(), 0u);
  EXPECT_FALSE(batcher.Contains(Id(4)));
}

TEST(Batcher, ContainsStaysRightAcrossManyPushesAndPops) {
  // Short ids live inside the string object (small-string buffer); Contains must stay right
  // while the queue's storage grows and is compacted around them.
  Batcher batcher(BatchOptions{}, QueueOptions{});
  int next = 0;
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < 17; ++i, ++next) {
      ASSERT_TRUE(batcher.Push(Id(next), Encoded(Id(next), 40), kT).ok());
    }
    batcher.Pop(13);
  }
  for (int i = 0; i < next; ++i) {
    const bool queued = i >= next - static_cast<int>(batcher.size());
    EXPECT_EQ(batcher.Contains(Id(i)), queued) << i;
  }
}

}  // namespace
}  // namespace tally
