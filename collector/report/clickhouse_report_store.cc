// ReportStore over the ClickHouse tables of store/clickhouse_store.cc. Every read says FINAL, so
// two copies of one event (a retry through two collectors at once) count once before ClickHouse
// merges them. Counting, grouping and distinct users run in ClickHouse; the funnel's ordered
// walk runs here over a stream, as in the SQLite store, so both answer with the same JSON.
//
// Top-level property and context fields are read with visitParamExtractRaw/-String (18.16 has no
// JSONExtract). They find the first `"key":` in the text, so an object holding a nested field of
// the same name *before* the top-level one is read wrongly; docs/DEPLOY.md lists this.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <numeric>
#include <sstream>
#include <unordered_map>

#include "report/report_store.h"
#include "store/clickhouse_store.h"

namespace tally::collector::report {
namespace {

int64_t ToInt(const std::string& s) { return std::strtoll(s.c_str(), nullptr, 10); }

// The user of an event: user_id, else anonymous_id; events with neither have no user.
constexpr const char* kUser = "if(user_id != '', user_id, anonymous_id)";
constexpr const char* kHasUser = "(user_id != '' OR anonymous_id != '')";

std::string Raw(const char* col, const std::string& key) {
  return std::string("visitParamExtractRaw(") + col + ", " + ChQuote(key) + ")";
}

// A top-level field equal to `value` as text: strings by their unescaped text, other values by
// their JSON text (numbers, true/false), as the SQLite store compares them.
std::string FieldEquals(const char* col, const std::string& key, const std::string& value) {
  std::string raw = Raw(col, key);
  return "((substring(" + raw + ", 1, 1) = '\"' AND visitParamExtractString(" + col + ", " +
         ChQuote(key) + ") = " + ChQuote(value) + ") OR (" + raw + " = " + ChQuote(value) +
         " AND substring(" + raw + ", 1, 1) != '\"'))";
}

std::string Where(const EventFilter& f, bool names = true) {
  std::string w = " WHERE workspace = " + ChQuote(f.workspace) +
                  " AND derived_at >= " + std::to_string(f.from_ms) + " AND derived_at < " +
                  std::to_string(f.to_ms);
  if (names && !f.names.empty()) {
    std::string in;
    for (const auto& n : f.names) in += (in.empty() ? "" : ", ") + ChQuote(n);
    w += " AND name IN (" + in + ")";
  }
  if (!f.type.empty()) w += " AND type = " + ChQuote(f.type);
  if (!f.user_id.empty()) w += " AND user_id = " + ChQuote(f.user_id);
  if (!f.anonymous_id.empty()) w += " AND anonymous_id = " + ChQuote(f.anonymous_id);
  if (!f.session_id.empty()) w += " AND session_id = " + ChQuote(f.session_id);
  for (const auto& [k, v] : f.properties) w += " AND " + FieldEquals("properties", k, v);
  for (const auto& [k, v] : f.context) w += " AND " + FieldEquals("context", k, v);
  return w;
}

std::vector<std::vector<std::string>> Rows(const std::string& body) {
  std::vector<std::vector<std::string>> out;
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line)) out.push_back(TsvSplit(line));
  return out;
}

// A raw JSON value as the SQLite store shows it: (text, type), or nullopt for absent / null.
std::optional<std::pair<std::string, std::string>> FieldValue(const std::string& raw) {
  if (raw.empty() || raw == "null") return std::nullopt;
  switch (raw[0]) {
    case '"': {
      nlohmann::json j = nlohmann::json::parse(raw, nullptr, false);
      return std::make_pair(j.is_string() ? j.get<std::string>() : raw, std::string("string"));
    }
    case 't':
    case 'f':
      return std::make_pair(raw, std::string("bool"));
    case '{':
      return std::make_pair(raw, std::string("object"));
    case '[':
      return std::make_pair(raw, std::string("array"));
    default:
      break;
  }
  // Numbers: integers print as they are; others as SQLite prints a REAL (%!.15g).
  if (raw.find_first_of(".eE") == std::string::npos && raw.size() < 19) {
    return std::make_pair(raw, std::string("number"));
  }
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.15g", std::strtod(raw.c_str(), nullptr));
  std::string text = buf;
  if (text.find_first_of(".ein") == std::string::npos) {
    text += ".0";
  } else if (text.find('.') == std::string::npos && text.find('e') != std::string::npos) {
    text.insert(text.find('e'), ".0");
  }
  return std::make_pair(text, std::string("number"));
}

