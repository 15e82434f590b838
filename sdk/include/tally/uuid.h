// UUIDv7 event ids (RFC 9562): 48-bit Unix ms timestamp, version, 12-bit counter, variant,
// 62 random bits. Time-ordered ids keep the collector's inserts fast (DESIGN.md lesson 3).
#ifndef TALLY_UUID_H_
#define TALLY_UUID_H_

#include <cstdint>
#include <string>

#include "tally/clock.h"

namespace tally {

class UuidV7Generator {
 public:
  /// `random` must outlive the generator.
  explicit UuidV7Generator(RandomSource* random);

  /// A new id for time `now_ms`, in lower-case canonical form. Ids from one generator are
  /// strictly increasing (as strings and as bytes), even when called many times in one
  /// millisecond (the 12-bit rand_a field is a counter seeded randomly each new millisecond,
  /// RFC 9562 method 1) or when the clock steps backwards (the last timestamp is reused).
  std::string Next(int64_t now_ms);

  /// The millisecond timestamp embedded in a canonical UUIDv7 string, or -1 if it is not one.
  static int64_t TimestampMs(const std::string& uuid);

 private:
  RandomSource* random_;
  int64_t last_ms_ = -1;
  uint32_t counter_ = 0;
};

}  // namespace tally

#endif  // TALLY_UUID_H_
