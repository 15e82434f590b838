// From decoded events to committed rows: server timestamps (DESIGN.md lesson 4) and the single
// writer that commits whole groups of requests per transaction (lesson 1: acknowledge only what
// is durable; under overload refuse instead of buffering).
#ifndef TALLY_COLLECTOR_INGEST_INGEST_H_
#define TALLY_COLLECTOR_INGEST_INGEST_H_

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "store/store.h"
#include "tally/clock.h"
#include "tally/event.h"
#include "tally/status.h"
#include "tally/validate.h"

namespace tally::collector {

struct TimeOptions {
  /// The SDK's clock_offset_ms is trusted only while it agrees with the sent_at rule within this
  /// bound (the difference is transit time plus estimation error); beyond it, the device clock
  /// probably changed since the estimate and the sent_at rule wins.
  int64_t max_offset_disagreement_ms = 60 * 1000;
};

/// The times of one event as the batch gave them.
struct TimeInputs {
  int64_t created_at_ms = 0;
  int64_t sent_at_ms = 0;  ///< 0: the batch carried none
  std::optional<int64_t> clock_offset_ms;
  int64_t received_at_ms = 0;
  bool explicit_time = false;  ///< a server key: created_at is authoritative
};

struct DerivedTime {
  int64_t derived_at_ms = 0;
  uint32_t flags = 0;  ///< TimeFlag bits
};

/// derived_at per DESIGN.md lesson 4:
///  - server keys: created_at as given (kTimeExplicit);
///  - with a usable clock_offset_ms: created_at + offset (kTimeOffsetCorrected);
///  - with sent_at: received_at − (sent_at − created_at);
///  - otherwise created_at.
/// A result after received_at is clamped to received_at (kTimeClampedFuture).
DerivedTime DeriveTime(const TimeInputs& in, const TimeOptions& options);

/// The row for one validated event: times derived, properties and context as the core's JSON
/// text, the content fingerprint when `with_fingerprint`.
StoredEvent ToStoredEvent(const Event& event, const TimeInputs& times, const TimeOptions& options,
                          const std::string& workspace, bool with_fingerprint);

/// The same for a decoded event the caller gives up: its strings are moved into the row, and
/// `docs` (its properties and context as the validation wrote them, still current: no privacy
/// rule changed them since) is taken as the row's JSON text instead of writing it again.
StoredEvent ToStoredEvent(Event&& event, EventDocsJson&& docs, const TimeInputs& times,
                          const TimeOptions& options, const std::string& workspace,
                          bool with_fingerprint);

struct WriterOptions {
  /// Requests waiting for the writer, at most; beyond it Submit refuses (503 + Retry-After).
  size_t max_queued_requests = 512;
  /// Events committed in one transaction, at most (a group ends at a request boundary, so one
  /// request larger than this still commits whole).
  size_t max_group_events = 20000;
  /// When requests are waiting but hold fewer than max_group_events, wait up to this long for
  /// more before the Append (Kafka's linger.ms): under load, requests answered by one commit come
  /// back within a millisecond or two, and lingering lets them join the next group instead of
  /// forming a small one of their own. -1: the store's GroupLingerMs().
  int linger_ms = -1;
};

/// The single writer. Handler threads Submit a batch and block until the transaction holding it
/// is committed and durable; the writer thread takes everything queued (up to max_group_events)
/// into one transaction (Store::AppendNoSync), then hands the group to the sync thread, which
/// waits for stable storage (Store::SyncAppended, one sync for every group committed since the
/// last) and answers the group's requests, while the writer thread commits the next group.
/// Thread-safe.
class Writer {
 public:
  /// `store` and `clock` must outlive the writer.
  Writer(Store* store, const Clock* clock, const WriterOptions& options);
  ~Writer();  ///< Stop()s

  /// Blocks until `batch` is committed (ok, outcomes filled) or failed. kResourceExhausted at
  /// once, without queueing, when max_queued_requests are already waiting or after Stop().
  Status Submit(AppendBatch* batch);

  /// Commits what is queued, then ends the writer thread. Idempotent.
  void Stop();

  size_t queue_depth() const { return depth_.load(std::memory_order_relaxed); }

  /// Commit latency histogram (seconds), cumulative as Prometheus wants it.
  static constexpr std::array<double, 12> kLatencyBuckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
  struct LatencySnapshot {
    std::array<uint64_t, kLatencyBuckets.size()> cumulative{};
    uint64_t count = 0;
    double sum_seconds = 0;
  };
  LatencySnapshot CommitLatency() const;
  uint64_t commits() const { return commits_.load(std::memory_order_relaxed); }
  uint64_t failed_commits() const { return failed_commits_.load(std::memory_order_relaxed); }

 private:
  struct Pending {
    AppendBatch* batch;
    Status status;
    bool done = false;
  };
  // A committed group waiting for its sync.
  struct Committed {
    std::vector<Pending*> group;
    std::chrono::steady_clock::time_point start;
  };
  void Run();
  void SyncLoop();
  // Records the group's latency (from the start of its Append) and answers its requests.
  void Finish(const std::vector<Pending*>& group, const Status& status,
              std::chrono::steady_clock::time_point start);

  Store* store_;
  const Clock* clock_;
  WriterOptions options_;

  std::mutex mu_;
  std::condition_variable work_cv_;  // the writer waits for work
  std::condition_variable done_cv_;  // submitters wait for their commit
  std::deque<Pending*> queue_;
  bool stopping_ = false;
  std::atomic<size_t> depth_{0};
  std::thread thread_;

  std::mutex sync_mu_;
  std::condition_variable sync_cv_;
  std::vector<Committed> unsynced_;  // guarded by sync_mu_
  bool sync_stopping_ = false;       // guarded by sync_mu_
  std::thread sync_thread_;

  mutable std::mutex latency_mu_;
  LatencySnapshot latency_;
  std::atomic<uint64_t> commits_{0};
  std::atomic<uint64_t> failed_commits_{0};
};

}  // namespace tally::collector

#endif  // TALLY_COLLECTOR_INGEST_INGEST_H_
