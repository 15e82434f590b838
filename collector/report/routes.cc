#include "report/routes.h"

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <nlohmann/json.hpp>

#include "report/format.h"

namespace tally::collector::report {
namespace {

// ordered_json: answers keep the field order docs/API.md shows.
using json = nlohmann::ordered_json;

// Every error body of the report API: {"error": "<message naming the parameter>"}.
void SetError(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_content(json{{"error", message}}.dump(), "application/json");
}

void SetStatusError(httplib::Response& res, const Status& s) {
  bool client = s.code() == Code::kInvalidArgument || s.code() == Code::kParseError ||
                s.code() == Code::kTooLarge;
  SetError(res, client ? 400 : 500, client ? s.message() : "report: " + s.message());
}

void SetJson(httplib::Response& res, const json& body) {
  res.status = 200;
  res.set_header("Cache-Control", "no-store");
  res.set_content(body.dump(), "application/json");
}

// {"events":[...],"next_cursor":...} as text: properties and context are stored JSON text and
// are copied as they are, in their own key order.
std::string EventsText(const EventsPage& page, const std::string& extra_fields = "") {
  std::string text = "{\"events\":[";
  for (size_t i = 0; i < page.events.size(); ++i) {
    if (i) text += ',';
    AppendEventJson(page.events[i], &text);
  }
  text += "],\"next_cursor\":";
  if (page.next) {
    AppendJsonString(EncodeCursor(*page.next), &text);
  } else {
    text += "null";
  }
  return text + extra_fields + "}";
}

void SetJsonText(httplib::Response& res, const std::string& text) {
  res.status = 200;
  res.set_header("Cache-Control", "no-store");
  res.set_content(text, "application/json");
}

std::string FileStamp(int64_t ms) {
  // 20241115T143200Z: sortable and safe in a file name.
  std::string iso = FormatLocal(*TimeZone::Utc(), ms);
  std::string out;
  for (char c : iso) {
    if (c != '-' && c != ':') out.push_back(c);
  }
  return out;
}

class Api {
 public:
  explicit Api(ReportRoutesOptions o) : o_(std::move(o)) {}

  using Handler = Status (Api::*)(const httplib::Request&, httplib::Response&,
                                  const std::string& workspace);

  // Checks the read key; on success hands the workspace to the handler.
  void Serve(Handler h, const httplib::Request& req, httplib::Response& res) {
    std::string key = req.get_param_value("key");
    const std::string auth = req.get_header_value("Authorization");
    if (key.empty() && auth.rfind("Bearer ", 0) == 0) key = auth.substr(7);
    if (key.empty()) {
      SetError(res, 401,
               "key: missing (send the workspace's read key as Authorization: Bearer or ?key=)");
      return;
    }
    KeyRecord rec;
    if (!o_.lookup_key || !o_.lookup_key(key, &rec)) {
      SetError(res, 401, "key: unknown or revoked key");
      return;
    }
    if (rec.kind != KeyKind::kRead) {
      SetError(res, 403,
               std::string("key: a ") + (rec.kind == KeyKind::kWrite ? "write" : "server") +
                   " key cannot read reports; use the workspace's read key");
      return;
    }
    Status s = (this->*h)(req, res, rec.workspace);
    if (!s.ok()) SetStatusError(res, s);
  }

  Status Events(const httplib::Request& req, httplib::Response& res, const std::string& ws) {
    EventsRequest r;
    Status s = ParseCommon(req, {"limit", "cursor", "order"}, false, ws, &r.filter);
    if (!s.ok()) return s;
    if (!(s = ParsePaging(req.params, o_.limits, &r)).ok()) return s;
    EventsPage page;
    if (!(s = o_.store->Events(r, &page)).ok()) return s;
    SetJsonText(res, EventsText(page));
    return Status::Ok();
  }

  Status UserEvents(const httplib::Request& req, httplib::Response& res, const std::string& ws) {
    EventsRequest r;
    Status s = ParseCommon(req, {"limit", "cursor", "order"}, true, ws, &r.filter);
    if (!s.ok()) return s;
    if (!(s = ParsePaging(req.params, o_.limits, &r)).ok()) return s;
    std::string matched;
    if (!(s = SelectUser(req, &r.filter, &matched)).ok()) return s;
    EventsPage page;
    if (!(s = o_.store->Events(r, &page)).ok()) return s;
    SetJsonText(res, EventsText(page, ",\"matched_on\":\"" + matched + "\""));
    return Status::Ok();
  }

