// Deduplication of events inside a time window, in bounded memory.
#ifndef TALLY_DEDUP_H_
#define TALLY_DEDUP_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>

#include "tally/event.h"
#include "tally/options.h"

namespace tally {

/// The content fingerprint of lesson 2 (Intercom's rule): a hex digest of
/// name + created_at truncated to the second + (user_id, else anonymous_id) + workspace.
/// Two events with equal fingerprints are the same action, whatever their ids.
std::string ContentFingerprint(const Event& event, std::string_view workspace);

/// Remembers event ids (and, with DedupOptions::fingerprint, content fingerprints) for
/// window_ms, forgetting the oldest first once max_entries are held.
class Deduper {
 public:
  explicit Deduper(const DedupOptions& options);

  enum class Verdict : uint8_t { kNew = 0, kDuplicateId = 1, kDuplicateContent = 2 };

  /// Records the event as seen at `now_ms` unless it is a duplicate of one seen within the
  /// window; says which. A duplicate does not refresh the window.
  Verdict Check(const Event& event, std::string_view workspace, int64_t now_ms);

  /// Keys currently remembered (ids plus fingerprints).
  size_t size() const { return seen_.size(); }

 private:
  void Expire(int64_t now_ms);
  bool Remember(std::string key, int64_t now_ms);

  DedupOptions options_;
  std::unordered_map<std::string, int64_t> seen_;          // key -> first seen ms
  std::deque<std::pair<int64_t, std::string>> by_time_;    // insertion order = time order
};

}  // namespace tally

#endif  // TALLY_DEDUP_H_