class ClickHouseReportStore final : public ReportStore {
 public:
  explicit ClickHouseReportStore(const ClickHouseUrl& url)
      : client_(url), events_(url.database + ".events FINAL") {}

  Status Events(const EventsRequest& r, EventsPage* page) override {
    page->events.clear();
    page->next.reset();
    std::string sql =
        std::string("SELECT ") + kChEventColumns + " FROM " + events_ + Where(r.filter);
    const char* cmp = r.descending ? "<" : ">";
    if (r.after) {
      const std::string t = std::to_string(r.after->derived_at_ms);
      sql += std::string(" AND (derived_at ") + cmp + " " + t + " OR (derived_at = " + t +
             " AND event_id " + cmp + " " + ChQuote(r.after->event_id) + "))";
    }
    const char* dir = r.descending ? " DESC" : "";
    sql += std::string(" ORDER BY derived_at") + dir + ", event_id" + dir + " LIMIT " +
           std::to_string(r.limit + 1) + " FORMAT TabSeparated";
    std::string body;
    Status s = client_.Query(sql, &body);
    if (!s.ok()) return s;
    for (const auto& f : Rows(body)) {
      if (page->events.size() == r.limit) {
        const StoredEvent& last = page->events.back();
        page->next = Cursor{last.derived_at_ms, last.event_id};
        break;
      }
      page->events.push_back(ChEventFromRow(f));
    }
    return Status::Ok();
  }

  Status HasUserId(const std::string& workspace, const std::string& user_id, bool* found) override {
    std::string body;
    Status s = client_.Query("SELECT count() FROM (SELECT 1 FROM " + events_ +
                                 " WHERE workspace = " + ChQuote(workspace) + " AND user_id = " +
                                 ChQuote(user_id) + " LIMIT 1) FORMAT TabSeparated",
                             &body);
    *found = s.ok() && ToInt(body) > 0;
    return s;
  }

  Status Summary(const EventFilter& f, std::vector<NameSummary>* out) override {
    out->clear();
    std::string body;
    Status s = client_.Query("SELECT name, count() AS c, min(derived_at), max(derived_at) FROM " +
                                 events_ + Where(f) +
                                 " GROUP BY name ORDER BY c DESC, name FORMAT TabSeparated",
                             &body);
    if (!s.ok()) return s;
    for (const auto& r : Rows(body)) {
      if (r.size() < 4) continue;
      out->push_back(NameSummary{r[0], ToInt(r[1]), ToInt(r[2]), ToInt(r[3])});
    }
    return Status::Ok();
  }

