/* The C ABI over the tracking core: the only surface the browser SDK (js/) sees.
 *
 * Conventions (STYLE.md habit 8):
 *  - one opaque handle per tracker;
 *  - strings cross as pointer + byte length, UTF-8, not NUL-terminated; the caller allocates
 *    input buffers with tally_alloc and frees them with tally_free;
 *  - every fallible call returns an int32: >= 0 on success (a count where one is meaningful),
 *    or the negated tally::Code on failure (-1 invalid argument, -2 parse error, -3 too large,
 *    -4 duplicate, -5 resource exhausted, ...);
 *  - a call's text result (or, on failure, its error message naming the field) is left in the
 *    tracker's output buffer, read with tally_out_ptr/tally_out_len, valid until the next call
 *    on the same tracker;
 *  - times are ms since epoch as doubles (exact below 2^53).
 * The exported-function lists are wasm/exports.txt (the full module, npm builds) and
 * wasm/exports-lite.txt (the script tag's lite module); keep them in step with this file.
 */
#ifndef TALLY_WASM_TALLY_ABI_H_
#define TALLY_WASM_TALLY_ABI_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct TallyTracker TallyTracker;

void* tally_alloc(size_t bytes);
void tally_free(void* ptr);

/* options_json: {"write_key": "...", "batch": {"max_events", "max_bytes", "max_age_ms"},
 *                "queue": {"max_events", "max_bytes"},
 *                "validation": {"max_string_chars", "overlong_strings": "reject"|"truncate",
 *                               "max_properties", "max_depth", "intercom_strict": bool,
 *                               "max_name_chars", "max_id_chars", "max_context_string_chars",
 *                               "max_members", "max_event_bytes"},
 *                "dedup": {"window_ms", "max_entries", "fingerprint": bool},
 *                "clock_offset": {"window", "max_round_trip_ms"}}
 * every field optional (defaults and meanings: sdk/include/tally/options.h); "dedup" is checked
 * but has no effect: the module's tracker is built without a Deduper (TALLY_BROWSER_CORE,
 * sdk/include/tally/tracker.h), so tally_track refuses a duplicate id only while it is queued,
 * and the collector drops re-sent ids. Numbers are whole,
 * counts and byte sizes >= 1, times >= 0; "intercom_strict" applies first, the other fields
 * refine it. An empty text (length 0) means all defaults. An unknown field is an error naming
 * it (`batch.max_evnts: unknown option`). seed: 32 bytes from a cryptographic source
 * (crypto.getRandomValues), read as four little-endian 64-bit words.
 * Returns NULL when the options do not parse or a field is wrong, or when seed is NULL;
 * tally_last_create_error() then says why. */
TallyTracker* tally_tracker_new(const char* options_json, size_t options_len, const uint8_t* seed);
/* The lite module's constructor (tally-core-lite, the script tag's core: wasm/exports-lite.txt,
 * which links no JSON reader and no event path). options[0, count) are, in this order:
 *   0 batch.max_events, 1 batch.max_bytes, 2 batch.max_age_ms, 3 queue.max_events,
 *   4 queue.max_bytes, 5 validation.max_event_bytes, 6 clock_offset.window,
 *   7 clock_offset.max_round_trip_ms
 * NaN, or an index at or past count, keeps the default (sdk/include/tally/options.h); options
 * may be NULL when count is 0. Each given value must be whole and at most 2^53, >= 1 (>= 0 for
 * the two times); a wrong one is named by tally_last_create_error
 * (`batch.max_events: must be a positive integer`), as is a count over 8. write_key is UTF-8,
 * key_len bytes. seed as for tally_tracker_new. Returns NULL on any fault. */
TallyTracker* tally_tracker_new_typed(const double* options, size_t count, const char* write_key,
                                      size_t key_len, const uint8_t* seed);
void tally_tracker_free(TallyTracker* tracker);
/* The error text of the last failed tally_tracker_new, NUL-terminated. */
const char* tally_last_create_error(void);

/* Tracks one event (a JSON object, see tally::Tracker::Track). -4 (duplicate) when its event_id
 * is still queued. On success returns 0, the output
 * buffer holds the encoded event (to persist) and tally_last_id_ptr the 36-byte event id
 * (NUL-terminated; valid until the next successful tally_track). On failure the output buffer
 * holds the message, e.g. `properties.price: must be a finite number`. */
