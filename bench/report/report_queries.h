// The report calls the benchmarks time, in one list, so that bench/report (SQLite, rows and
// rollups) and bench/clickhouse (ClickHouse beside SQLite) time exactly the same requests on the
// same generated data: workspace "bench", 30 days up to 2024-12-01Z (bench/report's `load`).
#ifndef TALLY_BENCH_REPORT_REPORT_QUERIES_H_
#define TALLY_BENCH_REPORT_REPORT_QUERIES_H_

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "report/report_store.h"
#include "report/tz.h"

namespace tally::collector::report::bench {

constexpr int64_t kBenchEnd = 1733011200000;  // 2024-12-01T00:00:00Z
constexpr int64_t kBenchDay = 86400000;
constexpr int64_t kBenchDays = 30;

/// The last `days` days of the data.
inline EventFilter BenchRange(int64_t days) {
  EventFilter f;
  f.workspace = "bench";
  f.from_ms = kBenchEnd - days * kBenchDay;
  f.to_ms = kBenchEnd;
  return f;
}

inline void CheckOrExit(const Status& s) {
  if (s.ok()) return;
  std::fprintf(stderr, "report query failed: %s\n", s.message().c_str());
  std::exit(1);
}

inline std::shared_ptr<const TimeZone> LoadZone(const std::string& name) {
  auto zone = TimeZone::Load(name);
  if (!zone.ok()) {
    std::fprintf(stderr, "%s\n", zone.status().message().c_str());
    std::exit(1);
  }
  return zone.value();
}

/// One timed call: its label and the call, which returns a short summary of the answer (so runs
/// on two stores can be compared by eye).
struct TimedQuery {
  std::string label;
  std::function<std::string(ReportStore&)> run;
};

/// Every report request of the benchmarks, for the last 7 days and for all 30.
// Runs `r` with buckets of `interval` in `zone` over its filter's range; exits on a failure.
inline std::vector<int64_t> RunTimeseries(ReportStore& rs, TimeseriesRequest r,
                                          const TimeZone& zone, Interval interval) {
  r.bounds = BucketBounds(zone, interval, r.filter.from_ms, r.filter.to_ms, 10000).value();
  std::vector<int64_t> v;
  CheckOrExit(rs.Timeseries(r, &v));
  return v;
}

inline std::vector<TimedQuery> ReportQueries() {
  std::shared_ptr<const TimeZone> paris = LoadZone("Europe/Paris");
  std::shared_ptr<const TimeZone> kolkata = LoadZone("Asia/Kolkata");
  std::vector<TimedQuery> q;
  for (int64_t days : {int64_t{7}, kBenchDays}) {
    std::string range = " (" + std::to_string(days) + " d)";
    q.push_back({"timeseries events/day Europe/Paris" + range, [=](ReportStore& rs) {
                   TimeseriesRequest r;
                   r.filter = BenchRange(days);
                   const std::vector<int64_t> v = RunTimeseries(rs, r, *paris, Interval::kDay);
                   int64_t sum = 0;
                   for (auto x : v) sum += x;
                   return std::to_string(v.size()) + " buckets, " + std::to_string(sum) + " events";
                 }});
    q.push_back({"timeseries events/hour name=click" + range, [=](ReportStore& rs) {
                   TimeseriesRequest r;
                   r.filter = BenchRange(days);
                   r.filter.names = {"click"};
                   const std::vector<int64_t> v =
                       RunTimeseries(rs, r, *TimeZone::Utc(), Interval::kHour);
                   int64_t sum = 0;
                   for (auto x : v) sum += x;
                   return std::to_string(sum) + " events";
                 }});
    q.push_back({"timeseries unique users/day" + range, [=](ReportStore& rs) {
                   TimeseriesRequest r;
                   r.filter = BenchRange(days);
                   r.metric = Metric::kUsers;
                   const std::vector<int64_t> v =
                       RunTimeseries(rs, r, *TimeZone::Utc(), Interval::kDay);
                   return "last day " + std::to_string(v.back()) + " users";
                 }});
    q.push_back({"timeseries unique users/day Asia/Kolkata" + range, [=](ReportStore& rs) {
                   // +05:30: every day bucket cuts one UTC hour, which the rollup path reads raw.
                   TimeseriesRequest r;
                   r.filter = BenchRange(days);
                   r.metric = Metric::kUsers;
                   const std::vector<int64_t> v = RunTimeseries(rs, r, *kolkata, Interval::kDay);
                   return "last day " + std::to_string(v.back()) + " users";
                 }});
    q.push_back({"breakdown by name" + range, [=](ReportStore& rs) {
                   BreakdownRequest r;
                   r.filter = BenchRange(days);
                   Breakdown b;
                   CheckOrExit(rs.GetBreakdown(r, &b));
                   return "total " + std::to_string(b.total) + ", top " + *b.rows[0].value;
                 }});
    q.push_back({"breakdown by prop.channel" + range, [=](ReportStore& rs) {
                   BreakdownRequest r;
                   r.filter = BenchRange(days);
                   r.by = GroupKey{GroupKey::Kind::kProperty, "channel"};
                   Breakdown b;
                   CheckOrExit(rs.GetBreakdown(r, &b));
                   return "total " + std::to_string(b.total);
                 }});
    q.push_back({"breakdown by prop.channel, name=conversion" + range, [=](ReportStore& rs) {
                   BreakdownRequest r;
                   r.filter = BenchRange(days);
                   r.filter.names = {"conversion"};
                   r.by = GroupKey{GroupKey::Kind::kProperty, "channel"};
                   Breakdown b;
                   CheckOrExit(rs.GetBreakdown(r, &b));
                   return "total " + std::to_string(b.total);
                 }});
    q.push_back({"funnel impression>click>conversion 7d window" + range, [=](ReportStore& rs) {
                   FunnelRequest r;
                   r.filter = BenchRange(days);
                   r.steps = {"impression", "click", "conversion"};
                   std::vector<int64_t> users;
                   CheckOrExit(rs.Funnel(r, &users));
                   return std::to_string(users[0]) + " > " + std::to_string(users[1]) + " > " +
                          std::to_string(users[2]) + " users";
                 }});
    q.push_back({"overview" + range, [=](ReportStore& rs) {
                   Overview o;
                   CheckOrExit(rs.GetOverview(BenchRange(days), &o));
                   return std::to_string(o.events) + " events, " + std::to_string(o.users) +
                          " users, " + std::to_string(o.sessions) + " sessions";
                 }});
  }
  q.push_back({"user timeline C-4242: summary, all time", [=](ReportStore& rs) {
                 EventFilter f = BenchRange(kBenchDays);
                 f.from_ms = 0;
                 f.user_id = "C-4242";
                 std::vector<NameSummary> rows;
                 CheckOrExit(rs.Summary(f, &rows));
                 int64_t n = 0;
                 for (auto& r : rows) n += r.count;
                 return std::to_string(n) + " events";
               }});
  q.push_back({"user timeline C-4242: first page of 100, newest first", [=](ReportStore& rs) {
                 EventsRequest r;
                 r.filter = BenchRange(kBenchDays);
                 r.filter.from_ms = 0;
                 r.filter.user_id = "C-4242";
                 r.descending = true;
                 EventsPage p;
                 CheckOrExit(rs.Events(r, &p));
                 return std::to_string(p.events.size()) + " events";
               }});
  q.push_back(
      {"events page of 100, name=conversion, prop.channel=sms (30 d)", [=](ReportStore& rs) {
         EventsRequest r;
         r.filter = BenchRange(kBenchDays);
         r.filter.names = {"conversion"};
         r.filter.properties = {{"channel", "sms"}};
         EventsPage p;
         CheckOrExit(rs.Events(r, &p));
         return std::to_string(p.events.size()) + " events";
       }});
  return q;
}

}  // namespace tally::collector::report::bench

#endif  // TALLY_BENCH_REPORT_REPORT_QUERIES_H_