  Status Timeseries(const TimeseriesRequest& r, std::vector<int64_t>* values) override {
    values->clear();
    if (r.bounds.size() < 2) return Status::Ok();
    values->assign(r.bounds.size() - 1, 0);
    EventFilter f = r.filter;
    f.from_ms = std::max(f.from_ms, r.bounds.front());
    f.to_ms = std::min(f.to_ms, r.bounds.back());
    if (f.from_ms >= f.to_ms) return Status::Ok();
    // Bucket edges come from the time zone (23- and 25-hour days), so they need not be evenly
    // spaced. All are multiples of their gcd from the first edge: group by that unit here and
    // map each unit to its bucket with an array lookup.
    const int64_t b0 = r.bounds.front();
    int64_t unit = 0;
    for (int64_t b : r.bounds) unit = std::gcd(unit, b - b0);
    const int64_t units = unit > 0 ? (r.bounds.back() - b0) / unit : 0;
    std::string bucket;
    if (unit > 0 && units <= 100000) {
      std::string map;
      size_t bi = 0;
      for (int64_t u = 0; u < units; ++u) {
        while (bi + 1 < r.bounds.size() && b0 + u * unit >= r.bounds[bi + 1]) ++bi;
        map += (u ? "," : "") + std::to_string(bi);
      }
      bucket = "arrayElement([" + map + "], toUInt64(intDiv(derived_at - " + std::to_string(b0) +
               ", " + std::to_string(unit) + ") + 1))";
    } else {
      std::string edges;
      for (size_t i = 1; i + 1 < r.bounds.size(); ++i) {
        edges += (i > 1 ? "," : "") + std::to_string(r.bounds[i]);
      }
      bucket = edges.empty() ? "0" : "arraySum(arrayMap(b -> derived_at >= b, [" + edges + "]))";
    }
    const bool users = r.metric == Metric::kUsers;
    std::string measure =
        users ? std::string("uniqExactIf(") + kUser + ", " + kHasUser + ")" : "count()";
    std::string body;
    Status s = client_.Query("SELECT toInt64(" + bucket + ") AS bucket, " + measure + " FROM " +
                                 events_ + Where(f) + " GROUP BY bucket FORMAT TabSeparated",
                             &body);
    if (!s.ok()) return s;
    for (const auto& row : Rows(body)) {
      if (row.size() < 2) continue;
      int64_t i = ToInt(row[0]);
      if (i >= 0 && static_cast<size_t>(i) < values->size()) {
        (*values)[static_cast<size_t>(i)] = ToInt(row[1]);
      }
    }
    return Status::Ok();
  }

  Status GetBreakdown(const BreakdownRequest& r, Breakdown* out) override {
    *out = Breakdown();
    std::string value_expr;
    bool json = false;
    switch (r.by.kind) {
      case GroupKey::Kind::kName:
        value_expr = "name";
        break;
      case GroupKey::Kind::kType:
        value_expr = "type";
        break;
      case GroupKey::Kind::kUserId:
        value_expr = "user_id";
        break;
      case GroupKey::Kind::kProperty:
        value_expr = Raw("properties", r.by.key), json = true;
        break;
      case GroupKey::Kind::kContext:
        value_expr = Raw("context", r.by.key), json = true;
        break;
    }
    const bool users = r.metric == Metric::kUsers;
    std::string measure =
        users ? std::string("uniqExactIf(") + kUser + ", " + kHasUser + ")" : "count()";
    std::string body;
    Status s = client_.Query("SELECT " + value_expr + " AS v, " + measure + " FROM " + events_ +
                                 Where(r.filter) + " GROUP BY v FORMAT TabSeparated",
                             &body);
    if (!s.ok()) return s;
    std::vector<BreakdownRow> rows;
    for (const auto& f : Rows(body)) {
      if (f.size() < 2) continue;
      BreakdownRow row;
      if (json) {
        if (auto v = FieldValue(f[0])) {
          row.value = v->first;
          row.value_type = v->second;
        }
      } else if (!f[0].empty()) {  // empty ids are absent, as SQLite's NULL
        row.value = f[0];
        row.value_type = "string";
      }
      row.count = ToInt(f[1]);
      // Different JSON texts can show the same (1.0 and 1.00; null and absent).
      auto same = std::find_if(rows.begin(), rows.end(), [&](const BreakdownRow& o) {
        return o.value == row.value && o.value_type == row.value_type;
      });
      if (same != rows.end()) {
        same->count += row.count;
      } else {
        rows.push_back(std::move(row));
      }
    }
    std::sort(rows.begin(), rows.end(), [](const BreakdownRow& a, const BreakdownRow& b) {
      if (a.count != b.count) return a.count > b.count;
      return a.value < b.value;  // nullopt first among equals
    });
    for (size_t i = 0; i < rows.size(); ++i) {
      if (!users) out->total += rows[i].count;
      if (i < r.limit) {
        out->rows.push_back(rows[i]);
      } else {
        out->other += rows[i].count;
      }
    }
    if (users) {
      s = client_.Query(std::string("SELECT uniqExactIf(") + kUser + ", " + kHasUser + ") FROM " +
                            events_ + Where(r.filter) + " FORMAT TabSeparated",
                        &body);
      if (!s.ok()) return s;
      out->total = ToInt(body);
    }
    return Status::Ok();
  }

