// The C ABI over tally::Tracker (contract in tally_abi.h). This is the only Emscripten-aware
// C++ in Tally: it reads the time from JavaScript and turns Status values into integer codes.
//
// Every entry point is defensive: the JavaScript side is a different language with different
// mistakes (a freed handle is 0, a forgotten length is 0, a number may be NaN), so a null handle,
// a null pointer with a non-zero length or a non-finite time yields an error code, never a trap.
#include "tally_abi.h"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <optional>
#include <string>
#include <string_view>

#ifdef __EMSCRIPTEN__
#include <emscripten/html5.h>  // emscripten_date_now: Date.now() without a custom JS library
#endif

#include "tally/clock.h"
#include "tally/json.h"
#include "tally/options.h"
#include "tally/status.h"
#include "tally/tracker.h"

namespace {

constexpr int32_t Fail(tally::Code code) { return -static_cast<int32_t>(code); }

// Doubles beyond ±2^63 (and NaN, ±Infinity) have no int64 ms value; callers refuse them.
bool ToMs(double value, int64_t* ms) {
  if (!std::isfinite(value) || std::fabs(value) >= 9.2e18) return false;
  *ms = static_cast<int64_t>(std::floor(value));
  return true;
}

// The page's wall clock, read from Date.now() on every call (it may be stepped by the user or
// NTP; the UUIDv7 generator copes). Tests pin it with tally_set_now_for_test.
class JsClock final : public tally::Clock {
 public:
  int64_t NowMs() const override {
    if (fixed_ms_) return *fixed_ms_;
    int64_t ms = 0;
#ifdef __EMSCRIPTEN__
    ToMs(emscripten_date_now(), &ms);
#endif
    return ms;
  }
  void Fix(std::optional<int64_t> ms) { fixed_ms_ = ms; }

 private:
  std::optional<int64_t> fixed_ms_;
};

uint64_t LoadLe64(const uint8_t* bytes) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | bytes[i];
  return v;
}

// --- options JSON -----------------------------------------------------------------------------
// Each field is checked on its own and named in the error; an unknown field is an error too, so
// a typo in the SDK's defaults fails loudly instead of silently keeping a default.

using tally::Json;
using tally::Status;

Status WrongType(std::string_view path, const char* what) {
  std::string msg(path);
  msg += ": must be ";
  msg += what;
  return Status::InvalidArgument(std::move(msg));
}

Status UnknownField(std::string_view prefix, const std::string& key) {
  std::string msg(prefix);
  msg += key;
  msg += ": unknown option";
  return Status::InvalidArgument(std::move(msg));
}

// A whole number in [min, 2^53]; path is the field's full name, e.g. "batch.max_events".
Status ReadInteger(const Json& value, std::string_view path, double min, double* out) {
  if (!value.is_number() || value.as_number() != std::floor(value.as_number()) ||
      value.as_number() < min || value.as_number() > 9007199254740992.0) {
    return WrongType(path, min > 0 ? "a positive integer" : "a non-negative integer");
  }
  *out = value.as_number();
  return Status::Ok();
}

template <typename T>
Status ReadCount(const Json& value, std::string_view path, double min, T* out) {
  double d = 0;
  Status s = ReadInteger(value, path, min, &d);
  if (s.ok()) *out = static_cast<T>(d);
  return s;
}

Status ReadBool(const Json& value, std::string_view path, bool* out) {
  if (!value.is_bool()) return WrongType(path, "true or false");
  *out = value.as_bool();
  return Status::Ok();
}

