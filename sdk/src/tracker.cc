#include "tally/tracker.h"

#include <algorithm>
#include <utility>

#include "json_internal.h"
#include "rules.h"
#include "tally/codec.h"
#include "tally/validate.h"

namespace tally {
namespace {

// The longest envelope a batch can ever have for a key: sent_at in year 9999 and the widest
// offset ClockOffsetEstimator can produce (its times are bounded by ±2^50 ms). An event that
// fits a batch with this envelope fits every batch, so a queued event can never wedge the head
// of the queue.
constexpr int64_t kLatestSentAtMs = 253402300799999;
constexpr int64_t kWidestOffsetMs = -(int64_t{1} << 51);

EventKey KeyOf(const Event& e) {
  return EventKey{e.event_id, e.name, e.user_id, e.anonymous_id, e.created_at_ms};
}

EventKey KeyOf(const EventWriter& w) {
  return EventKey{w.event_id(), w.name(), w.user_id(), w.anonymous_id(), w.created_at_ms()};
}

}  // namespace

Tracker::Tracker(TrackerOptions options, const Clock* clock, RandomSource* random)
    : options_(std::move(options)),
      clock_(clock),
      ids_(random),
      batcher_(options_.batch, options_.queue),
      offset_(options_.clock_offset),
#ifndef TALLY_BROWSER_CORE
      dedup_(options_.dedup),
#endif
      writer_(options_.validation),
      envelope_bytes_(BatchOverheadBytes(options_.write_key, kLatestSentAtMs, kWidestOffsetMs)) {
}

Status Tracker::Track(std::string_view event_json, std::string* encoded, std::string* event_id) {
  // A missing id or created_at is made here; a given one is kept: a snippet replaying calls
  // made before the SDK loaded passes the time they were made.
  const int64_t now_ms = clock_->NowMs();
  const EventWriter::Fill fill{&ids_, now_ms};
  std::string bytes;
  Status status = writer_.Write(event_json, &bytes, &fill);
  if (!status.ok()) return status;
  return Admit(KeyOf(writer_), std::move(bytes), now_ms, now_ms, encoded, event_id);
}

Status Tracker::Track(Event event, std::string* encoded) {
  const int64_t now_ms = clock_->NowMs();
  if (event.event_id.empty()) event.event_id = ids_.Next(now_ms);
  if (event.created_at_ms == 0) event.created_at_ms = now_ms;
  Status status = ValidateEvent(&event, options_.validation);
  if (!status.ok()) return status;
  return Admit(KeyOf(event), EncodeEvent(event), now_ms, now_ms, encoded, nullptr);
}

Status Tracker::Admit(const EventKey& key, std::string bytes, int64_t now_ms,
                      int64_t queued_since_ms, std::string* encoded, std::string* event_id) {
  Status status = CheckFitsBatch(bytes.size());
  if (!status.ok()) return status;
  // Room first, dedup memory second: an event refused for want of room must not be
  // remembered as tracked, or the caller's retry would be called a duplicate.
  status = batcher_.CanPush(key.event_id, bytes.size());
  if (!status.ok()) return status;
  status = CheckNotSeen(key, now_ms);
  if (!status.ok()) return status;
  if (encoded != nullptr) *encoded = bytes;
  if (event_id != nullptr) event_id->assign(key.event_id.data(), key.event_id.size());
  return batcher_.Push(std::string(key.event_id), std::move(bytes), queued_since_ms);
}

Status Tracker::PushEncoded(std::string_view event_id, int64_t created_at_ms,
                            std::string_view encoded) {
  constexpr std::string_view kPrefix = "{\"event_id\":\"";
  if (encoded.size() < kPrefix.size() + event_id.size() + 1 ||
      encoded.substr(0, kPrefix.size()) != kPrefix ||
      encoded.substr(kPrefix.size(), event_id.size()) != event_id ||
      encoded[kPrefix.size() + event_id.size()] != '"') {
    return Status::InvalidArgument("event: must start with {\"event_id\":\"" +
                                   std::string(event_id) + "\"");
  }
  std::string why;
  if (detail::CheckEncodedSize(encoded.size(), options_.validation, &why) != Code::kOk) {
    return Status::TooLarge(std::move(why));
  }
  const int64_t now_ms = clock_->NowMs();
  // Only the id is known: dedup by content (DedupOptions::fingerprint) sees the rest as empty.
  const EventKey key{event_id, {}, {}, {}, created_at_ms};
  return Admit(key, std::string(encoded), now_ms, std::min(created_at_ms, now_ms), nullptr,
               nullptr);
}

Status Tracker::CheckFitsBatch(size_t encoded_bytes) const {
  const size_t envelope = envelope_bytes_;
  const size_t limit = options_.batch.max_bytes;
  if (envelope > limit || encoded_bytes > limit - envelope) {
    return Status::TooLarge("event: " + detail::IntText(static_cast<int64_t>(encoded_bytes)) +
                            " encoded bytes cannot fit a batch of at most " +
                            detail::IntText(static_cast<int64_t>(limit)) + " bytes");
  }
  return Status::Ok();
}

Status Tracker::CheckNotSeen(const EventKey& event, int64_t now_ms) {
#ifdef TALLY_BROWSER_CORE
  // No memory of delivered ids in the browser module (see TrackerOptions); Batcher::CanPush
  // has already refused an id that is still queued.
  (void)event;
  (void)now_ms;
  return Status::Ok();
#else
  switch (dedup_.Check(event, std::string_view(), now_ms)) {
    case Deduper::Verdict::kNew:
      return Status::Ok();
    case Deduper::Verdict::kDuplicateId:
      return Status::Duplicate("event_id: " + std::string(event.event_id) + " was already tracked");
    case Deduper::Verdict::kDuplicateContent:
      return Status::Duplicate("event: same name, user and second as an event already tracked");
  }
  return Status::Internal("event: unknown dedup verdict");
#endif
}

Status Tracker::Restore(std::string_view snapshot, size_t* restored, size_t* dropped) {
  size_t restored_count = 0;
  size_t dropped_count = 0;
  size_t no_room = 0;
  const int64_t now_ms = clock_->NowMs();
  while (!snapshot.empty()) {
    const size_t end = std::min(snapshot.find('\n'), snapshot.size());
    const std::string_view line = snapshot.substr(0, end);
    snapshot.remove_prefix(std::min(end + 1, snapshot.size()));
    switch (RestoreLine(line, now_ms)) {
      case Restored::kRestored:
        ++restored_count;
        break;
      case Restored::kSkipped:
        break;
      case Restored::kNoRoom:
        ++no_room;
        [[fallthrough]];
      case Restored::kDropped:
        ++dropped_count;
        break;
    }
  }
  if (restored != nullptr) *restored = restored_count;
  if (dropped != nullptr) *dropped = dropped_count;
  if (no_room > 0) {
    return Status::ResourceExhausted("queue: full; " +
                                     detail::IntText(static_cast<int64_t>(no_room)) +
                                     " events could not be restored");
  }
  return Status::Ok();
}

Tracker::Restored Tracker::RestoreEvent(std::string_view line) {
  return RestoreLine(line, clock_->NowMs());
}

Tracker::Restored Tracker::RestoreLine(std::string_view line, int64_t now_ms) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
    line.remove_suffix(1);
  }
  if (line.empty()) return Restored::kSkipped;
  std::string bytes;
  // Only a complete event comes back: restoring must not mint a new id or time for it.
  if (!writer_.Write(line, &bytes).ok() || writer_.event_id().empty() ||
      writer_.created_at_ms() == 0) {
    return Restored::kDropped;
  }
  const EventKey key = KeyOf(writer_);
  // Already queued: restoring twice is a no-op.
  if (batcher_.Contains(key.event_id)) return Restored::kSkipped;
  if (!CheckFitsBatch(bytes.size()).ok()) return Restored::kDropped;
  const Status room = batcher_.CanPush(key.event_id, bytes.size());
  if (room.code() == Code::kResourceExhausted) return Restored::kNoRoom;
  if (!room.ok()) return Restored::kDropped;
  // Tracked (and delivered) earlier in this tracker's life: not to be sent again.
  if (!CheckNotSeen(key, now_ms).ok()) return Restored::kSkipped;
  // The event has waited since it was tracked: a restored queue is due at once once its
  // oldest event is older than max_age_ms.
  const int64_t queued_since = std::min(key.created_at_ms, now_ms);
  batcher_.Push(std::string(key.event_id), std::move(bytes), queued_since);
  return Restored::kRestored;
}

