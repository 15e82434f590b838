// A small TZif reader (RFC 8536). Hand-written rather than a dependency because it is small and
// only needs offsets: version 2+ files give 64-bit transition times and a POSIX TZ string for
// instants after the last transition, which is parsed for the common `Mm.w.d` rules.
#include "report/tz.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

namespace tally::collector::report {
namespace {

constexpr int64_t kDayMs = 86400000;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
int64_t FloorMod(int64_t a, int64_t b) { return a - FloorDiv(a, b) * b; }

uint32_t Be32(const std::string& b, size_t at) {
  return (uint32_t{static_cast<uint8_t>(b[at])} << 24) |
         (uint32_t{static_cast<uint8_t>(b[at + 1])} << 16) |
         (uint32_t{static_cast<uint8_t>(b[at + 2])} << 8) |
         uint32_t{static_cast<uint8_t>(b[at + 3])};
}
int64_t Be64(const std::string& b, size_t at) {
  return static_cast<int64_t>((uint64_t{Be32(b, at)} << 32) | Be32(b, at + 4));
}

// A POSIX TZ rule such as "CET-1CEST,M3.5.0,M10.5.0/3".
struct PosixRule {
  bool valid = false;
  int32_t std_offset = 0;  // seconds east of UTC
  bool has_dst = false;
  int32_t dst_offset = 0;
  struct When {
    int month = 0, week = 0, weekday = 0;
    int32_t time_s = 7200;
  } start, end;
};

bool ParseName(const std::string& s, size_t* i) {
  if (*i < s.size() && s[*i] == '<') {
    size_t close = s.find('>', *i);
    if (close == std::string::npos) return false;
    *i = close + 1;
    return true;
  }
  size_t begin = *i;
  while (*i < s.size() && std::isalpha(static_cast<unsigned char>(s[*i]))) ++*i;
  return *i - begin >= 3;
}
// [+-]hh[:mm[:ss]] in seconds.
bool ParseHms(const std::string& s, size_t* i, int32_t* out) {
  int sign = 1;
  if (*i < s.size() && (s[*i] == '+' || s[*i] == '-')) sign = s[(*i)++] == '-' ? -1 : 1;
  int32_t parts[3] = {0, 0, 0};
  for (int p = 0; p < 3; ++p) {
    if (p > 0) {
      if (*i >= s.size() || s[*i] != ':') break;
      ++*i;
    }
    size_t begin = *i;
    while (*i < s.size() && std::isdigit(static_cast<unsigned char>(s[*i]))) {
      parts[p] = parts[p] * 10 + (s[*i] - '0');
      ++*i;
    }
    if (*i == begin) return false;
  }
  *out = sign * (parts[0] * 3600 + parts[1] * 60 + parts[2]);
  return true;
}
bool ParseWhen(const std::string& s, size_t* i, PosixRule::When* w) {
  if (*i >= s.size() || s[*i] != 'M') return false;  // Jn and n forms: not used by tzdata zones
  ++*i;
  char* end = nullptr;
  w->month = static_cast<int>(std::strtol(s.c_str() + *i, &end, 10));
  if (*end != '.') return false;
  w->week = static_cast<int>(std::strtol(end + 1, &end, 10));
  if (*end != '.') return false;
  w->weekday = static_cast<int>(std::strtol(end + 1, &end, 10));
  *i = static_cast<size_t>(end - s.c_str());
  if (*i < s.size() && s[*i] == '/') {
    ++*i;
    if (!ParseHms(s, i, &w->time_s)) return false;
  }
  return w->month >= 1 && w->month <= 12 && w->week >= 1 && w->week <= 5 && w->weekday >= 0 &&
         w->weekday <= 6;
}
PosixRule ParsePosix(const std::string& s) {
  PosixRule r;
  size_t i = 0;
  int32_t off = 0;
  if (!ParseName(s, &i) || !ParseHms(s, &i, &off)) return r;
  r.std_offset = -off;  // POSIX counts west of UTC as positive
  if (i == s.size()) {
    r.valid = true;
    return r;
  }
  if (!ParseName(s, &i)) return r;
  r.has_dst = true;
  r.dst_offset = r.std_offset + 3600;
  if (i < s.size() && s[i] != ',') {
    if (!ParseHms(s, &i, &off)) return r;
    r.dst_offset = -off;
  }
  if (i >= s.size() || s[i++] != ',' || !ParseWhen(s, &i, &r.start)) return r;
  if (i >= s.size() || s[i++] != ',' || !ParseWhen(s, &i, &r.end)) return r;
  r.valid = i == s.size();
  return r;
}

// Local seconds (as if UTC) of a rule's moment in `year`.
int64_t RuleLocalSeconds(int64_t year, const PosixRule::When& w) {
  int64_t first = DaysFromCivil(year, static_cast<unsigned>(w.month), 1);
  int64_t first_wd = FloorMod(first + 4, 7);  // 1970-01-01 was a Thursday (4)
  int64_t day = first + FloorMod(w.weekday - first_wd, 7) + 7 * (w.week - 1);
  unsigned next_month = static_cast<unsigned>(w.month % 12 + 1);
  int64_t month_end = DaysFromCivil(w.month == 12 ? year + 1 : year, next_month, 1);
  while (day >= month_end) day -= 7;  // week 5 means "last"
  return day * 86400 + w.time_s;
}

int32_t PosixOffset(const PosixRule& r, int64_t utc_s) {
  if (!r.has_dst) return r.std_offset;
  int64_t y = 0;
  unsigned m = 0, d = 0;
  CivilFromDays(FloorDiv(utc_s + r.std_offset, 86400), &y, &m, &d);
  int64_t start = RuleLocalSeconds(y, r.start) - r.std_offset;
  int64_t end = RuleLocalSeconds(y, r.end) - r.dst_offset;
  bool dst = start < end ? (utc_s >= start && utc_s < end) : !(utc_s >= end && utc_s < start);
  return dst ? r.dst_offset : r.std_offset;
}

bool ValidName(const std::string& name) {
  if (name.empty() || name.size() > 64 || name[0] == '/' || name.find("..") != std::string::npos) {
    return false;
  }
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '/' && c != '_' && c != '-' &&
        c != '+') {
      return false;
    }
  }
  return true;
}

}  // namespace