// Calls `field(key, value, path)` for each member of the object `value` at `path`.
template <typename F>
Status ForEachMember(const Json& value, std::string_view path, F field) {
  if (!value.is_object()) return WrongType(path, "an object");
  for (const Json::Member& m : value.as_object()) {
    std::string full(path);
    full += '.';
    full += m.first;
    Status s = field(m.first, m.second, full);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Status ParseBatch(const Json& v, tally::BatchOptions* o) {
  return ForEachMember(v, "batch", [o](const std::string& k, const Json& f, const std::string& p) {
    if (k == "max_events") return ReadCount(f, p, 1, &o->max_events);
    if (k == "max_bytes") return ReadCount(f, p, 1, &o->max_bytes);
    if (k == "max_age_ms") return ReadCount(f, p, 0, &o->max_age_ms);
    return UnknownField("batch.", k);
  });
}

Status ParseQueue(const Json& v, tally::QueueOptions* o) {
  return ForEachMember(v, "queue", [o](const std::string& k, const Json& f, const std::string& p) {
    if (k == "max_events") return ReadCount(f, p, 1, &o->max_events);
    if (k == "max_bytes") return ReadCount(f, p, 1, &o->max_bytes);
    return UnknownField("queue.", k);
  });
}

Status ParseDedup(const Json& v, tally::DedupOptions* o) {
  return ForEachMember(v, "dedup", [o](const std::string& k, const Json& f, const std::string& p) {
    if (k == "window_ms") return ReadCount(f, p, 0, &o->window_ms);
    if (k == "max_entries") return ReadCount(f, p, 1, &o->max_entries);
    if (k == "fingerprint") return ReadBool(f, p, &o->fingerprint);
    return UnknownField("dedup.", k);
  });
}

Status ParseClockOffset(const Json& v, tally::ClockOffsetOptions* o) {
  return ForEachMember(v, "clock_offset",
                       [o](const std::string& k, const Json& f, const std::string& p) {
                         if (k == "window") return ReadCount(f, p, 1, &o->window);
                         if (k == "max_round_trip_ms") return ReadCount(f, p, 0, &o->max_round_trip_ms);
                         return UnknownField("clock_offset.", k);
                       });
}

Status ParseValidation(const Json& v, tally::ValidationOptions* o) {
  if (!v.is_object()) return WrongType("validation", "an object");
  // intercom_strict sets a baseline that the other fields may then refine, whatever their order.
  if (const Json* strict = v.Find("intercom_strict")) {
    bool on = false;
    Status s = ReadBool(*strict, "validation.intercom_strict", &on);
    if (!s.ok()) return s;
    if (on) *o = tally::ValidationOptions::IntercomStrict();
  }
  return ForEachMember(v, "validation", [o](const std::string& k, const Json& f,
                                            const std::string& p) -> Status {
    if (k == "intercom_strict") return Status::Ok();
    if (k == "max_name_chars") return ReadCount(f, p, 1, &o->max_name_chars);
    if (k == "max_string_chars") return ReadCount(f, p, 1, &o->max_string_chars);
    if (k == "max_id_chars") return ReadCount(f, p, 1, &o->max_id_chars);
    if (k == "max_context_string_chars") return ReadCount(f, p, 1, &o->max_context_string_chars);
    if (k == "max_properties") return ReadCount(f, p, 0, &o->max_properties);
    if (k == "max_members") return ReadCount(f, p, 0, &o->max_members);
    if (k == "max_depth") return ReadCount(f, p, 1, &o->max_depth);
    if (k == "max_event_bytes") return ReadCount(f, p, 1, &o->max_event_bytes);
    if (k == "overlong_strings") {
      if (f.is_string() && f.as_string() == "reject") {
        o->overlong_strings = tally::OverlongString::kReject;
      } else if (f.is_string() && f.as_string() == "truncate") {
        o->overlong_strings = tally::OverlongString::kTruncate;
      } else {
        return WrongType(p, "\"reject\" or \"truncate\"");
      }
      return Status::Ok();
    }
    return UnknownField("validation.", k);
  });
}

Status ParseOptions(std::string_view text, tally::TrackerOptions* options) {
  if (text.empty()) return Status::Ok();  // every field is optional
  tally::Result<Json> parsed = tally::ParseJson(text);
  if (!parsed.ok()) {
    return parsed.status().code() == tally::Code::kTooLarge
               ? Status::TooLarge("options: " + parsed.status().message())
               : Status::ParseError("options: " + parsed.status().message());
  }
  const Json& root = parsed.value();
  if (!root.is_object()) return WrongType("options", "a JSON object");
  for (const Json::Member& m : root.as_object()) {
    const std::string& k = m.first;
    const Json& f = m.second;
    Status s;
    if (k == "write_key") {
      if (!f.is_string()) return WrongType("write_key", "a string");
      options->write_key = f.as_string();
    } else if (k == "batch") {
      s = ParseBatch(f, &options->batch);
    } else if (k == "queue") {
      s = ParseQueue(f, &options->queue);
    } else if (k == "validation") {
      s = ParseValidation(f, &options->validation);
    } else if (k == "dedup") {
      s = ParseDedup(f, &options->dedup);
    } else if (k == "clock_offset") {
      s = ParseClockOffset(f, &options->clock_offset);
    } else {
      return UnknownField("", k);
    }
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

std::string& CreateError() {
  static std::string* error = new std::string();  // never destroyed: no exit-time destructor
  return *error;
}

}  // namespace

struct TallyTracker {
  TallyTracker(tally::TrackerOptions options, const uint8_t* seed)
      : random(LoadLe64(seed), LoadLe64(seed + 8), LoadLe64(seed + 16), LoadLe64(seed + 24)),
        tracker(std::move(options), &clock, &random) {}

  // Declared in this order so the tracker is destroyed before what it points to.
  JsClock clock;
  tally::SeededRandom random;
  tally::Tracker tracker;
  std::string out;      // the last call's text result or error message
  std::string last_id;  // the last tracked event's id

  int32_t Report(const Status& status) {
    out = status.message();
    return Fail(status.code());
  }
};

extern "C" {

void* tally_alloc(size_t bytes) { return std::malloc(bytes == 0 ? 1 : bytes); }
void tally_free(void* ptr) { std::free(ptr); }

TallyTracker* tally_tracker_new(const char* options_json, size_t options_len, const uint8_t* seed) {
  CreateError().clear();
  if (options_json == nullptr && options_len != 0) {
    CreateError() = "options: null pointer with non-zero length";
    return nullptr;
  }
  if (seed == nullptr) {
    CreateError() = "seed: required (32 random bytes)";
    return nullptr;
  }
  tally::TrackerOptions options;
  Status s = ParseOptions(std::string_view(options_json, options_json ? options_len : 0), &options);
  if (!s.ok()) {
    CreateError() = s.message();
    return nullptr;
  }
  return new (std::nothrow) TallyTracker(std::move(options), seed);
}

void tally_tracker_free(TallyTracker* tracker) { delete tracker; }

const char* tally_last_create_error(void) { return CreateError().c_str(); }

int32_t tally_track(TallyTracker* tracker, const char* event_json, size_t len) {
  if (tracker == nullptr) return Fail(tally::Code::kInvalidArgument);
  if (event_json == nullptr && len != 0) {
    return tracker->Report(Status::InvalidArgument("event: null pointer with non-zero length"));
  }
  std::string encoded;
  std::string id;
  Status s = tracker->tracker.Track(std::string_view(event_json, event_json ? len : 0), &encoded, &id);
  if (!s.ok()) return tracker->Report(s);
  tracker->out = std::move(encoded);
  tracker->last_id = std::move(id);
  return 0;
}

const char* tally_last_id_ptr(TallyTracker* tracker) {
  return tracker == nullptr ? nullptr : tracker->last_id.c_str();
}

int32_t tally_restore(TallyTracker* tracker, const char* snapshot, size_t len) {
  if (tracker == nullptr) return Fail(tally::Code::kInvalidArgument);
  if (snapshot == nullptr && len != 0) {
    return tracker->Report(Status::InvalidArgument("snapshot: null pointer with non-zero length"));
  }
  size_t restored = 0;
  size_t dropped = 0;
  Status s = tracker->tracker.Restore(std::string_view(snapshot, snapshot ? len : 0), &restored,
                                      &dropped);
  if (!s.ok()) return tracker->Report(s);
  tracker->out = "{\"restored\":" + std::to_string(restored) +
                 ",\"dropped\":" + std::to_string(dropped) + "}";
  return static_cast<int32_t>(restored);
}

int32_t tally_snapshot(TallyTracker* tracker) {
  if (tracker == nullptr) return Fail(tally::Code::kInvalidArgument);
  tracker->out = tracker->tracker.Snapshot();
  return static_cast<int32_t>(tracker->tracker.queued_events());
}

int32_t tally_batch_due(TallyTracker* tracker) {
  if (tracker == nullptr) return Fail(tally::Code::kInvalidArgument);
  return tracker->tracker.BatchDue() ? 1 : 0;
}

double tally_ms_until_due(TallyTracker* tracker) {
  if (tracker == nullptr) return NAN;
  return static_cast<double>(tracker->tracker.MsUntilDue());
}

int32_t tally_next_batch(TallyTracker* tracker, size_t max_bytes) {
  if (tracker == nullptr) return Fail(tally::Code::kInvalidArgument);
  tracker->out.clear();
  return static_cast<int32_t>(tracker->tracker.NextBatch(&tracker->out, max_bytes));
}

void tally_ack(TallyTracker* tracker, size_t n) {
  if (tracker == nullptr) return;
  size_t queued = tracker->tracker.queued_events();
  tracker->tracker.Ack(n < queued ? n : queued);
}

void tally_on_server_time(TallyTracker* tracker, double sent_ms, double received_ms,
                          double server_time_ms) {
  int64_t sent = 0;
  int64_t received = 0;
  int64_t server = 0;
  if (tracker == nullptr || !ToMs(sent_ms, &sent) || !ToMs(received_ms, &received) ||
      !ToMs(server_time_ms, &server)) {
    return;
  }
  tracker->tracker.OnServerTime(sent, received, server);
}

double tally_clock_offset(TallyTracker* tracker) {
  if (tracker == nullptr) return NAN;
  std::optional<int64_t> offset = tracker->tracker.ClockOffsetMs();
  return offset ? static_cast<double>(*offset) : NAN;
}

uint32_t tally_queued_events(TallyTracker* tracker) {
  return tracker == nullptr ? 0 : static_cast<uint32_t>(tracker->tracker.queued_events());
}

double tally_queued_bytes(TallyTracker* tracker) {
  return tracker == nullptr ? 0 : static_cast<double>(tracker->tracker.queued_bytes());
}

const char* tally_out_ptr(TallyTracker* tracker) {
  return tracker == nullptr ? nullptr : tracker->out.data();
}

size_t tally_out_len(TallyTracker* tracker) {
  return tracker == nullptr ? 0 : tracker->out.size();
}

void tally_set_now_for_test(TallyTracker* tracker, double now_ms) {
  if (tracker == nullptr) return;
  int64_t ms = 0;
  tracker->clock.Fix(ToMs(now_ms, &ms) ? std::optional<int64_t>(ms) : std::nullopt);
}

}  // extern "C"
