#include "tally/uuid.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "fake_clock.h"

namespace tally {
namespace {

constexpr int64_t kNow = 1731681120123;  // 2024-11-15T14:32:00.123Z

bool IsLowerCanonical(const std::string& s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

// The 12-bit rand_a field: hex digits 15..17.
int RandA(const std::string& id) { return std::stoi(id.substr(15, 3), nullptr, 16); }

TEST(UuidV7, HasVersionVariantAndLowerCaseCanonicalForm) {
  CountingRandom random;
  UuidV7Generator ids(&random);
  for (int i = 0; i < 100; ++i) {
    const std::string id = ids.Next(kNow + i / 3);
    EXPECT_TRUE(IsLowerCanonical(id)) << id;
    EXPECT_EQ(id[14], '7') << id;
    EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << id;
  }
}

TEST(UuidV7, EmbedsTheMillisecondTimestamp) {
  CountingRandom random;
  UuidV7Generator ids(&random);
  const std::string id = ids.Next(kNow);
  EXPECT_EQ(UuidV7Generator::TimestampMs(id), kNow);
  // 1731681120123 = 0x0193303c_ef7b.
  EXPECT_EQ(id.substr(0, 13), "0193303c-ef7b");
}

TEST(UuidV7, CounterSeedLeavesRoomToCount) {
  CountingRandom random;
  UuidV7Generator ids(&random);
  for (int i = 0; i < 200; ++i) {
    // Each new millisecond reseeds the counter with its top bit clear.
    EXPECT_LT(RandA(ids.Next(kNow + i)), 0x800);
  }
}

TEST(UuidV7, TenThousandIdsInOneMillisecondAreStrictlyIncreasingAndUnique) {
  CountingRandom random;
  UuidV7Generator ids(&random);
  std::set<std::string> unique;
  std::string previous;
  for (int i = 0; i < 10000; ++i) {
    const std::string id = ids.Next(kNow);
    ASSERT_GT(id, previous) << "at " << i;
    unique.insert(id);
    previous = id;
  }
  EXPECT_EQ(unique.size(), 10000u);
  // The counter overflowed into later milliseconds, but the ids' time stays close to now.
  const int64_t last_ms = UuidV7Generator::TimestampMs(previous);
  EXPECT_GT(last_ms, kNow);
  EXPECT_LE(last_ms, kNow + 5);
}

TEST(UuidV7, StaysIncreasingAfterCounterOverflowWhenTheClockCatchesUp) {
  CountingRandom random;
  UuidV7Generator ids(&random);
  std::string previous;
  for (int i = 0; i < 5000; ++i) previous = ids.Next(kNow);
  // The clock reaches the millisecond the overflow borrowed.
  for (int64_t t = kNow; t <= kNow + 3; ++t) {
    const std::string id = ids.Next(t);
    EXPECT_GT(id, previous);
    previous = id;
  }
}

TEST(UuidV7, ClockSteppingBackwardsKeepsIdsIncreasing) {
  CountingRandom random;
  UuidV7Generator ids(&random);
  const std::string before = ids.Next(kNow);
  const std::string after_step_back = ids.Next(kNow - 60000);
  EXPECT_GT(after_step_back, before);
  EXPECT_EQ(UuidV7Generator::TimestampMs(after_step_back), kNow);
  const std::string later = ids.Next(kNow + 1);
  EXPECT_GT(later, after_step_back);
  EXPECT_EQ(UuidV7Generator::TimestampMs(later), kNow + 1);
}

TEST(UuidV7, NewMillisecondRestartsTheCounterAndStillSortsLater) {
  CountingRandom random;
  UuidV7Generator ids(&random);
  const std::string a = ids.Next(kNow);
  const std::string b = ids.Next(kNow + 1);
  EXPECT_GT(b, a);
  EXPECT_EQ(UuidV7Generator::TimestampMs(b), kNow + 1);
}

TEST(UuidV7, RandomBitsDiffer) {
  CountingRandom random;
  UuidV7Generator ids(&random);
  const std::string a = ids.Next(kNow);
  const std::string b = ids.Next(kNow);
  EXPECT_NE(a.substr(19), b.substr(19));
}

TEST(UuidV7, TimestampMsRejectsWhatIsNotAUuidV7) {
  EXPECT_EQ(UuidV7Generator::TimestampMs(""), -1);
  EXPECT_EQ(UuidV7Generator::TimestampMs("not a uuid"), -1);
  // Version 4.
  EXPECT_EQ(UuidV7Generator::TimestampMs("0193303c-ef7b-4abc-8def-0123456789ab"), -1);
  // Variant 0b11.
  EXPECT_EQ(UuidV7Generator::TimestampMs("0193303c-ef7b-7abc-cdef-0123456789ab"), -1);
  // Missing dash, non-hex digit, one character short, one too many.
  EXPECT_EQ(UuidV7Generator::TimestampMs("0193303cef7b-7abc-8def-0123456789ab0"), -1);
  EXPECT_EQ(UuidV7Generator::TimestampMs("0193303c-ef7b-7abc-8def-0123456789ag"), -1);
  EXPECT_EQ(UuidV7Generator::TimestampMs("0193303c-ef7b-7abc-8def-0123456789a"), -1);
  EXPECT_EQ(UuidV7Generator::TimestampMs("0193303c-ef7b-7abc-8def-0123456789abc"), -1);
  // Upper case is still a UUID.
  EXPECT_EQ(UuidV7Generator::TimestampMs("0193303C-EF7B-7ABC-8DEF-0123456789AB"), kNow);
}

TEST(UuidV7, ClampsTimesOutsideTheFortyEightBitField) {
  CountingRandom random;
  UuidV7Generator ids(&random);
  EXPECT_EQ(UuidV7Generator::TimestampMs(ids.Next(-5)), 0);
  CountingRandom random2;
  UuidV7Generator ids2(&random2);
  const std::string top = ids2.Next(int64_t{1} << 50);
  EXPECT_EQ(UuidV7Generator::TimestampMs(top), (int64_t{1} << 48) - 1);
  EXPECT_GT(ids2.Next(int64_t{1} << 50), top);
}

}  // namespace
}  // namespace tally
