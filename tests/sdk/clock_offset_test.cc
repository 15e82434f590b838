#include "tally/clock_offset.h"

#include <gtest/gtest.h>

namespace tally {
namespace {

constexpr int64_t kT = 1731681120000;

TEST(ClockOffset, EmptyBeforeTheFirstSample) {
  ClockOffsetEstimator estimator;
  EXPECT_FALSE(estimator.OffsetMs().has_value());
}

TEST(ClockOffset, SymmetricDelayGivesTheExactOffset) {
  ClockOffsetEstimator estimator;
  // The collector runs 1520 ms ahead; 40 ms each way.
  const int64_t offset = 1520;
  ASSERT_TRUE(estimator.AddSample(kT, kT + 80, kT + 40 + offset));
  EXPECT_EQ(estimator.OffsetMs(), offset);

  ClockOffsetEstimator behind;
  ASSERT_TRUE(behind.AddSample(kT, kT + 80, kT + 40 - 3600000));
  EXPECT_EQ(behind.OffsetMs(), -3600000);
}

TEST(ClockOffset, OddRoundTripRoundsHalfAwayFromZero) {
  ClockOffsetEstimator ahead;
  ASSERT_TRUE(ahead.AddSample(kT, kT + 1, kT + 10));  // 10 - 0.5
  EXPECT_EQ(ahead.OffsetMs(), 10);
  ClockOffsetEstimator behind;
  ASSERT_TRUE(behind.AddSample(kT, kT + 1, kT - 10));  // -10 - 0.5
  EXPECT_EQ(behind.OffsetMs(), -11);
}

TEST(ClockOffset, AsymmetricSlowSampleIsIgnored) {
  ClockOffsetEstimator estimator;
  ASSERT_TRUE(estimator.AddSample(kT, kT + 60, kT + 30 + 500));
  // The answer sat in a queue for 5 s: this round trip would suggest an offset 2.5 s off.
  ASSERT_TRUE(estimator.AddSample(kT + 1000, kT + 6060, kT + 1030 + 500));
  EXPECT_EQ(estimator.OffsetMs(), 500);
  // A faster one later takes over.
  ASSERT_TRUE(estimator.AddSample(kT + 9000, kT + 9020, kT + 9010 + 490));
  EXPECT_EQ(estimator.OffsetMs(), 490);
}

TEST(ClockOffset, WindowRollsSoOldFastSamplesAgeOut) {
  ClockOffsetOptions options;
  options.window = 3;
  ClockOffsetEstimator estimator(options);
  ASSERT_TRUE(estimator.AddSample(kT, kT + 10, kT + 5 + 100));  // fastest, offset 100
  ASSERT_TRUE(estimator.AddSample(kT, kT + 50, kT + 25 + 200));
  ASSERT_TRUE(estimator.AddSample(kT, kT + 40, kT + 20 + 300));
  EXPECT_EQ(estimator.OffsetMs(), 100);
  ASSERT_TRUE(estimator.AddSample(kT, kT + 60, kT + 30 + 400));  // pushes out the fastest
  EXPECT_EQ(estimator.OffsetMs(), 300);
  ASSERT_TRUE(estimator.AddSample(kT, kT + 70, kT + 35 + 500));
  ASSERT_TRUE(estimator.AddSample(kT, kT + 80, kT + 40 + 600));  // only 60/70/80 ms remain
  EXPECT_EQ(estimator.OffsetMs(), 400);
}

TEST(ClockOffset, NewestWinsAmongEquallyFastSamples) {
  ClockOffsetOptions options;
  options.window = 4;
  ClockOffsetEstimator estimator(options);
  for (int64_t i = 0; i < 7; ++i) {
    ASSERT_TRUE(estimator.AddSample(kT, kT + 20, kT + 10 + i));
    EXPECT_EQ(estimator.OffsetMs(), i);
  }
}

TEST(ClockOffset, RefusesNegativeOverlongAndAbsurdRoundTrips) {
  ClockOffsetEstimator estimator;
  EXPECT_FALSE(estimator.AddSample(kT + 10, kT, kT));             // received before sent
  EXPECT_FALSE(estimator.AddSample(kT, kT + 30001, kT + 15000));  // over max_round_trip_ms
  EXPECT_FALSE(estimator.AddSample(INT64_MIN, INT64_MAX, 0));
  EXPECT_FALSE(estimator.AddSample(kT, kT + 10, INT64_MAX));
  EXPECT_FALSE(estimator.OffsetMs().has_value());
  EXPECT_TRUE(estimator.AddSample(kT, kT + 30000, kT + 15000));  // exactly the bound
  EXPECT_EQ(estimator.OffsetMs(), 0);
}

TEST(ClockOffset, ZeroWindowActsAsOne) {
  ClockOffsetOptions options;
  options.window = 0;
  ClockOffsetEstimator estimator(options);
  ASSERT_TRUE(estimator.AddSample(kT, kT + 10, kT + 5 + 7));
  ASSERT_TRUE(estimator.AddSample(kT, kT + 90, kT + 45 + 8));
  EXPECT_EQ(estimator.OffsetMs(), 8);
}

}  // namespace
}  // namespace tally