  Status UserSummary(const httplib::Request& req, httplib::Response& res, const std::string& ws) {
    EventFilter f;
    Status s = ParseCommon(req, {}, true, ws, &f);
    if (!s.ok()) return s;
    std::string matched;
    if (!(s = SelectUser(req, &f, &matched)).ok()) return s;
    std::vector<NameSummary> rows;
    if (!(s = o_.store->Summary(f, &rows)).ok()) return s;
    json events = json::array();
    int64_t total = 0;
    for (const auto& r : rows) {
      total += r.count;
      events.push_back({{"name", r.name},
                        {"count", r.count},
                        {"first_seen", r.first_seen_ms},
                        {"last_seen", r.last_seen_ms}});
    }
    SetJson(res, {{"user_id", req.matches[1].str()},
                  {"matched_on", matched},
                  {"total", total},
                  {"events", std::move(events)}});
    return Status::Ok();
  }

  Status Timeseries(const httplib::Request& req, httplib::Response& res, const std::string& ws) {
    TimeseriesRequest r;
    std::shared_ptr<const TimeZone> zone;
    Status s = ParseCommon(req, {"interval", "metric"}, false, ws, &r.filter, &zone);
    if (!s.ok()) return s;
    Result<Interval> interval = ParseInterval(req.params);
    if (!interval.ok()) return interval.status();
    Result<Metric> metric = ParseMetric(req.params);
    if (!metric.ok()) return metric.status();
    r.metric = metric.value();
    Result<std::vector<int64_t>> bounds = BucketBounds(*zone, interval.value(), r.filter.from_ms,
                                                       r.filter.to_ms, o_.limits.max_buckets);
    if (!bounds.ok()) return bounds.status();
    r.bounds = std::move(bounds).value();
    std::vector<int64_t> values;
    if (!(s = o_.store->Timeseries(r, &values)).ok()) return s;
    json points = json::array();
    for (size_t i = 0; i < values.size(); ++i) {
      points.push_back(
          {{"t", r.bounds[i]}, {"time", FormatLocal(*zone, r.bounds[i])}, {"value", values[i]}});
    }
    static const char* const kIntervals[] = {"minute", "hour", "day", "week"};
    SetJson(res, {{"interval", kIntervals[static_cast<int>(interval.value())]},
                  {"tz", zone->name()},
                  {"metric", r.metric == Metric::kUsers ? "users" : "events"},
                  {"from", r.filter.from_ms},
                  {"to", r.filter.to_ms},
                  {"points", std::move(points)}});
    return Status::Ok();
  }

  Status Breakdown(const httplib::Request& req, httplib::Response& res, const std::string& ws) {
    BreakdownRequest r;
    Status s = ParseCommon(req, {"by", "limit", "metric"}, false, ws, &r.filter);
    if (!s.ok()) return s;
    Result<GroupKey> by = ParseGroupKey(req.params);
    if (!by.ok()) return by.status();
    r.by = by.value();
    Result<Metric> metric = ParseMetric(req.params);
    if (!metric.ok()) return metric.status();
    r.metric = metric.value();
    Result<std::optional<std::string>> limit = SingleParam(req.params, "limit");
    if (!limit.ok()) return limit.status();
    if (limit.value()) {
      const std::string& l = *limit.value();
      bool digits = l.size() <= 4 && std::all_of(l.begin(), l.end(), [](char c) {
                      return std::isdigit(static_cast<unsigned char>(c));
                    });
      size_t n = digits ? std::stoul(l) : 0;
      if (n < 1 || n > o_.limits.max_breakdown_rows) {
        return Status::InvalidArgument("limit: must be an integer from 1 to " +
                                       std::to_string(o_.limits.max_breakdown_rows));
      }
      r.limit = n;
    }
    report::Breakdown b;
    if (!(s = o_.store->GetBreakdown(r, &b)).ok()) return s;
    json rows = json::array();
    for (const auto& row : b.rows) {
      if (row.value) {
        rows.push_back(
            {{"value", *row.value}, {"value_type", row.value_type}, {"count", row.count}});
      } else {
        rows.push_back({{"value", nullptr}, {"count", row.count}});
      }
    }
    SetJson(res, {{"by", req.has_param("by") ? req.get_param_value("by") : "name"},
                  {"metric", r.metric == Metric::kUsers ? "users" : "events"},
                  {"total", b.total},
                  {"rows", std::move(rows)},
                  {"other", b.other}});
    return Status::Ok();
  }

