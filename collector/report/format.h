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
/// One field: quoted when it holds , " CR or LF, quotes doubled (RFC 4180). With
/// `guard_formulas`, a field that a spreadsheet would run as a formula (first character = + - @,
/// tab or CR) gets a leading apostrophe first (OWASP's CSV injection advice): names and ids come
/// from any visitor holding the public write key.
void AppendCsvField(std::string_view s, std::string* out, bool guard_formulas = false);
/// One row in kCsvHeader's column order, CRLF-terminated. The text fields a visitor can choose
/// (name, user_id, anonymous_id, session_id) are formula-guarded unless `guard_formulas` is false;
/// properties and context are JSON objects (they start with '{') and never need it.
void AppendCsvRow(const StoredEvent& e, std::string* out, bool guard_formulas = true);

}  // namespace tally::collector::report

#endif  // TALLY_COLLECTOR_REPORT_FORMAT_H_