// Per RFC 8536 the rule string is kept as an opaque footer; parsed lazily into this holder.
struct PosixHolder {
  PosixRule rule;
};

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = FloorDiv(y, 400);
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = FloorDiv(z, 146097);
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

std::shared_ptr<const TimeZone> TimeZone::Utc() {
  static const std::shared_ptr<const TimeZone> utc = [] {
    auto z = std::make_shared<TimeZone>();
    z->name_ = "UTC";
    return z;
  }();
  return utc;
}

Result<std::shared_ptr<const TimeZone>> TimeZone::FromTzif(const std::string& name,
                                                           const std::string& b) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("tz: " + name + ": " + why);
  };
  if (b.size() < 44 || b.compare(0, 4, "TZif") != 0) return bad("not a TZif file");
  char version = b[4];
  size_t at = 0;
  bool wide = false;
  uint32_t counts[6];
  auto read_header = [&](size_t h) {
    for (int i = 0; i < 6; ++i) counts[i] = Be32(b, h + 20 + 4 * static_cast<size_t>(i));
  };
  read_header(0);
  auto block_size = [&](size_t time_size) {
    // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
    return counts[3] * time_size + counts[3] + counts[4] * 6 + counts[5] +
           counts[2] * (time_size + 4) + counts[1] + counts[0];
  };
  at = 44;
  if (version >= '2') {
    at += block_size(4);
    if (b.size() < at + 44 || b.compare(at, 4, "TZif") != 0) return bad("truncated");
    read_header(at);
    at += 44;
    wide = true;
  }
  const size_t ts = wide ? 8 : 4;
  if (b.size() < at + block_size(ts)) return bad("truncated");
  const uint32_t timecnt = counts[3], typecnt = counts[4];
  if (typecnt == 0) return bad("no local time types");
  auto zone = std::make_shared<TimeZone>();
  zone->name_ = name;
  std::vector<int32_t> type_offsets(typecnt);
  size_t types_at = at + timecnt * ts;
  size_t info_at = types_at + timecnt;
  for (uint32_t i = 0; i < typecnt; ++i) {
    type_offsets[i] = static_cast<int32_t>(Be32(b, info_at + 6 * i));
  }
  zone->initial_offset_ = type_offsets[0];
  for (uint32_t i = 0; i < timecnt; ++i) {
    int64_t t = wide ? Be64(b, at + 8 * i) : static_cast<int32_t>(Be32(b, at + 4 * i));
    uint8_t type = static_cast<uint8_t>(b[types_at + i]);
    if (type >= typecnt) return bad("bad type index");
    zone->transitions_s_.push_back(t);
    zone->offsets_after_.push_back(type_offsets[type]);
  }
  if (wide) {
    size_t footer = at + block_size(8);
    if (footer < b.size() && b[footer] == '\n') {
      size_t close = b.find('\n', footer + 1);
      if (close != std::string::npos) {
        PosixRule rule = ParsePosix(b.substr(footer + 1, close - footer - 1));
        if (rule.valid) zone->posix_ = std::make_shared<PosixHolder>(PosixHolder{rule});
      }
    }
  }
  return std::shared_ptr<const TimeZone>(std::move(zone));
}