  Status Funnel(const httplib::Request& req, httplib::Response& res, const std::string& ws) {
    FunnelRequest r;
    Status s = ParseCommon(req, {"steps", "window"}, false, ws, &r.filter);
    if (!s.ok()) return s;
    if (!r.filter.names.empty()) {
      return Status::InvalidArgument("name: not used by funnels; give the events as steps");
    }
    Result<std::vector<std::string>> steps = ParseSteps(req.params, o_.limits);
    if (!steps.ok()) return steps.status();
    r.steps = steps.value();
    Result<int64_t> window = ParseWindow(req.params, o_.limits);
    if (!window.ok()) return window.status();
    r.window_ms = window.value();
    std::vector<int64_t> users;
    if (!(s = o_.store->Funnel(r, &users)).ok()) return s;
    json out = json::array();
    for (size_t i = 0; i < r.steps.size(); ++i) {
      double from_prev = i == 0 ? (users[0] > 0 ? 1.0 : 0.0)
                                : (users[i - 1] > 0 ? static_cast<double>(users[i]) /
                                                          static_cast<double>(users[i - 1])
                                                    : 0.0);
      double from_start =
          users[0] > 0 ? static_cast<double>(users[i]) / static_cast<double>(users[0]) : 0.0;
      out.push_back({{"name", r.steps[i]},
                     {"users", users[i]},
                     {"conversion_from_previous", from_prev},
                     {"conversion_from_start", from_start}});
    }
    SetJson(res, {{"window_ms", r.window_ms}, {"steps", std::move(out)}});
    return Status::Ok();
  }

  Status Overview(const httplib::Request& req, httplib::Response& res, const std::string& ws) {
    EventFilter f;
    Status s = ParseCommon(req, {}, false, ws, &f);
    if (!s.ok()) return s;
    report::Overview o;
    if (!(s = o_.store->GetOverview(f, &o)).ok()) return s;
    json top = json::array();
    for (const auto& [name, count] : o.top_events)
      top.push_back({{"name", name}, {"count", count}});
    SetJson(res, {{"events", o.events},
                  {"users", o.users},
                  {"sessions", o.sessions},
                  {"from", f.from_ms},
                  {"to", f.to_ms},
                  {"top_events", std::move(top)}});
    return Status::Ok();
  }

  Status Export(const httplib::Request& req, httplib::Response& res, const std::string& ws) {
    EventFilter f;
    Status s = ParseCommon(req, {"format", "formulas"}, false, ws, &f);
    if (!s.ok()) return s;
    Result<std::optional<std::string>> format = SingleParam(req.params, "format");
    if (!format.ok()) return format.status();
    // formulas=keep turns off the CSV formula guard (format.h), for tools that are not
    // spreadsheets and want the values byte for byte.
    Result<std::optional<std::string>> formulas = SingleParam(req.params, "formulas");
    if (!formulas.ok()) return formulas.status();
    if (formulas.value() && *formulas.value() != "keep" && *formulas.value() != "guard") {
      return Status::InvalidArgument("formulas: must be guard or keep");
    }
    const bool guard = !formulas.value() || *formulas.value() == "guard";
    const std::string fmt = format.value() ? *format.value() : "csv";
    const char* type = fmt == "csv"      ? "text/csv; charset=utf-8"
                       : fmt == "ndjson" ? "application/x-ndjson"
                       : fmt == "json"   ? "application/json"
                                         : nullptr;
    if (type == nullptr) return Status::InvalidArgument("format: must be csv, ndjson or json");
    std::string safe_ws;
    for (char c : ws) {
      safe_ws.push_back(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ? c
                                                                                            : '_');
    }
    res.set_header("Content-Disposition", "attachment; filename=\"tally-" + safe_ws + "-" +
                                              FileStamp(f.from_ms) + "-" + FileStamp(f.to_ms) +
                                              "." + fmt + "\"");
    res.set_header("Cache-Control", "no-store");
    ReportStore* store = o_.store;
    // The whole export runs inside the provider's first call, writing as rows come: memory is
    // one chunk, and a client that stops reading stops the export (write fails).
    res.set_chunked_content_provider(type, [store, f, fmt, guard](size_t, httplib::DataSink& sink) {
      constexpr size_t kFlushBytes = 64 * 1024;
      std::string buf;
      buf.reserve(kFlushBytes + 4096);
      bool first = true, alive = true;
      if (fmt == "csv") buf += kCsvHeader;
      if (fmt == "json") buf += '[';
      Status st = store->Export(f, [&](const StoredEvent& e) {
        if (fmt == "csv") {
          AppendCsvRow(e, &buf, guard);
        } else {
          if (fmt == "json" && !first) buf += ',';
          AppendEventJson(e, &buf);
          if (fmt == "ndjson") buf += '\n';
        }
        first = false;
        if (buf.size() >= kFlushBytes) {
          alive = sink.write(buf.data(), buf.size());
          buf.clear();
        }
        return alive;
      });
      if (!alive) return false;
      if (!st.ok()) return false;  // ends the connection without the last chunk: a failed download
      if (fmt == "json") buf += ']';
      if (!buf.empty() && !sink.write(buf.data(), buf.size())) return false;
      sink.done();
      return true;
    });
    return Status::Ok();
  }

