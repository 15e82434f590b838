// The outgoing queue and its batching policy: flush on count, encoded bytes or age, and never a
// batch over the byte limit.
#ifndef TALLY_BATCHER_H_
#define TALLY_BATCHER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tally/options.h"
#include "tally/status.h"

namespace tally {

class Batcher {
 public:
  Batcher(const BatchOptions& batch, const QueueOptions& queue);

  /// Queues one encoded event (the output of EncodeEvent) tracked at `now_ms`; the event's age
  /// counts from there. Fails, queueing nothing, as CanPush() says.
  Status Push(std::string event_id, std::string encoded, int64_t now_ms);
  /// Whether Push() would accept an event of this id and encoded size: kTooLarge when the
  /// event alone is over BatchOptions::max_bytes (it could never be sent), kDuplicate when the
  /// id is already queued, kResourceExhausted when the queue's count or byte bound would be
  /// passed. Lets a caller check before it commits to other state (the dedup memory).
  Status CanPush(std::string_view event_id, size_t encoded_bytes) const;

  /// A batch is due: max_events are queued, or their encoded bytes joined by commas reach
  /// max_bytes (a full batch's worth, before the envelope), or the oldest has waited max_age_ms
  /// (or the clock now reads earlier than when it was queued: it stepped back).
  bool Due(int64_t now_ms) const;
  /// Milliseconds until Due() turns true by age alone (0 if due, -1 if the queue is empty).
  int64_t MsUntilDue(int64_t now_ms) const;

  /// How many events from the head form the next batch: the longest prefix of at most
  /// max_events whose encoded batch, with `overhead_bytes` around the events, stays within
  /// `max_bytes` (0 means BatchOptions::max_bytes). At least 1 when the queue is not empty and
  /// the head fits on its own.
  size_t NextBatchCount(size_t overhead_bytes, size_t max_bytes = 0) const;
  /// The encoded events at the head, without removing them.
  std::vector<std::string_view> Head(size_t n) const;
  /// Removes the first n events (after delivery, or after a non-retryable refusal).
  void Pop(size_t n);

  /// A scan of the queued ids' 32-bit hashes (at most QueueOptions::max_events, 1000 by
  /// default, far fewer while batches are delivered); ids are compared only on a hash match. A
  /// hash set cost more code in the browser module than this scan costs time.
  bool Contains(std::string_view event_id) const;
  size_t size() const { return items_.size() - head_; }
  size_t bytes() const { return bytes_; }
  bool empty() const { return size() == 0; }

  struct Item {
    std::string event_id;
    std::string encoded;
    int64_t enqueued_ms;
    uint32_t id_hash;  // of event_id, for Contains
  };
  /// The queued events, oldest first.
  const Item* begin() const { return items_.data() + head_; }
  const Item* end() const { return items_.data() + items_.size(); }
  const Item& operator[](size_t i) const { return items_[head_ + i]; }

 private:
  BatchOptions batch_;
  QueueOptions queue_;
  // The queue is items_[head_..]: Pop advances head_ and compacts once the popped prefix is at
  // least half of the vector, so each item is moved O(1) times on average (no std::deque: its
  // code is large in the browser module).
  std::vector<Item> items_;
  size_t head_ = 0;
  size_t bytes_ = 0;
};

}  // namespace tally

#endif  // TALLY_BATCHER_H_
