// Every tunable of the core, with its default and the reason for it, in one place
// (STYLE.md habit 5). The collector and the browser SDK read their limits from here.
#ifndef TALLY_OPTIONS_H_
#define TALLY_OPTIONS_H_

#include <cstddef>
#include <cstdint>

namespace tally {

/// What to do with a string value longer than its limit.
enum class OverlongString : uint8_t {
  kReject = 0,    ///< the event is refused with an error naming the field
  kTruncate = 1,  ///< the value is cut to the limit (on a code-point boundary)
};

struct ValidationOptions {
  /// Event names: non-empty, at most this many code points.
  size_t max_name_chars = 255;
  /// String values inside properties (Intercom's limit).
  size_t max_string_chars = 255;
  OverlongString overlong_strings = OverlongString::kReject;
  /// user_id, anonymous_id, session_id.
  size_t max_id_chars = 255;
  /// String values inside context (page URLs, referrers and user agents run long).
  size_t max_context_string_chars = 2048;
  /// Top-level keys in properties. `IntercomStrict()` lowers it to Intercom's five.
  size_t max_properties = 50;
  /// Keys in any one nested object or elements of any one array inside properties/context.
  size_t max_members = 100;
  /// Nesting of objects and arrays inside properties or context (properties itself is depth 1).
  size_t max_depth = 5;
  /// The encoded event (the JSON the batch carries) may not exceed this.
  size_t max_event_bytes = 32 * 1024;
  /// created_at bounds: nothing before 2000-01-01, nothing past year 9999.
  int64_t min_created_at_ms = 946684800000;
  int64_t max_created_at_ms = 253402300799999;

  /// Intercom's stricter metadata rules: five properties, no nesting beyond money/rich links.
  static ValidationOptions IntercomStrict() {
    ValidationOptions o;
    o.max_properties = 5;
    o.max_depth = 2;
    return o;
  }
};

struct DedupOptions {
  /// How long an event id (or fingerprint) is remembered. Lesson 2: at least 48 hours.
  int64_t window_ms = 48LL * 3600 * 1000;
  /// Memory bound: beyond this many remembered keys the oldest are forgotten first.
  size_t max_entries = 100000;
  /// Also catch the same action sent twice with different ids: name + created_at to the
  /// second + (user_id or anonymous_id) + workspace, as Intercom does.
  bool fingerprint = false;
};

struct BatchOptions {
  /// A batch is due when it holds this many events ...
  size_t max_events = 100;
  /// ... or its encoded body would reach this many bytes (a batch never exceeds it) ...
  size_t max_bytes = 60 * 1024;
  /// ... or its oldest event has waited this long.
  int64_t max_age_ms = 2000;
};

struct QueueOptions {
  /// Events waiting to be delivered, at most. Beyond it, track() answers kResourceExhausted.
  size_t max_events = 1000;
  /// Encoded bytes waiting to be delivered, at most.
  size_t max_bytes = 1024 * 1024;
};

struct ClockOffsetOptions {
  /// Round trips remembered; the estimate comes from the fastest of them.
  size_t window = 8;
  /// Samples whose round trip took longer than this say little about the offset.
  int64_t max_round_trip_ms = 30000;
};

}  // namespace tally

#endif  // TALLY_OPTIONS_H_
