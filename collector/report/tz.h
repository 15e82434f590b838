// Time zones for report buckets. SQLite knows no time zones, so bucket edges (local midnight,
// local hour, Monday) are computed here from the IANA tz database as the system installs it
// (TZif files under /usr/share/zoneinfo, Debian package tzdata).
#ifndef TALLY_COLLECTOR_REPORT_TZ_H_
#define TALLY_COLLECTOR_REPORT_TZ_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tally/status.h"

namespace tally::collector::report {

struct PosixHolder;

/// One zone's UTC offsets over time. Immutable and thread-safe once loaded.
class TimeZone {
 public:
  /// UTC itself (no file needed).
  static std::shared_ptr<const TimeZone> Utc();
  /// Loads `name` (e.g. "Europe/Paris") from `dir`; errors name the `tz` parameter. Loaded zones
  /// are cached for the life of the process.
  static Result<std::shared_ptr<const TimeZone>> Load(const std::string& name,
                                                      const std::string& dir = "");
  /// Parses the bytes of a TZif file (versions 1 to 4).
  static Result<std::shared_ptr<const TimeZone>> FromTzif(const std::string& name,
                                                          const std::string& bytes);

  const std::string& name() const { return name_; }
  /// Offset from UTC in seconds at the instant `utc_ms`.
  int32_t OffsetAt(int64_t utc_ms) const;
  /// The first instant whose local wall time is `local_ms` (wall time as if it were UTC ms).
  /// A wall time skipped by a DST gap maps to the instant the gap ends.
  int64_t LocalToUtc(int64_t local_ms) const;

 private:
  std::string name_;
  std::vector<int64_t> transitions_s_;        // UTC seconds, ascending
  std::vector<int32_t> offsets_after_;        // offset in effect from transitions_s_[i]
  int32_t initial_offset_ = 0;                // before the first transition
  std::shared_ptr<const PosixHolder> posix_;  // after the last transition, when present
};

enum class Interval : uint8_t { kMinute, kHour, kDay, kWeek };

/// The start of the `interval` holding `utc_ms`, aligned in `zone`'s local time (weeks start on
/// Monday).
int64_t BucketStart(const TimeZone& zone, Interval interval, int64_t utc_ms);
/// The start of the bucket after the one starting at `bucket_start_ms`.
int64_t NextBucket(const TimeZone& zone, Interval interval, int64_t bucket_start_ms);
/// Bucket edges covering [from_ms, to_ms): the first is BucketStart(from), the last is >= to.
/// Fails (naming `interval`) when more than `max_buckets` would be needed.
Result<std::vector<int64_t>> BucketBounds(const TimeZone& zone, Interval interval, int64_t from_ms,
                                          int64_t to_ms, size_t max_buckets);

/// ISO 8601 with the zone's offset at that instant: 2024-11-15T00:00:00+01:00 (Z for UTC).
std::string FormatLocal(const TimeZone& zone, int64_t utc_ms);

/// Days since 1970-01-01 of a civil date, and back (proleptic Gregorian).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d);
void CivilFromDays(int64_t days, int64_t* y, unsigned* m, unsigned* d);

}  // namespace tally::collector::report

#endif  // TALLY_COLLECTOR_REPORT_TZ_H_
