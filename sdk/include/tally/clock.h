// Time and randomness come into the core through these two interfaces (STYLE.md habit 4), so the
// same code runs in the browser (Wasm), in the collector and under a fake clock in tests.
#ifndef TALLY_CLOCK_H_
#define TALLY_CLOCK_H_

#include <cstdint>

namespace tally {

/// Milliseconds since the Unix epoch, UTC.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowMs() const = 0;
};

/// A source of uniformly random 64-bit words. Not required to be cryptographic; callers that
/// need unguessable values seed it from one (crypto.getRandomValues, /dev/urandom).
class RandomSource {
 public:
  virtual ~RandomSource() = default;
  virtual uint64_t Next64() = 0;
};

/// xoshiro256** seeded with 256 bits. Small and fast; good enough for the random bits of ids
/// when its seed comes from a cryptographic source. Hand-written because it is 20 lines on the
/// hot path of every track() call.
class SeededRandom final : public RandomSource {
 public:
  /// A seed of all zeros is replaced by a fixed non-zero one (xoshiro must not be all zero).
  SeededRandom(uint64_t s0, uint64_t s1, uint64_t s2, uint64_t s3);
  uint64_t Next64() override;

 private:
  uint64_t s_[4];
};

}  // namespace tally

#endif  // TALLY_CLOCK_H_