 private:
  Status ParseCommon(const httplib::Request& req, const std::vector<std::string>& extra,
                     bool all_time_default, const std::string& ws, EventFilter* f,
                     std::shared_ptr<const TimeZone>* zone_out = nullptr) {
    Status s = CheckKnownParams(req.params, extra);
    if (!s.ok()) return s;
    Result<std::shared_ptr<const TimeZone>> zone = ParseTz(req.params, o_.tz_dir);
    if (!zone.ok()) return zone.status();
    if (!(s = ParseFilter(req.params, *zone.value(), o_.clock->NowMs(), o_.limits, all_time_default,
                          f))
             .ok()) {
      return s;
    }
    f->workspace = ws;
    if (zone_out) *zone_out = zone.value();
    return Status::Ok();
  }

  // Timelines read by user_id, or by anonymous_id when no event has that user_id.
  Status SelectUser(const httplib::Request& req, EventFilter* f, std::string* matched) {
    const std::string id = req.matches[1].str();
    if (!f->user_id.empty() || !f->anonymous_id.empty()) {
      return Status::InvalidArgument("user_id: the user is given by the path, not a parameter");
    }
    bool found = false;
    Status s = o_.store->HasUserId(f->workspace, id, &found);
    if (!s.ok()) return s;
    (found ? f->user_id : f->anonymous_id) = id;
    *matched = found ? "user_id" : "anonymous_id";
    return Status::Ok();
  }

  ReportRoutesOptions o_;
};

}  // namespace

void RegisterReportRoutes(httplib::Server& server, ReportRoutesOptions options) {
  auto api = std::make_shared<Api>(options);
  auto route = [&server, api](const char* pattern, Api::Handler h) {
    server.Get(pattern, [api, h](const httplib::Request& req, httplib::Response& res) {
      api->Serve(h, req, res);
    });
  };
  route("/v1/events", &Api::Events);
  route(R"(/v1/users/(.+)/events)", &Api::UserEvents);
  route(R"(/v1/users/(.+)/summary)", &Api::UserSummary);
  route("/v1/stats/timeseries", &Api::Timeseries);
  route("/v1/stats/breakdown", &Api::Breakdown);
  route("/v1/stats/funnel", &Api::Funnel);
  route("/v1/stats/overview", &Api::Overview);
  route("/v1/export", &Api::Export);
  if (options.dashboard) {
    server.Get(R"(/|/dashboard/[A-Za-z0-9._-]+)", [](const httplib::Request& req,
                                                     httplib::Response& res) {
      const DashboardAsset* asset = FindDashboardAsset(req.path);
      if (asset == nullptr) {
        SetError(res, 404, "route: no such dashboard file " + req.path);
        return;
      }
      // The page holds no data (everything comes from the API with the read key), so it may be
      // cached; a new binary changes the asset names' content, not their names, hence no-cache.
      res.set_header("Cache-Control", "no-cache");
      res.set_header("X-Content-Type-Options", "nosniff");
      res.set_header("Content-Security-Policy",
                     "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:");
      res.set_content(reinterpret_cast<const char*>(asset->data), asset->size, asset->content_type);
    });
  }
}

}  // namespace tally::collector::report
