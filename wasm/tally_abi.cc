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
#include <cstring>
#include <new>
#include <optional>
#include <string>
#include <string_view>

#ifdef __EMSCRIPTEN__
#include <emscripten/html5.h>  // emscripten_date_now: Date.now() without a custom JS library
#endif

#include "json_internal.h"  // sdk/src: IntText
#include "json_reader.h"    // sdk/src: the core's pull reader (no document in the module)
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

// Whether [ptr, ptr + len) lies inside the module's memory: a wrong length from JavaScript then
// gets an error code instead of a trap. A null pointer is fine only with a zero length.
bool InMemory(const void* ptr, size_t len) {
  const uintptr_t start = reinterpret_cast<uintptr_t>(ptr);
  if (start == 0) return len == 0;
#ifdef __wasm__
  const uintptr_t end = static_cast<uintptr_t>(__builtin_wasm_memory_size(0)) * 65536;
  return start <= end && len <= end - start;
#else
  return len <= UINTPTR_MAX - start;
#endif
}

uint64_t LoadLe64(const uint8_t* bytes) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | bytes[i];
  return v;
}

// --- options JSON -----------------------------------------------------------------------------
// Each field is checked on its own and named in the error; an unknown field is an error too, so
// a typo in the SDK's defaults fails loudly instead of silently keeping a default. Table-driven
// because every byte of this file is downloaded by every page: one loop over a table costs a
// third of what a parser per section did (docs/BENCHMARKS.md).

using tally::Status;
using Token = tally::detail::JsonReader::Token;

enum class Kind : uint8_t {
  kPositive,     // a whole number >= 1 (counts, byte sizes)
  kNonNegative,  // a whole number >= 0 (times)
  kBool,
  kOverlong,  // "reject" | "truncate"
};

struct Field {
  const char* path;
  Kind kind;
};

// The order is the index into the values array that ApplyOptions reads.
constexpr Field kFields[] = {
    {"batch.max_events", Kind::kPositive},                     // 0
    {"batch.max_bytes", Kind::kPositive},                      // 1
    {"batch.max_age_ms", Kind::kNonNegative},                  // 2
    {"queue.max_events", Kind::kPositive},                     // 3
    {"queue.max_bytes", Kind::kPositive},                      // 4
    {"validation.intercom_strict", Kind::kBool},               // 5
    {"validation.max_name_chars", Kind::kPositive},            // 6
    {"validation.max_string_chars", Kind::kPositive},          // 7
    {"validation.overlong_strings", Kind::kOverlong},          // 8
    {"validation.max_id_chars", Kind::kPositive},              // 9
    {"validation.max_context_string_chars", Kind::kPositive},  // 10
    {"validation.max_properties", Kind::kNonNegative},         // 11
    {"validation.max_members", Kind::kNonNegative},            // 12
    {"validation.max_depth", Kind::kPositive},                 // 13
    {"validation.max_event_bytes", Kind::kPositive},           // 14
    {"dedup.window_ms", Kind::kNonNegative},                   // 15
    {"dedup.max_entries", Kind::kPositive},                    // 16
    {"dedup.fingerprint", Kind::kBool},                        // 17
    {"clock_offset.window", Kind::kPositive},                  // 18
    {"clock_offset.max_round_trip_ms", Kind::kNonNegative},    // 19
};
constexpr size_t kFieldCount = sizeof kFields / sizeof kFields[0];

// Checks the value (the reader's current token t) against the field's kind and stores it as a
// number (bools and the enum as 0/1); else returns what is wrong.
const char* ReadField(Kind kind, Token t, tally::detail::JsonReader& r, double* out) {
  switch (kind) {
    case Kind::kBool:
      if (t != Token::kBool) return ": must be true or false";
      *out = r.bool_value() ? 1 : 0;
      return nullptr;
    case Kind::kOverlong:
      if (t == Token::kString && r.string() == "reject") {
        *out = static_cast<double>(tally::OverlongString::kReject);
      } else if (t == Token::kString && r.string() == "truncate") {
        *out = static_cast<double>(tally::OverlongString::kTruncate);
      } else {
        return ": must be \"reject\" or \"truncate\"";
      }
      return nullptr;
    case Kind::kPositive:
    case Kind::kNonNegative:
      break;
  }
  const bool positive = kind == Kind::kPositive;
  const double v = r.number();
  // 2^53: the largest whole number a JSON number carries exactly.
  if (t != Token::kNumber || v != std::floor(v) || v < (positive ? 1 : 0) ||
      v > 9007199254740992.0) {
    return positive ? ": must be a positive integer" : ": must be a non-negative integer";
  }
  *out = v;
  return nullptr;
}

template <typename T>
void Set(double v, T* field) {
  if (v == v) *field = static_cast<T>(v);  // NaN: not given, keep the default
}

