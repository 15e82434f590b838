// tally-append-bench: Store::Append alone, no HTTP. Separates SQLite's cost from the handler's.
//
//   tally-append-bench [--events 500000] [--batch 100] [--group 32] [--sync full|normal]
//                      [--reports 1] [--dir /tmp] [--page-size 16384] [--wal-pages 4000]
//
// Builds `--group` requests of `--batch` events each (the Writer commits everything queued as
// one group; with 32 keep-alive clients a group is up to 32 requests), with fresh UUIDv7 ids
// and the same content tally-ingest-load sends, and appends them to a new SQLite file in a temp
// directory until `--events` are stored. `--reports 1` first opens the report store on the same
// file, as tally-collector does, so the report indexes exist (the real per-row index cost).
// Only Append is timed; building the rows is not. Prints one JSON line (rows/s and the
// p50 / p99 / max time of one Append, i.e. one group commit), and the CPU time of the calling
// thread inside Append per row (`writer_cpu_us_per_row`, getrusage: less sensitive to other
// processes on the machine than wall time) and of the whole process over the run.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "report/report_store.h"
#include "store/store.h"
#include "tally/clock.h"
#include "tally/uuid.h"

namespace {

double CpuSeconds(int who) {
  rusage ru{};
  getrusage(who, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

int main(int argc, char** argv) {
  long long events = 500000;
  int batch = 100, group = 32, reports = 1;
  tally::collector::StoreOptions options;
  std::string sync = "full", dir = "/tmp";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string f = argv[i], v = argv[i + 1];
    if (f == "--events")
      events = std::atoll(v.c_str());
    else if (f == "--batch")
      batch = std::atoi(v.c_str());
    else if (f == "--group")
      group = std::atoi(v.c_str());
    else if (f == "--sync")
      sync = v;
    else if (f == "--reports")
      reports = std::atoi(v.c_str());
    else if (f == "--dir")
      dir = v;
    else if (f == "--page-size")
      options.page_size = std::atoi(v.c_str());
    else if (f == "--wal-pages")
      options.wal_checkpoint_pages = std::atoi(v.c_str());
    else {
      std::fprintf(stderr, "unknown flag %s\n", f.c_str());
      return 2;
    }
  }
  namespace fs = std::filesystem;
  fs::path work = fs::path(dir) / ("tally-append-bench-" + std::to_string(getpid()));
  fs::create_directories(work);
  const std::string url = "sqlite:" + (work / "bench.db").string();
  options.sync_every_commit = sync == "full";
  auto opened = tally::collector::OpenStore(url, options);
  if (!opened.ok()) {
    std::fprintf(stderr, "%s\n", opened.status().message().c_str());
    return 1;
  }
  std::unique_ptr<tally::collector::Store> store = std::move(opened).value();
  std::unique_ptr<tally::collector::report::ReportStore> report_store;
  if (reports) {
    auto r = tally::collector::report::OpenReportStore(url);
    if (!r.ok()) {
      std::fprintf(stderr, "%s\n", r.status().message().c_str());
      return 1;
    }
    report_store = std::move(r).value();
  }

  tally::SeededRandom random(1, 2, 3, 4);
  tally::UuidV7Generator ids(&random);
  std::vector<tally::collector::AppendBatch> batches(static_cast<size_t>(group));
  std::vector<tally::collector::AppendBatch*> ptrs;
  for (auto& b : batches) ptrs.push_back(&b);
  double append_s = 0, writer_cpu_s = 0;
  std::vector<double> commit_ms;
  long long stored = 0, commits = 0;
  uint64_t seq = 0;
  while (stored < events) {
    const int64_t now = NowMs();
    for (auto& b : batches) {
      b.workspace = "bench";
      b.events.resize(static_cast<size_t>(batch));
      int i = 0;
      for (auto& e : b.events) {
        std::string user = "C-" + std::to_string((seq * 7919 + static_cast<uint64_t>(i)) % 100000);
        e.event_id = ids.Next(now);
        e.type = "track";
        e.name = "Clicked CTA";
        e.user_id = user;
        e.anonymous_id = "anon-" + user;
        e.session_id = "s-1";
        e.created_at_ms = now;
        e.sent_at_ms = now;
        e.received_at_ms = now;
        e.derived_at_ms = now;
        e.properties_json =
            "{\"channel\":\"email\",\"campaign_id\":\"BF-2024\",\"n\":" + std::to_string(i) + "}";
        e.context_json = "{\"page\":{\"path\":\"/pricing\"},\"workflow_id\":\"WF-lifecycle\"}";
        ++i;
      }
      ++seq;
    }
    const double cpu_before = CpuSeconds(RUSAGE_THREAD);
    auto start = std::chrono::steady_clock::now();
    tally::Status s = store->Append(ptrs, now);
    double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    writer_cpu_s += CpuSeconds(RUSAGE_THREAD) - cpu_before;
    append_s += took;
    commit_ms.push_back(took * 1000);
    if (!s.ok()) {
      std::fprintf(stderr, "append: %s\n", s.message().c_str());
      return 1;
    }
    for (auto& b : batches) {
      for (auto o : b.outcomes) stored += o == tally::collector::AppendOutcome::kStored;
    }
    ++commits;
  }
  std::sort(commit_ms.begin(), commit_ms.end());
  auto pct = [&](double p) {
    return commit_ms.empty()
               ? 0.0
               : commit_ms[static_cast<size_t>(p * static_cast<double>(commit_ms.size() - 1))];
  };
  report_store.reset();
  store.reset();
  const double process_cpu_s = CpuSeconds(RUSAGE_SELF);
  std::error_code ec;
  fs::remove_all(work, ec);
  std::printf(
      "{\"sync\":\"%s\",\"page_size\":%d,\"batch\":%d,\"group\":%d,\"reports\":%d,\"events\":%lld,"
      "\"commits\":%lld,\"append_seconds\":%.3f,\"rows_per_s\":%.0f,\"ms_per_commit\":%.2f,"
      "\"commit_ms_p50\":%.2f,\"commit_ms_p99\":%.2f,\"commit_ms_max\":%.2f,"
      "\"writer_cpu_us_per_row\":%.2f,\"process_cpu_s\":%.2f}\n",
      sync.c_str(), options.page_size, batch, group, reports, stored, commits, append_s,
      static_cast<double>(stored) / append_s, 1000.0 * append_s / static_cast<double>(commits),
      pct(0.5), pct(0.99), pct(1.0), 1e6 * writer_cpu_s / static_cast<double>(stored),
      process_cpu_s);
  return 0;
}
