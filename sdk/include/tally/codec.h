// Encoder and decoder of the pinned batch format. The grammar is documented once, at the top of
// sdk/src/codec.cc; the browser SDK encodes with this code and the collector decodes with it.
#ifndef TALLY_CODEC_H_
#define TALLY_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tally/event.h"
#include "tally/options.h"
#include "tally/status.h"
#include "tally/validate.h"

namespace tally {

/// Appends the JSON object of one event to `out`, fields in the pinned order
/// (event_id, type, name, user_id, anonymous_id, session_id, created_at, properties, context);
/// empty ids are omitted.
void EncodeEvent(const Event& event, std::string* out);
std::string EncodeEvent(const Event& event);

/// Reads one event object (the form EncodeEvent writes, as also sent by other clients). Checks
/// shape and types only (`created_at: must be an integer number of ms since epoch`); call
/// ValidateEvent for the rules. Unknown top-level fields are an error naming the field. Absent
/// (or null) optional members keep the Event defaults: type track, empty ids, created_at 0,
/// empty properties and context; so a caller may fill event_id and created_at afterwards.
Result<Event> DecodeEvent(const Json& object);
Result<Event> DecodeEvent(std::string_view json_text);

/// Assembles a batch body from already-encoded events:
///   {"write_key":...,"sent_at":...,["clock_offset_ms":...,]"events":[e1,e2,...]}
/// `encoded_events` must each be the output of EncodeEvent.
void EncodeBatch(std::string_view write_key, int64_t sent_at_ms,
                 std::optional<int64_t> clock_offset_ms,
                 const std::vector<std::string_view>& encoded_events, std::string* out);
/// The bytes EncodeBatch adds around the events for this key and times (for byte budgets):
/// the total size is BatchOverheadBytes(...) + sum(event sizes) + (n - 1) commas.
size_t BatchOverheadBytes(std::string_view write_key, int64_t sent_at_ms,
                          std::optional<int64_t> clock_offset_ms);

/// Bounds on a whole request body, checked by DecodeBatch.
struct BatchLimits {
  size_t max_events = 1000;      ///< events in one batch
  JsonParseOptions json;         ///< nesting bound for the parser
  ValidationOptions validation;  ///< applied to every event
  /// false: DecodedBatch::events keep no documents (their properties and context stay empty
  /// objects; event_docs holds them as text) and the body is read in one streaming pass by the
  /// EventWriter, with no document built for an accepted event (the collector without privacy
  /// rules; 15% fewer instructions, docs/BENCHMARKS.md). Every status, message, rejection and
  /// accepted field is the same either way (codec_test.cc, fuzz/fuzz_decode_batch.cc).
  bool keep_documents = true;
};

/// One event the decoder refused, by its index in the request's `events` array.
struct RejectedEvent {
  size_t index = 0;
  std::string event_id;  ///< as sent, when it was a string; else empty
  std::string error;     ///< names the field, e.g. `events[3].properties.price: must be ...`
};

struct DecodedBatch {
  std::string write_key;   ///< empty when the body carries none
  int64_t sent_at_ms = 0;  ///< 0 when absent
  std::optional<int64_t> clock_offset_ms;
  std::vector<Event> events;  ///< valid events, in request order
  /// events[i]'s properties and context as WriteJson text, written by the validation (see
  /// ValidateEvent with EventDocsJson); stale once events[i]'s documents are changed.
  std::vector<EventDocsJson> event_docs;
  std::vector<size_t> event_indexes;  ///< events[i] was at this index of the request
  std::vector<RejectedEvent> rejected;
};

/// Decodes and validates a request body. A body that is not a JSON object with an `events`
/// array (or whose JSON is malformed, too deep or not UTF-8) fails as a whole with kParseError
/// or kTooLarge and a message for the 400 answer (`body: at byte 220: NaN is not JSON ...`,
/// `events: must be an array, got an object`). Otherwise each event is decoded and validated
/// on its own: bad ones land in `rejected` and never sink the batch (DESIGN.md lesson 7). A key
/// repeated inside events[i] rejects only that event (`events[i].name: duplicate key`); one
/// repeated anywhere else fails the body. Each event must carry its own created_at. A missing
/// write_key is not an error here (it may come in a header): write_key is then empty.
Status DecodeBatch(std::string_view body, const BatchLimits& limits, DecodedBatch* out);

}  // namespace tally

#endif  // TALLY_CODEC_H_
