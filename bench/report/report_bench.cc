// Report benchmark (docs/BENCHMARKS.md, "Reports"): loads N generated events into a SQLite store
// through Store::Append in large groups, then times each report query through ReportStore the
// way the API runs it. Not part of CI. Three modes, each its own process so peak RSS is its own:
//
//   tally-report-bench load   --db PATH [--events 10000000] [--report-indexes no]
//                             [--rollup-job yes [--rollup-interval-ms 1000]] [--page-size N]
//   tally-report-bench query  --db PATH [--rollups on|off|both] [--only TEXT]
//   tally-report-bench rollup --db PATH [--max-rows N]
//   tally-report-bench export --db PATH [--days 30] [--format csv|ndjson]
//
// Data: 30 days ending at 2024-12-01T00:00Z, 200k users, 40 event names (Zipf-like), a
// `channel` property of 6 values, a `content_id` context field, 3 events per session.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "report/format.h"
#include "report/report_store.h"
#include "report/rollup.h"
#include "report/tz.h"
#include "report_queries.h"
#include "store/store.h"
#include "tally/clock.h"
#include "tally/uuid.h"

using namespace tally;
using namespace tally::collector;
using namespace tally::collector::report;

namespace {

constexpr int64_t kEnd = 1733011200000;  // 2024-12-01T00:00:00Z
constexpr int64_t kDay = 86400000;
constexpr int64_t kDays = 30;
constexpr int kUsers = 200000;
constexpr int kNames = 40;
const char* const kChannels[] = {"email", "web", "push", "sms", "ads", "partner"};

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}
// CPU seconds of this process: the machine is shared, so wall time alone overstates the cost
// when other work competes for the 2 cores.
double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}
long PeakRssKb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}
[[noreturn]] void Die(const std::string& msg) {
  std::fprintf(stderr, "tally-report-bench: %s\n", msg.c_str());
  std::exit(1);
}
void Check(const Status& s) {
  if (!s.ok()) Die(s.message());
}

std::string Name(uint64_t r) {
  // Event 0 is the most frequent; a rough Zipf by taking the min of two uniforms, twice.
  uint64_t a = r % kNames, b = (r >> 8) % kNames, c = (r >> 16) % kNames;
  uint64_t n = std::min(a, std::min(b, c));
  static const char* const kFunnel[] = {"impression", "click", "conversion"};
  return n < 3 ? kFunnel[n] : "event_" + std::to_string(n);
}

// `load --rollup-job yes` keeps a report store open during the load whose background rollup job
// runs every `g_rollup_interval_ms`, competing with the appends for the write lock as in a
// running collector.
bool g_rollup_job = false;
int g_rollup_interval_ms = 1000;
// `load --page-size N`: the SQLite page size of a new database (StoreOptions::page_size).
int g_page_size = StoreOptions{}.page_size;

