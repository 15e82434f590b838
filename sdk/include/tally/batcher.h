// The outgoing queue and its batching policy: flush on count, encoded bytes or age, and never a
// batch over the byte limit.
#ifndef TALLY_BATCHER_H_
#define TALLY_BATCHER_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "tally/options.h"
#include "tally/status.h"

namespace tally {

class Batcher {
 public:
  Batcher(const BatchOptions& batch, const QueueOptions& queue);

  /// Queues one encoded event (the output of EncodeEvent) tracked at `now_ms`.
  /// kResourceExhausted when the queue's count or byte bound would be passed (the event is not
  /// queued); kTooLarge when the event could never fit a batch on its own.
  Status Push(std::string event_id, std::string encoded, int64_t now_ms);

  /// A batch is due: max_events are queued, or their bytes reach max_bytes, or the oldest has
  /// waited max_age_ms.
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

  bool Contains(std::string_view event_id) const;
  size_t size() const { return items_.size(); }
  size_t bytes() const { return bytes_; }
  bool empty() const { return items_.empty(); }

  struct Item {
    std::string event_id;
    std::string encoded;
    int64_t enqueued_ms;
  };
  const std::deque<Item>& items() const { return items_; }

 private:
  BatchOptions batch_;
  QueueOptions queue_;
  std::deque<Item> items_;
  size_t bytes_ = 0;
};

}  // namespace tally

#endif  // TALLY_BATCHER_H_
