#include "report/format.h"

#include <cstdint>

namespace tally::collector::report {
namespace {

void AppendInt(int64_t v, std::string* out) { *out += std::to_string(v); }

void AppendOptionalString(const std::string& s, std::string* out) {
  if (s.empty()) {
    *out += "null";
  } else {
    AppendJsonString(s, out);
  }
}

}  // namespace

const char kCsvHeader[] =
    "event_id,type,name,user_id,anonymous_id,session_id,created_at,sent_at,received_at,"
    "derived_at,properties,context\r\n";

void AppendJsonString(std::string_view s, std::string* out) {
  static const char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t run = 0;  // start of the pending unescaped run
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out->append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        *out += "\\\"";
        break;
      case '\\':
        *out += "\\\\";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\r':
        *out += "\\r";
        break;
      case '\t':
        *out += "\\t";
        break;
      default:
        *out += "\\u00";
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 15]);
    }
  }
  out->append(s.data() + run, s.size() - run);
  out->push_back('"');
}

void AppendEventJson(const StoredEvent& e, std::string* out) {
  *out += "{\"event_id\":";
  AppendJsonString(e.event_id, out);
  *out += ",\"type\":";
  AppendJsonString(e.type, out);
  *out += ",\"name\":";
  AppendJsonString(e.name, out);
  *out += ",\"user_id\":";
  AppendOptionalString(e.user_id, out);
  *out += ",\"anonymous_id\":";
  AppendOptionalString(e.anonymous_id, out);
  *out += ",\"session_id\":";
  AppendOptionalString(e.session_id, out);
  *out += ",\"created_at\":";
  AppendInt(e.created_at_ms, out);
  *out += ",\"sent_at\":";
  if (e.sent_at_ms == 0) {
    *out += "null";
  } else {
    AppendInt(e.sent_at_ms, out);
  }
  *out += ",\"received_at\":";
  AppendInt(e.received_at_ms, out);
  *out += ",\"derived_at\":";
  AppendInt(e.derived_at_ms, out);
  *out += ",\"properties\":";
  *out += e.properties_json.empty() ? "{}" : e.properties_json;
  *out += ",\"context\":";
  *out += e.context_json.empty() ? "{}" : e.context_json;
  out->push_back('}');
}

void AppendCsvField(std::string_view s, std::string* out, bool guard_formulas) {
  const bool formula = guard_formulas && !s.empty() &&
                       std::string_view("=+-@\t\r").find(s.front()) != std::string_view::npos;
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) {
    if (formula) out->push_back('\'');
    out->append(s.data(), s.size());
    return;
  }
  out->push_back('"');
  if (formula) out->push_back('\'');
  for (char c : s) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

void AppendCsvRow(const StoredEvent& e, std::string* out, bool guard_formulas) {
  for (const std::string* f :
       {&e.event_id, &e.type, &e.name, &e.user_id, &e.anonymous_id, &e.session_id}) {
    AppendCsvField(*f, out, guard_formulas);
    out->push_back(',');
  }
  AppendInt(e.created_at_ms, out);
  out->push_back(',');
  if (e.sent_at_ms != 0) AppendInt(e.sent_at_ms, out);
  out->push_back(',');
  AppendInt(e.received_at_ms, out);
  out->push_back(',');
  AppendInt(e.derived_at_ms, out);
  out->push_back(',');
  AppendCsvField(e.properties_json.empty() ? "{}" : e.properties_json, out);
  out->push_back(',');
  AppendCsvField(e.context_json.empty() ? "{}" : e.context_json, out);
  *out += "\r\n";
}

}  // namespace tally::collector::report