void Load(const std::string& db, int64_t total, bool report_indexes) {
  StoreOptions so;
  so.sync_every_commit = false;  // bulk load; durability is not what is measured here
  so.page_size = g_page_size;
  auto opened = OpenStore("sqlite:" + db, so);
  if (!opened.ok()) Die(opened.status().message());
  Store& store = *opened.value();
  // The report side first, so its indexes exist while rows arrive, as in a running collector.
  std::unique_ptr<ReportStore> job;
  if (report_indexes) {
    ReportStoreOptions o;
    o.rollup_interval_ms = g_rollup_job ? g_rollup_interval_ms : 0;
    auto reports = OpenReportStore("sqlite:" + db, o);
    if (!reports.ok()) Die(reports.status().message());
    if (g_rollup_job) job = std::move(reports).value();
  }
  int64_t have = 0;
  Check(store.CountEvents("bench", &have));
  if (have >= total) {
    std::printf("load: %lld events already there\n", static_cast<long long>(have));
    return;
  }
  SeededRandom random(1, 2, 3, 4);
  UuidV7Generator ids(&random);
  const int64_t start = kEnd - kDays * kDay;
  const int64_t step_us = (kDays * kDay * 1000) / total;  // time ordered, like live traffic
  const size_t group = 50000;
  double max_append_s = 0;  // the slowest Append of one group (waits for the write lock show here)
  auto t0 = std::chrono::steady_clock::now();
  AppendBatch batch;
  batch.workspace = "bench";
  for (int64_t i = have; i < total;) {
    batch.events.clear();
    batch.outcomes.clear();
    for (size_t k = 0; k < group && i < total; ++k, ++i) {
      uint64_t r = random.Next64();
      int64_t t = start + i * step_us / 1000;
      StoredEvent e;
      e.event_id = ids.Next(t);
      e.type = (r & 15) == 0 ? "page" : "track";
      e.name = Name(r >> 4);
      // A session is 3 consecutive events of one user.
      uint64_t session = static_cast<uint64_t>(i / 3);
      uint64_t user = (session * 2654435761u) % kUsers;
      e.user_id = (user % 5 == 0) ? "" : "C-" + std::to_string(user);
      e.anonymous_id = "anon-" + std::to_string(user);
      e.session_id = "s-" + std::to_string(session);
      e.created_at_ms = t - 50;
      e.sent_at_ms = t;
      e.received_at_ms = t + 40;
      e.derived_at_ms = t;
      e.properties_json = std::string("{\"channel\":\"") + kChannels[(r >> 32) % 6] +
                          "\",\"i\":" + std::to_string(i) + "}";
      e.context_json = "{\"content_id\":\"CNT-" + std::to_string((r >> 40) % 50) + "\"}";
      batch.events.push_back(std::move(e));
    }
    auto a0 = std::chrono::steady_clock::now();
    Check(store.Append({&batch}, t0.time_since_epoch().count()));
    max_append_s = std::max(max_append_s, Seconds(a0));
    if (i % 1000000 < static_cast<int64_t>(group)) {
      std::fprintf(stderr, "load: %lld events, %.0f events/s\n", static_cast<long long>(i),
                   static_cast<double>(i - have) / Seconds(t0));
    }
  }
  double wall = Seconds(t0);
  double cpu = CpuSeconds();
  job.reset();  // stops the rollup job
  Check(store.Checkpoint());
  std::printf(
      "load: %lld events in %.1f s (%.0f events/s), process cpu %.1f s, slowest group of %zu "
      "%.2f s%s\n",
      static_cast<long long>(total - have), wall, static_cast<double>(total - have) / wall, cpu,
      group, max_append_s, g_rollup_job ? ", rollup job running" : "");
}

EventFilter Range(int64_t days) {
  EventFilter f;
  f.workspace = "bench";
  f.from_ms = kEnd - days * kDay;
  f.to_ms = kEnd;
  return f;
}

// `query --only TEXT` times only the queries whose label contains TEXT.
std::string g_only;

std::string g_label;  // " [rollups]" or " [raw]"

template <typename F>
void Time(const char* what_base, F&& fn) {
  if (!g_only.empty() && std::string(what_base).find(g_only) == std::string::npos) return;
  std::string label = what_base + g_label;
  const char* what = label.c_str();
  fn();  // warm: the page cache holds the file after the first run, as on a running collector
  auto t0 = std::chrono::steady_clock::now();
  double cpu0 = CpuSeconds();
  std::string detail = fn();
  std::printf("%-58s %7.3f s wall %7.3f s cpu  %s\n", what, Seconds(t0), CpuSeconds() - cpu0,
              detail.c_str());
  std::fflush(stdout);
}

// `query --rollups off` reads every row (as before rollups); `both` times each query both ways.
std::string g_rollups = "on";

void Query(const std::string& db, bool rollups) {
  ReportStoreOptions options;
  options.use_rollups = rollups;
  options.rollup_interval_ms = 0;  // measured as they are; `rollup` mode catches up
  auto opened = OpenReportStore("sqlite:" + db, options);
  if (!opened.ok()) Die(opened.status().message());
  ReportStore& rs = *opened.value();
  for (const bench::TimedQuery& q : bench::ReportQueries()) {
    Time(q.label.c_str(), [&] { return q.run(rs); });
  }
}

