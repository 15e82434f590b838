// Validation of one event, shared by the browser SDK and the collector so both refuse the same
// events with the same messages.
#ifndef TALLY_VALIDATE_H_
#define TALLY_VALIDATE_H_

#include "tally/event.h"
#include "tally/options.h"
#include "tally/status.h"

namespace tally {

/// Checks `event` against the pinned protocol and `options`, normalizing it in place where the
/// options allow (truncating overlong strings under OverlongString::kTruncate).
///
/// Rules, each failing with kInvalidArgument (or kTooLarge for size bounds) and a message that
/// starts with the field path:
///  - event_id: a UUID in canonical 8-4-4-4-12 hex form, version 7 (lower or upper case;
///    normalized to lower case);
///  - name: non-empty, at most max_name_chars code points;
///  - user_id / anonymous_id / session_id: at most max_id_chars;
///  - created_at_ms: within [min_created_at_ms, max_created_at_ms];
///  - properties and context: objects; keys non-empty (dots, `$` and punctuation allowed);
///    at most max_properties top-level properties and max_members per nested container;
///    nesting at most max_depth; numbers finite;
///  - typed values inside properties (at any depth; context is not typed):
///      money   an object holding both `amount` and `currency` is a money value: exactly those
///              two members, `amount` a finite number, `currency` an active ISO 4217 code in
///              upper case, e.g. {"amount": 1999, "currency": "EUR"};
///      rich link  an object with exactly `url` and `value`: both strings, `url` an http(s) link;
///      date    a string that starts like an ISO 8601 date (`YYYY-MM-DD`) must be a valid
///              date (month lengths and leap years checked) or date-time
///              `YYYY-MM-DDThh:mm[:ss[.f+]][Z|±hh:mm]` (no zone: a local time);
///      link    a string that starts with `http://` or `https://` (any case) must have a host,
///              a numeric port if any, and no spaces or control characters;
///  - strings and keys: valid UTF-8;
///  - string values: at most max_string_chars in properties, max_context_string_chars in context
///    (code points). Only these values are truncated under kTruncate; names and ids are always
///    refused when too long, since a cut id would attribute the event to someone else;
///  - the encoded event: at most max_event_bytes (kTooLarge, message `event: encoded size ...`).
/// An event with no user_id and no anonymous_id is refused: it could not be attributed.
/// The first failing rule is reported, in the order listed. A message about the event as a whole
/// starts with `event:` (DecodeBatch turns it into `events[i]:`).
Status ValidateEvent(Event* event, const ValidationOptions& options);

/// An event's properties and context as WriteJson writes them.
struct EventDocsJson {
  std::string properties;
  std::string context;
};

/// ValidateEvent that also hands back, on success, the properties and context as JSON text: the
/// size rule writes them anyway, so a caller that stores the text (the collector) does not
/// write them a second time. Stale once the event's documents are changed.
Status ValidateEvent(Event* event, const ValidationOptions& options, EventDocsJson* docs);

/// True when `s` is a canonical UUID string of version 7.
bool IsUuidV7(std::string_view s);

}  // namespace tally

#endif  // TALLY_VALIDATE_H_