std::string Tracker::Snapshot() const {
  std::string out;
  out.reserve(batcher_.bytes() + batcher_.size());
  for (const Batcher::Item& item : batcher_) {
    out += item.encoded;
    out += '\n';
  }
  return out;
}

bool Tracker::BatchDue() const { return batcher_.Due(clock_->NowMs()); }

int64_t Tracker::MsUntilDue() const { return batcher_.MsUntilDue(clock_->NowMs()); }

size_t Tracker::NextBatch(std::string* body, size_t max_bytes) {
  body->clear();
  if (batcher_.empty()) return 0;
  const int64_t sent_at_ms = clock_->NowMs();
  const std::optional<int64_t> offset_ms = ClockOffsetMs();
  const size_t overhead = BatchOverheadBytes(options_.write_key, sent_at_ms, offset_ms);
  const size_t n = batcher_.NextBatchCount(overhead, max_bytes);
  if (n == 0) return 0;
  EncodeBatch(options_.write_key, sent_at_ms, offset_ms, batcher_.Head(n), body);
  return n;
}

void Tracker::Ack(size_t n) { batcher_.Pop(n); }

void Tracker::OnServerTime(int64_t sent_ms, int64_t received_ms, int64_t server_time_ms) {
  offset_.AddSample(sent_ms, received_ms, server_time_ms);
}

}  // namespace tally