void ApplyOptions(const double* v, tally::TrackerOptions* options) {
  Set(v[0], &options->batch.max_events);
  Set(v[1], &options->batch.max_bytes);
  Set(v[2], &options->batch.max_age_ms);
  Set(v[3], &options->queue.max_events);
  Set(v[4], &options->queue.max_bytes);
  tally::ValidationOptions& val = options->validation;
  // intercom_strict sets a baseline that the other fields refine, whatever their order.
  if (v[5] == 1) val = tally::ValidationOptions::IntercomStrict();
  Set(v[6], &val.max_name_chars);
  Set(v[7], &val.max_string_chars);
  Set(v[8], &val.overlong_strings);
  Set(v[9], &val.max_id_chars);
  Set(v[10], &val.max_context_string_chars);
  Set(v[11], &val.max_properties);
  Set(v[12], &val.max_members);
  Set(v[13], &val.max_depth);
  Set(v[14], &val.max_event_bytes);
  Set(v[15], &options->dedup.window_ms);
  Set(v[16], &options->dedup.max_entries);
  if (v[17] == v[17]) options->dedup.fingerprint = v[17] == 1;
  Set(v[18], &options->clock_offset.window);
  Set(v[19], &options->clock_offset.max_round_trip_ms);
}

// Streams the options text (the module links no JSON document) in one walk of every token: as
// with a parse-then-check, a JSON fault anywhere wins over a field's fault, and the first field
// fault wins over later ones. Keys one level in name a section (or write_key), two levels in a
// field of the section; whatever sits deeper is only read.
Status ParseOptions(std::string_view text, tally::TrackerOptions* options) {
  if (text.empty()) return Status::Ok();  // every field is optional
  tally::detail::JsonReader r(text, tally::JsonParseOptions().max_depth);
  double values[kFieldCount];
  for (double& v : values) v = NAN;
  std::string fault;    // the first field fault
  std::string section;  // the section whose fields are being read
  Token t = r.Next();
  if (t != Token::kBeginObject) fault = "options: must be a JSON object";
  for (; t != Token::kEnd && t != Token::kError; t = r.Next()) {
    const size_t depth = r.depth();
    if (t != Token::kKey || depth > 2 || !fault.empty()) continue;
    std::string path = depth == 1 ? r.string() : section + "." + r.string();
    t = r.Next();
    const char* why = nullptr;
    if (depth == 2) {
      size_t i = 0;
      while (i < kFieldCount && path != kFields[i].path) ++i;
      why = i == kFieldCount ? ": unknown option" : ReadField(kFields[i].kind, t, r, &values[i]);
    } else if (path == "write_key") {
      if (t == Token::kString) options->write_key = r.string();
      why = t == Token::kString ? nullptr : ": must be a string";
    } else {
      bool known = false;
      for (const Field& f : kFields) {
        known = known || (std::strncmp(f.path, path.c_str(), path.size()) == 0 &&
                          f.path[path.size()] == '.');
      }
      section = path;
      why = !known                     ? ": unknown option"
            : t != Token::kBeginObject ? ": must be an object"
                                       : nullptr;
    }
    if (why != nullptr) fault = path + why;
  }
  if (!r.status().ok()) {
    return r.status().code() == tally::Code::kTooLarge
               ? Status::TooLarge("options: " + r.status().message())
               : Status::ParseError("options: " + r.status().message());
  }
  if (!fault.empty()) return Status::InvalidArgument(std::move(fault));
  ApplyOptions(values, options);
  return Status::Ok();
}

// --- typed options (the lite module) ----------------------------------------------------------
// The lite module links no JSON reader, so tally_tracker_new_typed takes the numbers in an array,
// in this order, each checked as ReadField checks a JSON number.
constexpr const char* kTypedNames[] = {
    "batch.max_events",    "batch.max_bytes",
    "batch.max_age_ms",    "queue.max_events",
    "queue.max_bytes",     "validation.max_event_bytes",
    "clock_offset.window", "clock_offset.max_round_trip_ms",
};
constexpr size_t kTypedCount = sizeof kTypedNames / sizeof kTypedNames[0];
// Bit i set: option i may be 0 (a time); else it must be >= 1.
constexpr unsigned kTypedNonNegative = (1u << 2) | (1u << 7);

