#include "tally/clock.h"

#include <gtest/gtest.h>

#include <set>

namespace tally {
namespace {

TEST(SeededRandom, MatchesXoshiro256StarStarReferenceOutput) {
  // The first outputs of the reference implementation for the state {1, 2, 3, 4}.
  SeededRandom random(1, 2, 3, 4);
  EXPECT_EQ(random.Next64(), 11520u);
  EXPECT_EQ(random.Next64(), 0u);
  EXPECT_EQ(random.Next64(), 1509978240u);
  EXPECT_EQ(random.Next64(), 1215971899390074240u);
}

TEST(SeededRandom, AllZeroSeedStillProducesVaryingWords) {
  SeededRandom random(0, 0, 0, 0);
  std::set<uint64_t> seen;
  for (int i = 0; i < 100; ++i) seen.insert(random.Next64());
  EXPECT_EQ(seen.size(), 100u);
}

TEST(SeededRandom, SameSeedSameSequence) {
  SeededRandom a(7, 8, 9, 10);
  SeededRandom b(7, 8, 9, 10);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(a.Next64(), b.Next64());
}

}  // namespace
}  // namespace tally
