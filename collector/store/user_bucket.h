// The SQLite store's user index is keyed by (workspace_id, user_bucket, derived_at, user_id), where
// user_bucket is a hash of the user id: docs/SCHEMA.md, "The user index", and docs/DECISIONS.md
// say why. The store writes the bucket of every row with a user id; every query that filters by
// user id also filters by its bucket, so it reads that bucket's index range only. The value is
// stored in the file: the function and kUserBuckets must never change.
#ifndef TALLY_COLLECTOR_STORE_USER_BUCKET_H_
#define TALLY_COLLECTOR_STORE_USER_BUCKET_H_

#include <cstdint>
#include <string_view>

namespace tally::collector {

/// Buckets of the user index. Each is one insertion point at the right edge of the index while
/// time moves forward, so a group commit dirties about this many of its pages whatever the
/// number of users; a user's lookup reads 1/kUserBuckets of the index entries in its range.
constexpr int kUserBuckets = 32;

/// The bucket of a (non-empty) user id, in [0, kUserBuckets): 32-bit FNV-1a of its bytes, mixed
/// by MurmurHash3's finalizer (FNV alone spreads ids that differ in their last digit unevenly).
/// Byte by byte, so a file gives the same buckets on any machine.
inline int64_t UserBucket(std::string_view user_id) {
  uint32_t h = 2166136261u;
  for (unsigned char c : user_id) {
    h ^= c;
    h *= 16777619u;
  }
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return static_cast<int64_t>(h % kUserBuckets);
}

}  // namespace tally::collector

#endif  // TALLY_COLLECTOR_STORE_USER_BUCKET_H_