Status ApplyTyped(const double* v, size_t count, tally::TrackerOptions* options) {
  if (count > kTypedCount) {
    return Status::InvalidArgument(
        "options: at most " + tally::detail::IntText(static_cast<int64_t>(kTypedCount)) +
        " values, got " + tally::detail::IntText(static_cast<int64_t>(count)));
  }
  double values[kTypedCount];
  for (size_t i = 0; i < kTypedCount; ++i) {
    const double x = i < count ? v[i] : NAN;
    values[i] = x;
    if (x != x) continue;  // NaN: not given
    const bool positive = (kTypedNonNegative >> i & 1) == 0;
    if (x != std::floor(x) || x < (positive ? 1 : 0) || x > 9007199254740992.0) {
      return Status::InvalidArgument(
          std::string(kTypedNames[i]) +
          (positive ? ": must be a positive integer" : ": must be a non-negative integer"));
    }
  }
  Set(values[0], &options->batch.max_events);
  Set(values[1], &options->batch.max_bytes);
  Set(values[2], &options->batch.max_age_ms);
  Set(values[3], &options->queue.max_events);
  Set(values[4], &options->queue.max_bytes);
  Set(values[5], &options->validation.max_event_bytes);
  Set(values[6], &options->clock_offset.window);
  Set(values[7], &options->clock_offset.max_round_trip_ms);
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
  if (!InMemory(options_json, options_len)) {
    CreateError() = options_json == nullptr ? "options: null pointer with non-zero length"
                                            : "options: pointer + length outside memory";
    return nullptr;
  }
  if (seed == nullptr || !InMemory(seed, 32)) {
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

TallyTracker* tally_tracker_new_typed(const double* options, size_t count, const char* write_key,
                                      size_t key_len, const uint8_t* seed) {
  CreateError().clear();
  const char* fault = nullptr;
  if (count > 0xFFFFFF || !InMemory(options, count * sizeof(double))) {
    fault = "options: pointer + count outside memory";
  } else if (!InMemory(write_key, key_len)) {
    fault = "write_key: pointer + length outside memory";
  } else if (seed == nullptr || !InMemory(seed, 32)) {
    fault = "seed: required (32 random bytes)";
  }
  if (fault != nullptr) {
    CreateError() = fault;
    return nullptr;
  }
  tally::TrackerOptions o;
  Status s = ApplyTyped(options, count, &o);
  if (!s.ok()) {
    CreateError() = s.message();
    return nullptr;
  }
  if (key_len > 0) o.write_key.assign(write_key, key_len);
  return new (std::nothrow) TallyTracker(std::move(o), seed);
}

void tally_tracker_free(TallyTracker* tracker) { delete tracker; }

const char* tally_last_create_error(void) { return CreateError().c_str(); }

int32_t tally_track(TallyTracker* tracker, const char* event_json, size_t len) {
  if (tracker == nullptr) return Fail(tally::Code::kInvalidArgument);
  if (!InMemory(event_json, len)) {
    return tracker->Report(Status::InvalidArgument(event_json == nullptr
                                                       ? "event: null pointer with non-zero length"
                                                       : "event: pointer + length outside memory"));
  }
  std::string encoded;
  std::string id;
  Status s =
      tracker->tracker.Track(std::string_view(event_json, event_json ? len : 0), &encoded, &id);
  if (!s.ok()) return tracker->Report(s);
  tracker->out = std::move(encoded);
  tracker->last_id = std::move(id);
  return 0;
}

const char* tally_last_id_ptr(TallyTracker* tracker) {
  return tracker == nullptr ? nullptr : tracker->last_id.c_str();
}

int32_t tally_restore(TallyTracker* tracker, const char* line, size_t len) {
  if (tracker == nullptr) return Fail(tally::Code::kInvalidArgument);
  if (!InMemory(line, len)) {
    return tracker->Report(Status::InvalidArgument(line == nullptr
                                                       ? "line: null pointer with non-zero length"
                                                       : "line: pointer + length outside memory"));
  }
  switch (tracker->tracker.RestoreEvent(std::string_view(line, line ? len : 0))) {
    case tally::Tracker::Restored::kRestored:
      return 1;
    case tally::Tracker::Restored::kSkipped:
      return 0;
    case tally::Tracker::Restored::kNoRoom:
      return Fail(tally::Code::kResourceExhausted);
    case tally::Tracker::Restored::kDropped:
      break;
  }
  return Fail(tally::Code::kInvalidArgument);
}

int32_t tally_push(TallyTracker* tracker, const char* event_id, double created_at_ms,
                   const char* text, size_t len) {
  if (tracker == nullptr) return Fail(tally::Code::kInvalidArgument);
  if (event_id == nullptr || !InMemory(event_id, 36) || !InMemory(text, len)) {
    return tracker->Report(Status::InvalidArgument(event_id == nullptr || text == nullptr
                                                       ? "event: null pointer"
                                                       : "event: pointer + length outside memory"));
  }
  int64_t created = INT64_MAX;  // not a time: queued since now
  ToMs(created_at_ms, &created);
  return tracker->Report(tracker->tracker.PushEncoded(std::string_view(event_id, 36), created,
                                                      std::string_view(text, len)));
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

size_t tally_out_len(TallyTracker* tracker) { return tracker == nullptr ? 0 : tracker->out.size(); }

void tally_set_now_for_test(TallyTracker* tracker, double now_ms) {
  if (tracker == nullptr) return;
  int64_t ms = 0;
  tracker->clock.Fix(ToMs(now_ms, &ms) ? std::optional<int64_t>(ms) : std::nullopt);
}

}  // extern "C"
