#include "tally/clock_offset.h"

namespace tally {
namespace {

// Far beyond any real time (2^50 ms is some 35,000 years), and small enough that the
// arithmetic below cannot overflow whatever a caller passes.
constexpr int64_t kMaxAbsTimeMs = int64_t{1} << 50;

bool InRange(int64_t t) { return t >= -kMaxAbsTimeMs && t <= kMaxAbsTimeMs; }

}  // namespace

ClockOffsetEstimator::ClockOffsetEstimator(const ClockOffsetOptions& options) : options_(options) {
  if (options_.window == 0) options_.window = 1;
  samples_.reserve(options_.window);
}

bool ClockOffsetEstimator::AddSample(int64_t sent_ms, int64_t received_ms, int64_t server_time_ms) {
  if (!InRange(sent_ms) || !InRange(received_ms) || !InRange(server_time_ms)) return false;
  const int64_t round_trip = received_ms - sent_ms;
  if (round_trip < 0 || round_trip > options_.max_round_trip_ms) return false;
  // Assume the request and the answer took equally long: the collector stamped server_time at
  // the device's (sent + received) / 2. Twice the offset is exact in integers; halve it last.
  const int64_t twice = 2 * server_time_ms - sent_ms - received_ms;
  const int64_t offset = twice >= 0 ? (twice + 1) / 2 : -((-twice + 1) / 2);
  const Sample sample{offset, round_trip};
  if (samples_.size() < options_.window) {
    samples_.push_back(sample);
  } else {
    samples_[next_] = sample;
  }
  next_ = (next_ + 1) % options_.window;
  return true;
}

std::optional<int64_t> ClockOffsetEstimator::OffsetMs() const {
  if (samples_.empty()) return std::nullopt;
  // Oldest to newest, so `<=` lets the newest of equally fast samples win (clocks drift).
  const size_t n = samples_.size();
  const size_t oldest = n < options_.window ? 0 : next_;
  const Sample* best = nullptr;
  for (size_t k = 0; k < n; ++k) {
    const Sample& s = samples_[(oldest + k) % n];
    if (best == nullptr || s.round_trip_ms <= best->round_trip_ms) best = &s;
  }
  return best->offset_ms;
}

}  // namespace tally
