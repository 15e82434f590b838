// Deduplication of events inside a time window, in bounded memory.
#ifndef TALLY_DEDUP_H_
#define TALLY_DEDUP_H_

#include <climits>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>

#include "tally/event.h"
#include "tally/options.h"

namespace tally {

/// The content fingerprint of lesson 2 (Intercom's rule): a 32-character lower-case hex digest
/// (128 bits) of name + created_at truncated to the second + (user_id, else anonymous_id) +
/// workspace. Two events with equal fingerprints are the same action, whatever their ids.
std::string ContentFingerprint(const Event& event, std::string_view workspace);

/// The fields the Deduper reads of an event (an Event, or an EventWriter's result).
struct EventKey {
  std::string_view event_id, name, user_id, anonymous_id;
  int64_t created_at_ms;
};
std::string ContentFingerprint(const EventKey& event, std::string_view workspace);

/// Remembers event ids (and, with DedupOptions::fingerprint, content fingerprints) for
/// window_ms, forgetting the oldest first once max_entries are held. A key first seen at t is
/// a duplicate for checks at now < t + window_ms and forgotten from t + window_ms on. Times
/// that step backwards are treated as the latest time seen, so the window never stretches.
class Deduper {
 public:
  explicit Deduper(const DedupOptions& options);

  enum class Verdict : uint8_t { kNew = 0, kDuplicateId = 1, kDuplicateContent = 2 };

  /// Records the event as seen at `now_ms` unless it is a duplicate of one seen within the
  /// window; says which (the id is checked first). A duplicate does not refresh the window and
  /// records nothing. An empty event_id is not remembered.
  Verdict Check(const Event& event, std::string_view workspace, int64_t now_ms);
  Verdict Check(const EventKey& event, std::string_view workspace, int64_t now_ms);

  /// Keys currently remembered (ids plus fingerprints).
  size_t size() const { return seen_.size(); }

 private:
  void Expire(int64_t now_ms);
  void Remember(std::string key, int64_t now_ms);

  DedupOptions options_;
  int64_t latest_ms_ = INT64_MIN;
  std::unordered_map<std::string, int64_t> seen_;  // key -> first seen ms
  // Insertion order = time order. Points at seen_'s keys (node-based, so they never move)
  // to hold each key once.
  std::deque<std::pair<int64_t, const std::string*>> by_time_;
};

}  // namespace tally

#endif  // TALLY_DEDUP_H_