  Status Funnel(const FunnelRequest& r, std::vector<int64_t>* users) override {
    users->assign(r.steps.size(), 0);
    if (r.steps.empty()) return Status::Ok();
    EventFilter f = r.filter;
    f.names.clear();
    for (const auto& step : r.steps) {
      if (std::find(f.names.begin(), f.names.end(), step) == f.names.end()) f.names.push_back(step);
    }
    const int64_t first_to = f.to_ms;
    f.to_ms = f.to_ms > INT64_MAX - r.window_ms ? INT64_MAX : f.to_ms + r.window_ms;
    // The same one-pass walk as the SQLite store, over a stream in time order: a user enters at
    // their first first-step event in [from, to) and advances one step at a time on the next
    // step's name, while within the window.
    struct Progress {
      int64_t start_ms;
      size_t reached;
    };
    std::unordered_map<std::string, Progress> progress;
    return client_.Stream(std::string("SELECT name, ") + kUser + ", derived_at FROM " + events_ +
                              Where(f) + " AND " + kHasUser +
                              " ORDER BY derived_at, event_id FORMAT TabSeparated",
                          [&](std::string_view line) {
                            auto row = TsvSplit(line);
                            if (row.size() < 3) return true;
                            const std::string& name = row[0];
                            int64_t t = ToInt(row[2]);
                            auto it = progress.find(row[1]);
                            if (it == progress.end()) {
                              if (name == r.steps[0] && t < first_to) {
                                progress.emplace(row[1], Progress{t, 1});
                                ++(*users)[0];
                              }
                              return true;
                            }
                            Progress& p = it->second;
                            if (p.reached < r.steps.size() && name == r.steps[p.reached] &&
                                t - p.start_ms <= r.window_ms) {
                              ++(*users)[p.reached];
                              ++p.reached;
                            }
                            return true;
                          });
  }

  Status GetOverview(const EventFilter& f, Overview* out) override {
    *out = Overview();
    std::string body;
    Status s = client_.Query(std::string("SELECT count(), uniqExactIf(") + kUser + ", " + kHasUser +
                                 "), uniqExactIf(session_id, session_id != '') FROM " + events_ +
                                 Where(f) + " FORMAT TabSeparated",
                             &body);
    if (!s.ok()) return s;
    auto rows = Rows(body);
    if (!rows.empty() && rows[0].size() >= 3) {
      out->events = ToInt(rows[0][0]);
      out->users = ToInt(rows[0][1]);
      out->sessions = ToInt(rows[0][2]);
    }
    s = client_.Query("SELECT name, count() AS c FROM " + events_ + Where(f) +
                          " GROUP BY name ORDER BY c DESC, name LIMIT 10 FORMAT TabSeparated",
                      &body);
    if (!s.ok()) return s;
    for (const auto& r : Rows(body)) {
      if (r.size() >= 2) out->top_events.emplace_back(r[0], ToInt(r[1]));
    }
    return Status::Ok();
  }

  Status Export(const EventFilter& filter,
                const std::function<bool(const StoredEvent&)>& row) override {
    // One streaming SELECT: ClickHouse sends blocks as it reads, and this side holds one row.
    return client_.Stream(
        std::string("SELECT ") + kChEventColumns + " FROM " + events_ + Where(filter) +
            " ORDER BY derived_at, event_id FORMAT TabSeparated",
        [&](std::string_view line) { return row(ChEventFromRow(TsvSplit(line))); });
  }

 private:
  ClickHouseClient client_;
  std::string events_;
};

}  // namespace
}  // namespace tally::collector::report

namespace tally::collector {

Result<std::unique_ptr<report::ReportStore>> OpenClickHouseReportStore(const ClickHouseUrl& url) {
  return std::unique_ptr<report::ReportStore>(new report::ClickHouseReportStore(url));
}

}  // namespace tally::collector