int32_t tally_track(TallyTracker* tracker, const char* event_json, size_t len);
const char* tally_last_id_ptr(TallyTracker* tracker);

/* Restores one persisted event: an encoded event as tally_track left it in the output buffer
 * (one line of tally_snapshot; trailing CR, spaces and tabs are ignored). Returns 1 when it is
 * queued again, with its id and created_at (it counts as queued since created_at, so a restored
 * backlog is due at once); 0 when it is skipped: a blank line, or its id is still queued
 * (restoring twice, or two tabs' overlap, duplicates nothing); -5 (resource exhausted) when the
 * queue is full; -1 when it is dropped: it does not decode or validate, lacks event_id or
 * created_at, or could never fit a batch. The output buffer is left as it was, except for the
 * pointer faults below. (Until session 3 this took a whole snapshot and answered with counts in
 * JSON; js/src/core.ts now splits the lines and counts, which keeps that loop and its JSON out
 * of the module.) */
int32_t tally_restore(TallyTracker* tracker, const char* line, size_t len);
/* The lite module's tally_track and tally_restore in one: queues an event the SDK encoded
 * itself (js/src/tally.ts builds the JSON text), NOT validated here: the collector applies the
 * rules and answers per-event rejections (docs/DECISIONS.md). event_id points to the event's 36
 * id bytes; text[0, len) must start {"event_id":"<those 36 bytes>" (a persisted line's id is
 * then read without parsing it). created_at_ms: when the event happened; the event counts as
 * queued since then (or now, whichever is earlier; NaN: now), so a restored backlog is due at
 * once. Returns 0 when queued; -3 when text is over validation.max_event_bytes (`event:
 * encoded size N bytes is over the limit of M`, the core's own rule and words) or could never
 * fit a batch; -4 when the id is still queued (restoring twice duplicates nothing); -5 when the
 * queue is full; -1 for a wrong prefix or bad pointers. On failure the output buffer holds the
 * message; on success it is empty. */
int32_t tally_push(TallyTracker* tracker, const char* event_id, double created_at_ms,
                   const char* text, size_t len);
/* Output buffer: the queued events, one per line. Returns their count. */
int32_t tally_snapshot(TallyTracker* tracker);

/* 1 when a batch is due (count, bytes or age), else 0. */
int32_t tally_batch_due(TallyTracker* tracker);
/* ms until a batch is due by age; 0 if due; -1 if the queue is empty. */
double tally_ms_until_due(TallyTracker* tracker);
/* Builds the next batch body (sent_at = now) in the output buffer, at most max_bytes long
 * (0: the configured batch limit). Returns how many events it holds; they stay queued until
 * tally_ack. */
int32_t tally_next_batch(TallyTracker* tracker, size_t max_bytes);
/* Removes the first n queued events (delivered, or refused for good). */
void tally_ack(TallyTracker* tracker, size_t n);

/* One round trip for the collector-clock offset estimate. */
void tally_on_server_time(TallyTracker* tracker, double sent_ms, double received_ms,
                          double server_time_ms);
/* collector − device in ms; NaN before the first usable sample. */
double tally_clock_offset(TallyTracker* tracker);

uint32_t tally_queued_events(TallyTracker* tracker);
double tally_queued_bytes(TallyTracker* tracker);

const char* tally_out_ptr(TallyTracker* tracker);
size_t tally_out_len(TallyTracker* tracker);

/* Defensive behaviour, for every call above: a NULL tracker makes the int32 calls return -1
 * (kInvalidArgument), the double calls NaN (tally_queued_bytes 0), the pointer calls NULL, the
 * counts 0, and the void calls do nothing; a NULL pointer with a non-zero length, or a pointer +
 * length that runs past the module's memory, is -1 with a message; non-finite times passed to
 * tally_on_server_time are ignored; tally_ack never removes more than is queued. */

/* Test only: pins the tracker's clock at now_ms (ms since epoch) instead of Date.now(); NaN
 * (or any non-finite value) returns it to Date.now(). Lets the Node suites compare the module's
 * output byte for byte with the native encoder's. Not for production use. */
void tally_set_now_for_test(TallyTracker* tracker, double now_ms);

#ifdef __cplusplus
}
#endif

#endif /* TALLY_WASM_TALLY_ABI_H_ */
