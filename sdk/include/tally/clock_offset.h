// Estimates the collector's clock relative to the device's, NTP-style, so derived_at is not
// biased by transit time (DESIGN.md lesson 4).
#ifndef TALLY_CLOCK_OFFSET_H_
#define TALLY_CLOCK_OFFSET_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "tally/options.h"

namespace tally {

class ClockOffsetEstimator {
 public:
  explicit ClockOffsetEstimator(const ClockOffsetOptions& options = {});

  /// One round trip: the request left at device time `sent_ms`, the answer arrived at device
  /// time `received_ms` and carried the collector's `server_time_ms`. The sample's offset is
  /// server_time − (sent + received) / 2 (rounded half away from zero), its error bound half
  /// the round trip. Samples with a negative or over-long round trip, or times beyond ±2^50 ms,
  /// are ignored (returns false).
  bool AddSample(int64_t sent_ms, int64_t received_ms, int64_t server_time_ms);

  /// collector − device in ms, from the sample with the shortest round trip among the last
  /// `window` (the one least disturbed by queueing, as NTP's clock filter does; the newest on a
  /// tie), so one slow outlier cannot move it. Empty before the first usable sample.
  std::optional<int64_t> OffsetMs() const;

 private:
  struct Sample {
    int64_t offset_ms;
    int64_t round_trip_ms;
  };
  ClockOffsetOptions options_;
  std::vector<Sample> samples_;  // ring of the last `window`
  size_t next_ = 0;
};

}  // namespace tally

#endif  // TALLY_CLOCK_OFFSET_H_