// Folds events past the watermark into the rollups, chunk by chunk, and says what it cost.
void RollUp(const std::string& db, int64_t max_rows) {
  OpenReportStore("sqlite:" + db, [] {
    ReportStoreOptions o;
    o.rollup_interval_ms = 0;
    return o;
  }());  // creates the rollup tables
  auto opened = Rollup::Open(db);
  if (!opened.ok()) Die(opened.status().message());
  auto t0 = std::chrono::steady_clock::now();
  double cpu0 = CpuSeconds();
  RollupStats total;
  for (;;) {
    RollupStats one;
    Check(opened.value()->RunOnce(&one));
    total.rows += one.rows;
    total.rebuilt_hours += one.rebuilt_hours;
    total.retries += one.retries;
    total.watermark = one.watermark;
    total.longest_write_s = std::max(total.longest_write_s, one.longest_write_s);
    if (one.caught_up || (max_rows > 0 && total.rows >= max_rows)) break;
    if (total.rows % 1000000 < 50000 && one.rows > 0) {
      std::fprintf(stderr, "rollup: %lld rows, %.1f s\n", static_cast<long long>(total.rows),
                   Seconds(t0));
    }
  }
  std::printf(
      "rollup: %lld rows folded in (%lld hours rebuilt, %lld retries) in %.2f s wall, %.2f s cpu; "
      "watermark %lld; longest write transaction %.3f s; peak RSS %ld MB\n",
      static_cast<long long>(total.rows), static_cast<long long>(total.rebuilt_hours),
      static_cast<long long>(total.retries), Seconds(t0), CpuSeconds() - cpu0,
      static_cast<long long>(total.watermark), total.longest_write_s, PeakRssKb() / 1024);
}

void Export(const std::string& db, int64_t days, const std::string& format) {
  auto opened = OpenReportStore("sqlite:" + db);
  if (!opened.ok()) Die(opened.status().message());
  long rss_before = PeakRssKb();
  std::string buf;
  int64_t rows = 0, bytes = 0;
  auto t0 = std::chrono::steady_clock::now();
  double cpu0 = CpuSeconds();
  // The same formatting and 64 KB flushes as GET /v1/export; the sink discards the bytes.
  Check(opened.value()->Export(Range(days), [&](const StoredEvent& e) {
    if (format == "csv") {
      AppendCsvRow(e, &buf);
    } else {
      AppendEventJson(e, &buf);
      buf += '\n';
    }
    if (buf.size() >= 64 * 1024) {
      bytes += static_cast<int64_t>(buf.size());
      buf.clear();
    }
    ++rows;
    return true;
  }));
  double s = Seconds(t0);
  double cpu = CpuSeconds() - cpu0;
  std::printf(
      "export %s %lld d: %lld rows, %.1f MB in %.2f s wall (%.2f s cpu) = %.0f rows/s "
      "wall, %.0f rows/cpu-s; peak RSS %ld MB (%ld MB before the export)\n",
      format.c_str(), static_cast<long long>(days), static_cast<long long>(rows),
      static_cast<double>(bytes) / 1e6, s, cpu, static_cast<double>(rows) / s,
      static_cast<double>(rows) / cpu, PeakRssKb() / 1024, rss_before / 1024);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) Die("usage: tally-report-bench load|query|export --db PATH [...]");
  std::string mode = argv[1], db, format = "csv";
  int64_t events = 10000000, days = kDays, max_rows = 0;
  bool report_indexes = true;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--db")
      db = v;
    else if (a == "--events")
      events = std::atoll(v.c_str());
    else if (a == "--days")
      days = std::atoll(v.c_str());
    else if (a == "--format")
      format = v;
    else if (a == "--only")
      g_only = v;
    else if (a == "--rollups")
      g_rollups = v;
    else if (a == "--rollup-job")
      g_rollup_job = v == "yes";
    else if (a == "--rollup-interval-ms")
      g_rollup_interval_ms = std::atoi(v.c_str());
    else if (a == "--max-rows")
      max_rows = std::atoll(v.c_str());
    else if (a == "--report-indexes")
      report_indexes = v != "no";
    else if (a == "--page-size")
      g_page_size = std::atoi(v.c_str());
    else
      Die("unknown option " + a);
  }
  if (db.empty()) Die("--db: required");
  if (mode == "load")
    Load(db, events, report_indexes);
  else if (mode == "query" && g_rollups == "both") {
    // Alternating per query would warm one path's pages for the other; each path runs its whole
    // list, raw first, in the same process.
    g_label = " [raw]";
    Query(db, false);
    g_label = " [rollups]";
    Query(db, true);
  } else if (mode == "query")
    Query(db, g_rollups != "off");
  else if (mode == "rollup")
    RollUp(db, max_rows);
  else if (mode == "export")
    Export(db, days, format);
  else
    Die("unknown mode " + mode);
  return 0;
}
