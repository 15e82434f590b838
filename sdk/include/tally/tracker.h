// The tracking core as one object: what the browser SDK (through wasm/) and a native client
// drive. It validates, ids, stamps, dedups, queues and batches; it does no I/O. The caller
// persists what Track() returns, sends what NextBatch() builds, and reports the outcome.
#ifndef TALLY_TRACKER_H_
#define TALLY_TRACKER_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tally/batcher.h"
#include "tally/clock.h"
#include "tally/clock_offset.h"
#include "tally/dedup.h"
#include "tally/event.h"
#include "tally/event_writer.h"
#include "tally/options.h"
#include "tally/status.h"
#include "tally/uuid.h"

namespace tally {

// TALLY_BROWSER_CORE (defined only for the browser module, wasm/CMakeLists.txt) builds the
// tracker without its Deduper: there, `dedup` has no effect and an event is refused as a
// duplicate only while its id is still queued (docs/DECISIONS.md says why that is safe: the page
// mints the ids, the queue check covers restores and retries, and the collector deduplicates
// on event_id). Native builds keep the Deduper.
struct TrackerOptions {
  std::string write_key;
  ValidationOptions validation;
  // A page needs far fewer ids than a collector.
  DedupOptions dedup{48LL * 3600 * 1000, 10000, false};
  BatchOptions batch;
  QueueOptions queue;
  ClockOffsetOptions clock_offset;
};

class Tracker {
 public:
  /// `clock` and `random` must outlive the tracker.
  Tracker(TrackerOptions options, const Clock* clock, RandomSource* random);

  /// Tracks one event given as a JSON object with the event's fields
  /// ({"type":"track","name":"Clicked CTA","properties":{...},"context":{...},"user_id":...}).
  /// A missing event_id gets a new UUIDv7 and a missing created_at the clock's now; given ones
  /// are kept (a snippet replaying early calls passes their original created_at). Then the
  /// event is validated, checked against ids already tracked (kDuplicate; with
  /// TALLY_BROWSER_CORE, against ids still queued), and queued
  /// (kResourceExhausted when the queue is full; kTooLarge when the encoded event could never
  /// fit a batch of BatchOptions::max_bytes). On success `*encoded` holds the encoded
  /// event, for the caller to persist, and `*event_id` its id (either may be null). A refused
  /// event leaves no trace: tracking it again later is not a duplicate.
  Status Track(std::string_view event_json, std::string* encoded, std::string* event_id);
  /// The same for an Event; an empty event_id or a created_at_ms of 0 counts as absent.
  Status Track(Event event, std::string* encoded);

  /// Puts back events persisted earlier (each an EncodeEvent output, one per line), keeping
  /// their ids and created_at. Events already queued are skipped, so restoring twice, or in two
  /// tabs' worth of overlap, never duplicates; so are events this tracker already tracked (and
  /// perhaps delivered; not with TALLY_BROWSER_CORE, where the collector drops them). Lines
  /// that fail to decode or validate, or lack an id or created_at, are counted in *dropped and
  /// skipped. A restored event counts as queued since its created_at, so a restored backlog is
  /// due at once. When the queue fills, the events that do not fit are counted in *dropped too
  /// and the result is kResourceExhausted (the counts are still set; the events that fit are
  /// queued).
  Status Restore(std::string_view snapshot, size_t* restored, size_t* dropped);
  /// What RestoreEvent did with one persisted event.
  enum class Restored { kRestored, kSkipped, kDropped, kNoRoom };
  /// One line of Restore, with the same checks: kSkipped for a blank line or an event already
  /// queued (or tracked before); kDropped when it fails to decode or validate, lacks an id or
  /// created_at, or could never fit a batch; kNoRoom when the queue is full. The browser module
  /// restores line by line (JavaScript splits the snapshot and counts).
  Restored RestoreEvent(std::string_view line);
  /// Queues an event the caller encoded itself, unvalidated: the script-tag SDK's lite module
  /// (wasm/tally_abi.h, tally_push) has no event path, so the page sends its own JSON text and
  /// the collector applies the rules (docs/DECISIONS.md). `encoded` must be one JSON object
  /// starting {"event_id":"<event_id>" (so that the caller can read a persisted line's id
  /// without parsing it); only that prefix is checked here. Refused, leaving no trace: kTooLarge
  /// when it is over ValidationOptions::max_event_bytes (the core's own message, `event:
  /// encoded size N bytes is over the limit of M`) or could never fit a batch; kDuplicate when
  /// its id is still queued (or, without TALLY_BROWSER_CORE, was tracked before);
  /// kResourceExhausted when the queue is full; kInvalidArgument when the prefix is wrong. The
  /// event counts as queued since min(created_at_ms, now), as a restored one does: a persisted
  /// line goes back through this call too.
  Status PushEncoded(std::string_view event_id, int64_t created_at_ms, std::string_view encoded);
  /// The queued events, one encoded event per line, oldest first.
  std::string Snapshot() const;

  bool BatchDue() const;
  int64_t MsUntilDue() const;

  /// Builds the next batch body from the head of the queue with sent_at = now and the current
  /// clock offset, at most `max_bytes` long (0: BatchOptions::max_bytes; the page-unload path
  /// passes less to stay under the 64 KB beacon budget). Returns how many events it holds (0:
  /// nothing queued, or the oldest event alone is over a `max_bytes` smaller than the
  /// configured one; with the configured limit the oldest event always fits). The events stay
  /// queued until Ack(); sending the same batch again builds it anew with a fresh sent_at and the
  /// same ids and created_at.
  size_t NextBatch(std::string* body, size_t max_bytes = 0);
  /// Removes the first `n` queued events: delivered, or refused for good.
  void Ack(size_t n);

  /// Feeds a round trip to the clock-offset estimator (see ClockOffsetEstimator::AddSample).
  void OnServerTime(int64_t sent_ms, int64_t received_ms, int64_t server_time_ms);
  std::optional<int64_t> ClockOffsetMs() const { return offset_.OffsetMs(); }

  size_t queued_events() const { return batcher_.size(); }
  size_t queued_bytes() const { return batcher_.bytes(); }
  const TrackerOptions& options() const { return options_; }

 private:
  // Queues an encoded, validated event after the tracker's own checks (batch fit, room, dedup).
  // `queued_since_ms` is when the event's age starts (now, or a restored event's created_at).
  Status Admit(const EventKey& key, std::string bytes, int64_t now_ms, int64_t queued_since_ms,
               std::string* encoded, std::string* event_id);
  Status CheckFitsBatch(size_t encoded_bytes) const;
  Status CheckNotSeen(const EventKey& event, int64_t now_ms);
  Restored RestoreLine(std::string_view line, int64_t now_ms);

  TrackerOptions options_;
  const Clock* clock_;
  UuidV7Generator ids_;
  Batcher batcher_;
  ClockOffsetEstimator offset_;
#ifndef TALLY_BROWSER_CORE
  Deduper dedup_;
#endif
  EventWriter writer_;     // Track(json) and Restore: one streaming pass per event
  size_t envelope_bytes_;  // the widest batch envelope for write_key (see CheckFitsBatch)
};

}  // namespace tally

#endif  // TALLY_TRACKER_H_
