#include "report/params.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>

namespace tally::collector::report {
namespace {

const char* const kCommon[] = {"from",       "to",           "name",       "type",
                               "user_id",    "anonymous_id", "session_id", "workflow_id",
                               "content_id", "key",          "tz"};

Status Bad(const std::string& param, const std::string& why) {
  return Status::InvalidArgument(param + ": " + why);
}

bool AllDigits(const std::string& s, size_t from = 0) {
  if (from >= s.size()) return false;
  return std::all_of(s.begin() + static_cast<std::ptrdiff_t>(from), s.end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

bool ParseInt(const std::string& s, int64_t* out) {
  if (s.empty() || !(AllDigits(s) || (s[0] == '-' && AllDigits(s, 1)))) return false;
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno == ERANGE || *end != '\0') return false;
  *out = v;
  return true;
}

// Reads exactly `n` digits at *i.
bool Digits(const std::string& s, size_t* i, size_t n, int* out) {
  if (*i + n > s.size()) return false;
  int v = 0;
  for (size_t k = 0; k < n; ++k) {
    char c = s[*i + k];
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    v = v * 10 + (c - '0');
  }
  *i += n;
  *out = v;
  return true;
}

// A key after `prop.` / `context.`: SQLite JSON paths cannot escape a double quote.
Status CheckFieldKey(const std::string& param, const std::string& key) {
  if (key.empty()) return Bad(param, "needs a field name after the dot");
  if (key.find('"') != std::string::npos) return Bad(param, "field names cannot hold '\"'");
  return Status::Ok();
}

}  // namespace

Status CheckKnownParams(const Params& params, const std::vector<std::string>& extra) {
  for (const auto& [name, value] : params) {
    if (std::find(std::begin(kCommon), std::end(kCommon), name) != std::end(kCommon)) continue;
    if (std::find(extra.begin(), extra.end(), name) != extra.end()) continue;
    if (name.rfind("prop.", 0) == 0 || name.rfind("context.", 0) == 0) continue;
    return Bad(name, "unknown parameter (see docs/API.md)");
  }
  return Status::Ok();
}

Result<std::optional<std::string>> SingleParam(const Params& params, const std::string& name) {
  auto [begin, end] = params.equal_range(name);
  if (begin == end) return std::optional<std::string>();
  if (std::next(begin) != end) return Bad(name, "given more than once");
  if (begin->second.empty()) return Bad(name, "must not be empty");
  return std::optional<std::string>(begin->second);
}

Result<std::shared_ptr<const TimeZone>> ParseTz(const Params& params, const std::string& tz_dir) {
  Result<std::optional<std::string>> tz = SingleParam(params, "tz");
  if (!tz.ok()) return tz.status();
  if (!tz.value()) return TimeZone::Utc();
  return TimeZone::Load(*tz.value(), tz_dir);
}

Result<int64_t> ParseTime(const std::string& param, const std::string& text, const TimeZone& zone) {
  int64_t ms = 0;
  if (ParseInt(text, &ms)) return ms;
  const Status bad = Bad(param,
                         "expected ms since the epoch or an ISO 8601 time like "
                         "2024-11-15 or 2024-11-15T14:32:00Z, got \"" +
                             text + "\"");
  size_t i = 0;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, frac = 0;
  if (!Digits(text, &i, 4, &y) || i >= text.size() || text[i++] != '-' ||
      !Digits(text, &i, 2, &mo) || i >= text.size() || text[i++] != '-' ||
      !Digits(text, &i, 2, &d)) {
    return bad;
  }
  if (i < text.size() && (text[i] == 'T' || text[i] == ' ')) {
    ++i;
    if (!Digits(text, &i, 2, &h) || i >= text.size() || text[i++] != ':' ||
        !Digits(text, &i, 2, &mi)) {
      return bad;
    }
    if (i < text.size() && text[i] == ':') {
      ++i;
      if (!Digits(text, &i, 2, &s)) return bad;
      if (i < text.size() && text[i] == '.') {
        ++i;
        size_t start = i;
        int scale = 100;
        while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
          frac += (text[i] - '0') * scale;
          scale /= 10;
          ++i;
        }
        if (i == start) return bad;
      }
    }
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return bad;
  int64_t local = (DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 +
                   h * 3600 + mi * 60 + s) *
                      1000 +
                  frac;
  if (i == text.size()) return zone.LocalToUtc(local);
  if (text[i] == 'Z' && i + 1 == text.size()) return local;
  if (text[i] == '+' || text[i] == '-') {
    int sign = text[i] == '-' ? -1 : 1;
    ++i;
    int oh = 0, om = 0;
    if (!Digits(text, &i, 2, &oh)) return bad;
    if (i < text.size() && text[i] == ':') ++i;
    if (!Digits(text, &i, 2, &om) || i != text.size()) return bad;
    return local - sign * (oh * 3600 + om * 60) * int64_t{1000};
  }
  return bad;
}

Status ParseFilter(const Params& params, const TimeZone& zone, int64_t now_ms,
                   const ReportLimits& limits, bool all_time_default, EventFilter* out) {
  auto single = [&](const char* name, std::string* field) -> Status {
    Result<std::optional<std::string>> v = SingleParam(params, name);
    if (!v.ok()) return v.status();
    if (v.value()) *field = *v.value();
    return Status::Ok();
  };
  std::string from, to;
  Status s;
  if (!(s = single("from", &from)).ok() || !(s = single("to", &to)).ok()) return s;
  out->to_ms = now_ms + 1;
  if (!to.empty()) {
    Result<int64_t> t = ParseTime("to", to, zone);
    if (!t.ok()) return t.status();
    out->to_ms = t.value();
  }
  out->from_ms = all_time_default ? 0 : out->to_ms - limits.default_range_ms;
  if (!from.empty()) {
    Result<int64_t> f = ParseTime("from", from, zone);
    if (!f.ok()) return f.status();
    out->from_ms = f.value();
  }
  if (out->from_ms > out->to_ms) return Bad("to", "must not be before from");

  out->names.clear();
  for (auto [it, end] = params.equal_range("name"); it != end; ++it) {
    size_t start = 0;
    const std::string& v = it->second;
    do {
      size_t comma = v.find(',', start);
      std::string n =
          v.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (n.empty()) return Bad("name", "must not be empty");
      out->names.push_back(n);
      start = comma == std::string::npos ? v.size() + 1 : comma + 1;
    } while (start <= v.size());
  }
  if (!(s = single("type", &out->type)).ok()) return s;
  if (!out->type.empty() && out->type != "track" && out->type != "page" &&
      out->type != "identify") {
    return Bad("type", "must be one of track, page, identify");
  }
  if (!(s = single("user_id", &out->user_id)).ok() ||
      !(s = single("anonymous_id", &out->anonymous_id)).ok() ||
      !(s = single("session_id", &out->session_id)).ok()) {
    return s;
  }
  out->properties.clear();
  out->context.clear();
  for (const char* field : {"workflow_id", "content_id"}) {
    std::string v;
    if (!(s = single(field, &v)).ok()) return s;
    if (!v.empty()) out->context.emplace_back(field, v);
  }
  for (const auto& [name, value] : params) {
    bool prop = name.rfind("prop.", 0) == 0;
    bool ctx = name.rfind("context.", 0) == 0;
    if (!prop && !ctx) continue;
    std::string key = name.substr(prop ? 5 : 8);
    if (!(s = CheckFieldKey(name, key)).ok()) return s;
    if (params.count(name) > 1) return Bad(name, "given more than once");
    (prop ? out->properties : out->context).emplace_back(key, value);
  }
  return Status::Ok();
}

Status ParsePaging(const Params& params, const ReportLimits& limits, EventsRequest* out) {
  Result<std::optional<std::string>> limit = SingleParam(params, "limit");
  if (!limit.ok()) return limit.status();
  out->limit = limits.default_page;
  if (limit.value()) {
    int64_t n = 0;
    if (!ParseInt(*limit.value(), &n) || n < 1 || n > static_cast<int64_t>(limits.max_page)) {
      return Bad("limit", "must be an integer from 1 to " + std::to_string(limits.max_page));
    }
    out->limit = static_cast<size_t>(n);
  }
  Result<std::optional<std::string>> order = SingleParam(params, "order");
  if (!order.ok()) return order.status();
  out->descending = false;
  if (order.value()) {
    if (*order.value() != "asc" && *order.value() != "desc") {
      return Bad("order", "must be asc or desc");
    }
    out->descending = *order.value() == "desc";
  }
  Result<std::optional<std::string>> cursor = SingleParam(params, "cursor");
  if (!cursor.ok()) return cursor.status();
  out->after.reset();
  if (cursor.value()) {
    Cursor c;
    if (!DecodeCursor(*cursor.value(), &c)) {
      return Bad("cursor", "not a cursor this API returned (pass next_cursor back unchanged)");
    }
    out->after = c;
  }
  return Status::Ok();
}

Result<Interval> ParseInterval(const Params& params) {
  Result<std::optional<std::string>> v = SingleParam(params, "interval");
  if (!v.ok()) return v.status();
  if (!v.value()) return Interval::kDay;
  const std::string& s = *v.value();
  if (s == "minute") return Interval::kMinute;
  if (s == "hour") return Interval::kHour;
  if (s == "day") return Interval::kDay;
  if (s == "week") return Interval::kWeek;
  return Bad("interval", "must be one of minute, hour, day, week");
}

Result<Metric> ParseMetric(const Params& params) {
  Result<std::optional<std::string>> v = SingleParam(params, "metric");
  if (!v.ok()) return v.status();
  if (!v.value() || *v.value() == "events") return Metric::kEvents;
  if (*v.value() == "users") return Metric::kUsers;
  return Bad("metric", "must be events or users");
}

Result<GroupKey> ParseGroupKey(const Params& params) {
  Result<std::optional<std::string>> v = SingleParam(params, "by");
  if (!v.ok()) return v.status();
  GroupKey key;
  if (!v.value()) return key;  // name
  const std::string& s = *v.value();
  if (s == "name") return key;
  if (s == "type") {
    key.kind = GroupKey::Kind::kType;
    return key;
  }
  if (s == "user_id") {
    key.kind = GroupKey::Kind::kUserId;
    return key;
  }
  bool prop = s.rfind("prop.", 0) == 0;
  bool ctx = s.rfind("context.", 0) == 0;
  if (!prop && !ctx) return Bad("by", "must be name, type, user_id, prop.<key> or context.<key>");
  key.kind = prop ? GroupKey::Kind::kProperty : GroupKey::Kind::kContext;
  key.key = s.substr(prop ? 5 : 8);
  Status st = CheckFieldKey("by", key.key);
  if (!st.ok()) return st;
  return key;
}

Result<int64_t> ParseWindow(const Params& params, const ReportLimits& limits) {
  Result<std::optional<std::string>> v = SingleParam(params, "window");
  if (!v.ok()) return v.status();
  if (!v.value()) return int64_t{7} * 86400000;
  std::string s = *v.value();
  int64_t unit = 1;
  switch (s.back()) {
    case 's':
      unit = 1000;
      break;
    case 'm':
      unit = 60000;
      break;
    case 'h':
      unit = 3600000;
      break;
    case 'd':
      unit = 86400000;
      break;
    default:
      break;
  }
  if (unit != 1) s.pop_back();
  int64_t n = 0;
  if (!AllDigits(s) || !ParseInt(s, &n) || n <= 0 || n > limits.max_window_ms / unit) {
    return Bad("window", "must be a positive duration up to " +
                             std::to_string(limits.max_window_ms / 86400000) +
                             "d: ms, or a number with s, m, h or d (30m, 12h, 7d)");
  }
  return n * unit;
}

Result<std::vector<std::string>> ParseSteps(const Params& params, const ReportLimits& limits) {
  std::vector<std::string> steps;
  for (auto [it, end] = params.equal_range("steps"); it != end; ++it) {
    size_t start = 0;
    const std::string& v = it->second;
    for (;;) {
      size_t comma = v.find(',', start);
      std::string n =
          v.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (n.empty()) return Bad("steps", "step names must not be empty");
      steps.push_back(n);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  if (steps.empty()) return Bad("steps", "required: event names in order, comma-separated");
  if (steps.size() > limits.max_funnel_steps) {
    return Bad("steps", "at most " + std::to_string(limits.max_funnel_steps) + " steps");
  }
  return steps;
}

std::string EncodeCursor(const Cursor& c) {
  return std::to_string(c.derived_at_ms) + "." + c.event_id;
}

bool DecodeCursor(const std::string& text, Cursor* c) {
  size_t dot = text.find('.');
  if (dot == std::string::npos || dot + 1 >= text.size() || text.size() > 128) return false;
  if (!ParseInt(text.substr(0, dot), &c->derived_at_ms)) return false;
  c->event_id = text.substr(dot + 1);
  return std::all_of(c->event_id.begin(), c->event_id.end(), [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_';
  });
}

}  // namespace tally::collector::report
