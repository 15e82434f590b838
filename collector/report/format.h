// How events leave the report API: the event object of docs/API.md (also one NDJSON line and one
// element of a JSON export) and the CSV row (RFC 4180). Written by hand, appending to a string,
// because exports run these per row at hundreds of thousands of rows per second; properties and
// context are already JSON text and are copied, never re-parsed.
#ifndef TALLY_COLLECTOR_REPORT_FORMAT_H_
#define TALLY_COLLECTOR_REPORT_FORMAT_H_

#include <string>
#include <string_view>

#include "store/store.h"

namespace tally::collector::report {

/// Appends `s` as a JSON string literal (quotes, escapes; UTF-8 passed through).
void AppendJsonString(std::string_view s, std::string* out);

/// {"event_id":..,"type":..,"name":..,"user_id":..|null,"anonymous_id":..|null,
///  "session_id":..|null,"created_at":n,"sent_at":n|null,"received_at":n,"derived_at":n,
///  "properties":{..},"context":{..}}
void AppendEventJson(const StoredEvent& e, std::string* out);

/// The CSV header line, CRLF-terminated.
extern const char kCsvHeader[];
/// One field: quoted when it holds , " CR or LF, quotes doubled (RFC 4180).
void AppendCsvField(std::string_view s, std::string* out);
/// One row in kCsvHeader's column order, CRLF-terminated.
void AppendCsvRow(const StoredEvent& e, std::string* out);

}  // namespace tally::collector::report

#endif  // TALLY_COLLECTOR_REPORT_FORMAT_H_
