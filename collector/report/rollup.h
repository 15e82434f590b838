// Read-side rollups of the SQLite store (docs/SCHEMA.md, "Report rollups"): per-hour aggregates
// that the report queries read instead of millions of rows. They are kept by a job that reads
// events inserted since its watermark (events.seq grows with insertion) and folds them into the
// rollup tables in short transactions of its own; the ingest writer is not changed and never
// waits for more than one such transaction. Rows past the watermark, and hours a delete touched,
// are read raw by the queries, so a report is exact whatever the job's lag.
#ifndef TALLY_COLLECTOR_REPORT_ROLLUP_H_
#define TALLY_COLLECTOR_REPORT_ROLLUP_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "report/json_members.h"
#include "tally/status.h"

struct sqlite3;

namespace tally::collector::report {

constexpr int64_t kRollupHourMs = 3600000;

/// The start of the UTC hour holding `t_ms` (floor, also for times before 1970).
inline int64_t HourStart(int64_t t_ms) {
  int64_t r = t_ms % kRollupHourMs;
  return t_ms - (r < 0 ? r + kRollupHourMs : r);
}

/// The 64-bit hash every distinct count uses (users, sessions), raw scan and rollup alike, so both
/// count exactly the same: a collision among 10^7 values has a probability near 10^-5 (the count
/// is then one short, the same way on both paths). 8 bytes per multiply, inlined: std::hash's
/// out-of-line call was a visible share of distinct counts over 10M rows.
inline uint64_t HashText(const char* p, size_t n) {
  uint64_t h = 0x9E3779B97F4A7C15ULL ^ (n * 0xC2B2AE3D27D4EB4FULL);
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * 0xFF51AFD7ED558CCDULL;
    h ^= h >> 32;
    p += 8;
    n -= 8;
  }
  uint64_t w = 0;
  std::memcpy(&w, p, n);
  h = (h ^ w) * 0xC4CEB9FE1A85EC53ULL;
  return h ^ (h >> 29);
}

/// Limits that keep the property rollup small whatever clients send.
struct RollupOptions {
  /// Events read per job transaction; the write lock is held only for the upserts of one chunk.
  size_t chunk_rows = 50000;
  /// Distinct (event name, value) pairs of one property key in one hour; past it the key's hour
  /// is marked and breakdowns by that key read that hour raw.
  size_t max_pairs_per_key_hour = 1000;
  /// Property keys tracked per hour; keys first seen past it are not tracked that hour.
  size_t max_keys_per_hour = 100;
  /// Values longer than this (JSON text bytes) mark the key's hour as over the cap.
  size_t max_value_bytes = 200;
  /// Tests only: runs after a chunk is read and before it is written (to race a delete there).
  std::function<void()> after_read_for_test;
};

/// What one RunOnce did.
struct RollupStats {
  int64_t rows = 0;           ///< events folded in
  int64_t rebuilt_hours = 0;  ///< hours rebuilt after a delete
  int64_t retries = 0;        ///< chunks read again because a delete raced the read
  bool caught_up = false;     ///< nothing past the watermark and no hour left to rebuild
  int64_t watermark = 0;
  /// The longest write transaction, from BEGIN IMMEDIATE to COMMIT (what ingest may wait for).
  double longest_write_s = 0;
};

/// Creates the rollup tables and the delete trigger if missing (idempotent). `db` is read-write.
Status EnsureRollupSchema(sqlite3* db);

/// The rollup job over one SQLite file. Not thread-safe: one caller at a time.
class Rollup {
 public:
  static Result<std::unique_ptr<Rollup>> Open(const std::string& path,
                                              const RollupOptions& options = {});
  ~Rollup();
  Rollup(const Rollup&) = delete;
  Rollup& operator=(const Rollup&) = delete;

  /// Rebuilds hours marked by deletes, then folds in up to one chunk of new events, each in its own
  /// short write transaction.
  Status RunOnce(RollupStats* stats);
  /// RunOnce until caught up (stats summed).
  Status CatchUp(RollupStats* stats);

 private:
  Rollup(sqlite3* db, const RollupOptions& options) : db_(db), options_(options) {}
  struct Impl;
  sqlite3* db_;
  RollupOptions options_;
};

/// Buffers ForEachMember reuses from one row to the next (the rollup job calls it per event).
struct MemberScratch {
  std::vector<std::string_view> seen;
  std::string minified;
};

/// Calls fn(key, value) for each top-level member of a stored JSON object, the first member of
/// each name only, with the value's text as the breakdown reads it (scalars as stored, objects and
/// arrays without whitespace). Stops at text it cannot follow.
template <typename Fn>
void ForEachMember(std::string_view json, MemberScratch* scratch, Fn&& fn) {
  // The same walk as the breakdown's MemberText (json_members.h), so both read a member alike.
  scratch->seen.clear();
  WalkMembers(json, [&](std::string_view key, std::string_view value) {
    for (std::string_view k : scratch->seen) {
      if (k == key) return true;
    }
    scratch->seen.push_back(key);
    if (!value.empty() && (value[0] == '{' || value[0] == '[')) {
      scratch->minified.clear();
      AppendMinified(value, &scratch->minified);
      value = scratch->minified;
    }
    fn(key, value);
    return true;
  });
}
template <typename Fn>
void ForEachMember(std::string_view json, Fn&& fn) {
  MemberScratch scratch;
  ForEachMember(json, &scratch, std::forward<Fn>(fn));
}

}  // namespace tally::collector::report

#endif  // TALLY_COLLECTOR_REPORT_ROLLUP_H_
