// xoshiro256** by David Blackman and Sebastiano Vigna (public domain reference at
// https://prng.di.unimi.it/xoshiro256starstar.c), hand-written because it is a few lines on the
// hot path of every track() call.
#include "tally/clock.h"

namespace tally {
namespace {

inline uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

SeededRandom::SeededRandom(uint64_t s0, uint64_t s1, uint64_t s2, uint64_t s3)
    : s_{s0, s1, s2, s3} {
  // An all-zero state is a fixed point of the generator: it would return 0 forever.
  if ((s0 | s1 | s2 | s3) == 0) {
    s_[0] = 0x9e3779b97f4a7c15ULL;
    s_[1] = 0xbf58476d1ce4e5b9ULL;
    s_[2] = 0x94d049bb133111ebULL;
    s_[3] = 0x2545f4914f6cdd1dULL;
  }
}

uint64_t SeededRandom::Next64() {
  const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = Rotl(s_[3], 45);
  return result;
}

}  // namespace tally
