// ClickHouse report benchmark (docs/BENCHMARKS.md, "ClickHouse"): copies the events of
// bench/report's SQLite database into a ClickHouse store through Store::Append (50k-row groups,
// as the collector's writer would), then times report queries through ReportStore on any store
// URL, so SQLite and ClickHouse answer the same calls over the same rows. Not part of CI.
//
//   tally-ch-bench copy  --from sqlite:/tmp/tally-report-bench/events.db --to clickhouse://...
//   tally-ch-bench query --store URL [--server-pid PID]
//
// `query` prints one Markdown row per call: wall seconds, this process's CPU seconds (the whole
// cost of a SQLite query), the CPU seconds of process PID over the same call (clickhouse-server,
// from /proc/PID/stat, 10 ms resolution) and the 1-minute load average when the call started.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "report/report_store.h"
#include "report_queries.h"
#include "store/store.h"

using namespace tally;
using namespace tally::collector;
using namespace tally::collector::report;
using namespace tally::collector::report::bench;

namespace {

constexpr int64_t kEnd = 1733011200000;  // bench/report's data: 30 days up to 2024-12-01Z
constexpr int64_t kDay = 86400000;

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}
[[noreturn]] void Die(const std::string& msg) {
  std::fprintf(stderr, "tally-ch-bench: %s\n", msg.c_str());
  std::exit(1);
}
void Check(const Status& s) {
  if (!s.ok()) Die(s.message());
}
EventFilter Range(int64_t days) {
  EventFilter f;
  f.workspace = "bench";
  f.from_ms = kEnd - days * kDay;
  f.to_ms = kEnd;
  return f;
}

void Copy(const std::string& from, const std::string& to) {
  auto src = OpenReportStore(from);
  if (!src.ok()) Die(src.status().message());
  auto dst = OpenStore(to);
  if (!dst.ok()) Die(dst.status().message());
  AppendBatch batch;
  batch.workspace = "bench";
  int64_t n = 0, stored = 0;
  auto t0 = std::chrono::steady_clock::now();
  auto flush = [&] {
    Check(dst.value()->Append({&batch}, 0));
    for (auto o : batch.outcomes) stored += o == AppendOutcome::kStored;
    batch.events.clear();
    batch.outcomes.clear();
  };
  EventFilter all = Range(36500);
  all.from_ms = 0;
  Check(src.value()->Export(all, [&](const StoredEvent& e) {
    batch.events.push_back(e);
    if (++n % 50000 == 0) flush();
    if (n % 1000000 == 0) {
      std::fprintf(stderr, "copy: %lld events, %.0f events/s\n", static_cast<long long>(n),
                   static_cast<double>(n) / Seconds(t0));
    }
    return true;
  }));
  if (!batch.events.empty()) flush();
  std::printf("copy: %lld events read, %lld stored in %.1f s (%.0f events/s)\n",
              static_cast<long long>(n), static_cast<long long>(stored), Seconds(t0),
              static_cast<double>(n) / Seconds(t0));
}

long g_server_pid = 0;  // --server-pid: the process whose CPU time is also reported

double SelfCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}
// utime + stime of g_server_pid in seconds (fields 14 and 15 of /proc/PID/stat), or -1.
double ServerCpuSeconds() {
  if (g_server_pid <= 0) return -1;
  std::ifstream in("/proc/" + std::to_string(g_server_pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close = stat.rfind(')');  // the command name may hold spaces
  if (close == std::string::npos) return -1;
  std::istringstream fields(stat.substr(close + 2));
  std::string f;
  double utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14) utime = std::atof(f.c_str());
    if (i == 15) stime = std::atof(f.c_str());
  }
  return (utime + stime) / 100.0;  // USER_HZ is 100 on Linux
}
double LoadAverage() {
  double la[1] = {0};
  return getloadavg(la, 1) == 1 ? la[0] : -1;
}

template <typename F>
void Time(const char* what, F&& fn) {
  fn();  // warm
  double load = LoadAverage();
  double cpu0 = SelfCpuSeconds(), server0 = ServerCpuSeconds();
  auto t0 = std::chrono::steady_clock::now();
  std::string detail = fn();
  double wall = Seconds(t0);
  double cpu = SelfCpuSeconds() - cpu0, server1 = ServerCpuSeconds();
  std::string server = server0 < 0 || server1 < 0 ? "" : std::to_string(server1 - server0);
  if (!server.empty()) server.resize(server.find('.') + 3);
  std::printf("| %s | %.3f | %.3f | %s | %.1f | %s |\n", what, wall, cpu, server.c_str(), load,
              detail.c_str());
  std::fflush(stdout);
}

void Query(const std::string& url) {
  std::printf(
      "| query | wall s | this process CPU s | server CPU s | load avg | answer |\n"
      "|---|---|---|---|---|---|\n");
  auto opened = OpenReportStore(url);
  if (!opened.ok()) Die(opened.status().message());
  ReportStore& rs = *opened.value();
  auto opened_store = OpenStore(url);
  if (!opened_store.ok()) Die(opened_store.status().message());
  Time("count all events (CountEvents)", [&] {
    int64_t n = 0;
    Check(opened_store.value()->CountEvents("bench", &n));
    return std::to_string(n) + " events";
  });
  for (const TimedQuery& q : ReportQueries()) {
    Time(q.label.c_str(), [&] { return q.run(rs); });
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2)
    Die("usage: tally-ch-bench copy --from URL --to URL | query --store URL [--server-pid PID]");
  std::string mode = argv[1], from, to, store;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--from")
      from = v;
    else if (a == "--to")
      to = v;
    else if (a == "--store")
      store = v;
    else if (a == "--server-pid")
      g_server_pid = std::atol(v.c_str());
    else
      Die("unknown flag " + a);
  }
  if (mode == "copy")
    Copy(from, to);
  else if (mode == "query")
    Query(store);
  else
    Die("unknown mode " + mode);
  return 0;
}