Result<std::shared_ptr<const TimeZone>> TimeZone::Load(const std::string& name,
                                                       const std::string& dir) {
  if (name == "UTC" || name == "Etc/UTC" || name == "Z") return Utc();
  if (!ValidName(name)) return Status::InvalidArgument("tz: \"" + name + "\" is not a zone name");
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<const TimeZone>> cache;
  std::string root = dir;
  if (root.empty()) {
    const char* env = std::getenv("TZDIR");
    root = env && *env ? env : "/usr/share/zoneinfo";
  }
  const std::string path = root + "/" + name;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (auto it = cache.find(path); it != cache.end()) return it->second;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::InvalidArgument("tz: unknown time zone \"" + name + "\"");
  std::stringstream bytes;
  bytes << in.rdbuf();
  Result<std::shared_ptr<const TimeZone>> zone = FromTzif(name, bytes.str());
  if (!zone.ok()) return zone;
  std::lock_guard<std::mutex> lock(mu);
  cache.emplace(path, zone.value());
  return zone;
}

int32_t TimeZone::OffsetAt(int64_t utc_ms) const {
  const int64_t s = FloorDiv(utc_ms, 1000);
  auto it = std::upper_bound(transitions_s_.begin(), transitions_s_.end(), s);
  if (it == transitions_s_.begin()) {
    return transitions_s_.empty() && posix_ ? PosixOffset(posix_->rule, s) : initial_offset_;
  }
  if (it == transitions_s_.end() && posix_) return PosixOffset(posix_->rule, s);
  return offsets_after_[static_cast<size_t>(it - transitions_s_.begin()) - 1];
}

int64_t TimeZone::LocalToUtc(int64_t local_ms) const {
  int32_t candidates[3] = {OffsetAt(local_ms - kDayMs), OffsetAt(local_ms),
                           OffsetAt(local_ms + kDayMs)};
  std::sort(candidates, candidates + 3);
  // Largest offset first gives the earliest instant.
  for (int i = 2; i >= 0; --i) {
    int64_t u = local_ms - int64_t{candidates[i]} * 1000;
    if (OffsetAt(u) == candidates[i]) return u;
  }
  // In a gap: the wall time never happened; answer the instant the gap ends.
  int64_t lo = local_ms - int64_t{candidates[2]} * 1000;  // before the transition
  int64_t hi = local_ms - int64_t{candidates[0]} * 1000;  // after it
  const int32_t after = OffsetAt(hi);
  while (hi - lo > 1) {
    int64_t mid = lo + (hi - lo) / 2;
    (OffsetAt(mid) == after ? hi : lo) = mid;
  }
  return hi;
}

