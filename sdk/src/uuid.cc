// UUIDv7 (RFC 9562 section 5.7), with the 12-bit rand_a field used as a counter (section 6.2,
// method 1) so ids from one generator sort in the order they were made:
//
//   bits   0..47   unix_ts_ms   big-endian milliseconds since the epoch
//         48..51   ver          0b0111
//         52..63   rand_a       counter, seeded randomly each new millisecond
//         64..65   var          0b10
//         66..127  rand_b       62 random bits
#include "tally/uuid.h"

namespace tally {
namespace {

constexpr int64_t kMaxTimestampMs = (int64_t{1} << 48) - 1;
constexpr uint32_t kCounterMax = 0xfff;
// The seed leaves the counter's top bit clear, so at least 2048 ids fit in a millisecond before
// the counter overflows into the next one.
constexpr uint32_t kCounterSeedMask = 0x7ff;

constexpr char kHex[] = "0123456789abcdef";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsDashPosition(size_t i) { return i == 8 || i == 13 || i == 18 || i == 23; }

}  // namespace

UuidV7Generator::UuidV7Generator(RandomSource* random) : random_(random) {}

std::string UuidV7Generator::Next(int64_t now_ms) {
  if (now_ms < 0) now_ms = 0;
  if (now_ms > kMaxTimestampMs) now_ms = kMaxTimestampMs;
  if (now_ms > last_ms_) {
    last_ms_ = now_ms;
    counter_ = static_cast<uint32_t>(random_->Next64()) & kCounterSeedMask;
  } else if (counter_ < kCounterMax) {
    // Same millisecond, or the clock stepped back: keep the last timestamp, count up.
    ++counter_;
  } else {
    // The counter is spent: borrow the next millisecond rather than repeat or go backwards.
    // The id's time runs at most a little ahead of the clock, only during such a burst.
    if (last_ms_ < kMaxTimestampMs) ++last_ms_;
    counter_ = static_cast<uint32_t>(random_->Next64()) & kCounterSeedMask;
  }

  const uint64_t ms = static_cast<uint64_t>(last_ms_);
  const uint64_t rand_b = random_->Next64();
  uint8_t bytes[16];
  for (int i = 0; i < 6; ++i) bytes[i] = static_cast<uint8_t>(ms >> (40 - 8 * i));
  bytes[6] = static_cast<uint8_t>(0x70 | (counter_ >> 8));
  bytes[7] = static_cast<uint8_t>(counter_);
  bytes[8] = static_cast<uint8_t>(0x80 | ((rand_b >> 56) & 0x3f));
  for (int i = 9; i < 16; ++i) bytes[i] = static_cast<uint8_t>(rand_b >> (8 * (15 - i)));

  char text[36];
  size_t pos = 0;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) text[pos++] = '-';
    text[pos++] = kHex[bytes[i] >> 4];
    text[pos++] = kHex[bytes[i] & 0xf];
  }
  return std::string(text, sizeof(text));
}

int64_t UuidV7Generator::TimestampMs(const std::string& uuid) {
  if (uuid.size() != 36) return -1;
  for (size_t i = 0; i < uuid.size(); ++i) {
    if (IsDashPosition(i)) {
      if (uuid[i] != '-') return -1;
    } else if (HexValue(uuid[i]) < 0) {
      return -1;
    }
  }
  if (uuid[14] != '7') return -1;
  const int variant = HexValue(uuid[19]);
  if ((variant & 0xc) != 0x8) return -1;
  int64_t ms = 0;
  for (size_t i = 0; i < 13; ++i) {
    if (i == 8) continue;
    ms = (ms << 4) | HexValue(uuid[i]);
  }
  return ms;
}

}  // namespace tally
