// Test doubles for the core's injected time and randomness (never sleep in a test).
#ifndef TALLY_TESTS_SDK_FAKE_CLOCK_H_
#define TALLY_TESTS_SDK_FAKE_CLOCK_H_

#include <cstdint>

#include "tally/clock.h"

namespace tally {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t now_ms = 1731681120123) : now_ms_(now_ms) {}
  int64_t NowMs() const override { return now_ms_; }
  void Set(int64_t now_ms) { now_ms_ = now_ms; }
  void Advance(int64_t ms) { now_ms_ += ms; }

 private:
  int64_t now_ms_;
};

/// Returns a fixed sequence (counter-based), so ids in tests are reproducible.
class CountingRandom final : public RandomSource {
 public:
  explicit CountingRandom(uint64_t start = 0x0123456789abcdefULL) : next_(start) {}
  uint64_t Next64() override { return next_ += 0x9e3779b97f4a7c15ULL; }

 private:
  uint64_t next_;
};

}  // namespace tally

#endif  // TALLY_TESTS_SDK_FAKE_CLOCK_H_