int64_t BucketStart(const TimeZone& zone, Interval interval, int64_t utc_ms) {
  const int64_t local = utc_ms + int64_t{zone.OffsetAt(utc_ms)} * 1000;
  switch (interval) {
    case Interval::kMinute:
      return utc_ms - FloorMod(local, 60000);
    case Interval::kHour:
      return utc_ms - FloorMod(local, 3600000);
    case Interval::kDay: {
      int64_t start = zone.LocalToUtc(FloorDiv(local, kDayMs) * kDayMs);
      // A midnight repeated by a fall-back: the first one may lie after utc_ms only if the
      // zone jumped back over midnight; the previous day then holds utc_ms.
      return start <= utc_ms ? start : zone.LocalToUtc((FloorDiv(local, kDayMs) - 1) * kDayMs);
    }
    case Interval::kWeek: {
      int64_t days = FloorDiv(local, kDayMs);
      int64_t monday = days - FloorMod(days + 3, 7);  // 1970-01-05 was a Monday
      return zone.LocalToUtc(monday * kDayMs);
    }
  }
  return utc_ms;
}

int64_t NextBucket(const TimeZone& zone, Interval interval, int64_t start) {
  switch (interval) {
    case Interval::kMinute:
    case Interval::kHour: {
      int64_t step = interval == Interval::kMinute ? 60000 : 3600000;
      int64_t next = start + step;
      // An offset change by a fraction of the step (e.g. 30 min) realigns to local edges.
      int64_t aligned = BucketStart(zone, interval, next);
      return aligned > start ? aligned : next;
    }
    case Interval::kDay:
    case Interval::kWeek: {
      int64_t local = start + int64_t{zone.OffsetAt(start)} * 1000;
      int64_t days = FloorDiv(local, kDayMs) + (interval == Interval::kDay ? 1 : 7);
      return zone.LocalToUtc(days * kDayMs);
    }
  }
  return start + 60000;
}

Result<std::vector<int64_t>> BucketBounds(const TimeZone& zone, Interval interval, int64_t from_ms,
                                          int64_t to_ms, size_t max_buckets) {
  std::vector<int64_t> bounds;
  int64_t b = BucketStart(zone, interval, from_ms);
  bounds.push_back(b);
  while (b < to_ms) {
    if (bounds.size() > max_buckets) {
      return Status::InvalidArgument("interval: more than " + std::to_string(max_buckets) +
                                     " buckets in the range; use a larger interval or a shorter "
                                     "range");
    }
    b = NextBucket(zone, interval, b);
    bounds.push_back(b);
  }
  if (bounds.size() == 1) bounds.push_back(NextBucket(zone, interval, b));
  return bounds;
}

std::string FormatLocal(const TimeZone& zone, int64_t utc_ms) {
  const int32_t off = zone.OffsetAt(utc_ms);
  const int64_t local = utc_ms + int64_t{off} * 1000;
  int64_t y = 0;
  unsigned m = 0, d = 0;
  CivilFromDays(FloorDiv(local, kDayMs), &y, &m, &d);
  int64_t ms_of_day = FloorMod(local, kDayMs);
  char buf[64];
  int n = std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02uT%02d:%02d:%02d",
                        static_cast<long long>(y), m, d, static_cast<int>(ms_of_day / 3600000),
                        static_cast<int>(ms_of_day / 60000 % 60),
                        static_cast<int>(ms_of_day / 1000 % 60));
  std::string out(buf, static_cast<size_t>(n));
  if (zone.name() == "UTC") return out + "Z";
  int32_t a = off < 0 ? -off : off;
  std::snprintf(buf, sizeof(buf), "%c%02d:%02d", off < 0 ? '-' : '+', a / 3600, a / 60 % 60);
  return out + buf;
}

}  // namespace tally::collector::report
