#include "ingest/ingest.h"

#include <chrono>
#include <cstdlib>

#include "tally/dedup.h"
#include "tally/json.h"
#include "thread_name.h"

namespace tally::collector {

DerivedTime DeriveTime(const TimeInputs& in, const TimeOptions& options) {
  DerivedTime out;
  if (in.explicit_time) {
    out.derived_at_ms = in.created_at_ms;
    out.flags |= kTimeExplicit;
  } else {
    std::optional<int64_t> by_sent;
    if (in.sent_at_ms > 0) by_sent = in.received_at_ms - (in.sent_at_ms - in.created_at_ms);
    std::optional<int64_t> by_offset;
    if (in.clock_offset_ms) {
      int64_t candidate = in.created_at_ms + *in.clock_offset_ms;
      // Both rules agree up to transit time when the estimate is current; a large disagreement
      // means the device clock moved after the estimate was made.
      if (!by_sent || std::llabs(candidate - *by_sent) <= options.max_offset_disagreement_ms) {
        by_offset = candidate;
      }
    }
    if (by_offset) {
      out.derived_at_ms = *by_offset;
      out.flags |= kTimeOffsetCorrected;
    } else if (by_sent) {
      out.derived_at_ms = *by_sent;
    } else {
      out.derived_at_ms = in.created_at_ms;
    }
  }
  if (out.derived_at_ms > in.received_at_ms) {
    out.derived_at_ms = in.received_at_ms;
    out.flags |= kTimeClampedFuture;
  }
  return out;
}

StoredEvent ToStoredEvent(const Event& event, const TimeInputs& times, const TimeOptions& options,
                          const std::string& workspace, bool with_fingerprint) {
  // The properties and context as stored: written from the (possibly masked) documents.
  EventDocsJson docs;
  WriteJson(event.properties, &docs.properties);
  WriteJson(event.context, &docs.context);
  return ToStoredEvent(Event(event), std::move(docs), times, options, workspace, with_fingerprint);
}

StoredEvent ToStoredEvent(Event&& event, EventDocsJson&& docs, const TimeInputs& times,
                          const TimeOptions& options, const std::string& workspace,
                          bool with_fingerprint) {
  StoredEvent row;
  if (with_fingerprint) row.fingerprint = ContentFingerprint(event, workspace);
  row.event_id = std::move(event.event_id);
  row.type = EventTypeName(event.type);
  row.name = std::move(event.name);
  row.user_id = std::move(event.user_id);
  row.anonymous_id = std::move(event.anonymous_id);
  row.session_id = std::move(event.session_id);
  row.created_at_ms = event.created_at_ms;
  row.sent_at_ms = times.sent_at_ms;
  row.received_at_ms = times.received_at_ms;
  DerivedTime derived = DeriveTime(times, options);
  row.derived_at_ms = derived.derived_at_ms;
  row.time_flags = derived.flags;
  row.properties_json = std::move(docs.properties);
  row.context_json = std::move(docs.context);
  return row;
}

Writer::Writer(Store* store, const Clock* clock, const WriterOptions& options)
    : store_(store), clock_(clock), options_(options) {
  sync_thread_ = std::thread([this] { SyncLoop(); });
  NameThread(sync_thread_, "tally-sync");
  thread_ = std::thread([this] { Run(); });
  NameThread(thread_, "tally-writer");
}

Writer::~Writer() { Stop(); }

Status Writer::Submit(AppendBatch* batch) {
  Pending pending{batch, Status::Ok()};
  std::unique_lock<std::mutex> lock(mu_);
  if (stopping_) return Status::ResourceExhausted("server: shutting down");
  if (queue_.size() >= options_.max_queued_requests) {
    return Status::ResourceExhausted("server: write queue full (" + std::to_string(queue_.size()) +
                                     " requests waiting)");
  }
  queue_.push_back(&pending);
  depth_.store(queue_.size(), std::memory_order_relaxed);
  work_cv_.notify_one();
  done_cv_.wait(lock, [&] { return pending.done; });
  return pending.status;
}

void Writer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  work_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  {
    std::lock_guard<std::mutex> lock(sync_mu_);
    sync_stopping_ = true;
  }
  sync_cv_.notify_all();
  if (sync_thread_.joinable()) sync_thread_.join();  // after the groups committed last are synced
}

void Writer::Run() {
  const int linger_ms = options_.linger_ms >= 0 ? options_.linger_ms : store_->GroupLingerMs();
  std::vector<Pending*> group;
  std::vector<AppendBatch*> batches;
  for (;;) {
    group.clear();
    batches.clear();
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued is committed
      if (linger_ms > 0) {
        auto full = [&] {
          size_t queued = 0;
          for (const Pending* p : queue_) queued += p->batch->events.size();
          return stopping_ || queued >= options_.max_group_events;
        };
        work_cv_.wait_for(lock, std::chrono::milliseconds(linger_ms), full);
      }
      size_t events = 0;
      while (!queue_.empty() && (group.empty() || events + queue_.front()->batch->events.size() <=
                                                      options_.max_group_events)) {
        events += queue_.front()->batch->events.size();
        group.push_back(queue_.front());
        batches.push_back(queue_.front()->batch);
        queue_.pop_front();
      }
      depth_.store(queue_.size(), std::memory_order_relaxed);
    }
    auto start = std::chrono::steady_clock::now();
    Status s = store_->AppendNoSync(batches, clock_->NowMs());
    if (!s.ok()) {
      Finish(group, s, start);  // nothing of it is stored: no sync to wait for
      continue;
    }
    {
      std::lock_guard<std::mutex> lock(sync_mu_);
      unsynced_.push_back(Committed{group, start});
    }
    sync_cv_.notify_one();
  }
}

void Writer::SyncLoop() {
  std::vector<Committed> groups;
  for (;;) {
    groups.clear();
    {
      std::unique_lock<std::mutex> lock(sync_mu_);
      sync_cv_.wait(lock, [&] { return sync_stopping_ || !unsynced_.empty(); });
      if (unsynced_.empty()) return;  // stopping, and every committed group is answered
      groups.swap(unsynced_);
    }
    // One sync covers every group committed before it started.
    Status s = store_->SyncAppended();
    for (const Committed& c : groups) Finish(c.group, s, c.start);
  }
}

void Writer::Finish(const std::vector<Pending*>& group, const Status& s,
                    std::chrono::steady_clock::time_point start) {
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  (s.ok() ? commits_ : failed_commits_).fetch_add(1, std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(latency_mu_);
    for (size_t i = 0; i < kLatencyBuckets.size(); ++i) {
      if (seconds <= kLatencyBuckets[i]) latency_.cumulative[i]++;
    }
    latency_.count++;
    latency_.sum_seconds += seconds;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (Pending* p : group) {
      p->status = s;
      p->done = true;
    }
  }
  done_cv_.notify_all();
}

Writer::LatencySnapshot Writer::CommitLatency() const {
  std::lock_guard<std::mutex> lock(latency_mu_);
  return latency_;
}

}  // namespace tally::collector
