// The top-level members of a stored JSON object, read by skipping tokens: the breakdowns by a
// property (sqlite_report_store.cc, per row) and the rollup job (rollup.cc) both read members
// this way. Stored texts were validated at ingest, so nothing here validates; a text it cannot
// follow ends the walk. About 10 times cheaper than SQLite's `->`, which parses every row into
// a node tree.
#ifndef TALLY_COLLECTOR_REPORT_JSON_MEMBERS_H_
#define TALLY_COLLECTOR_REPORT_JSON_MEMBERS_H_

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>

namespace tally::collector::report {

/// Calls fn(key, value) for each top-level member of `json` in text order, the key as stored
/// (escapes kept) and the value's raw text; fn returns false to stop. Returns false when the text
/// is not an object it can follow to its end (including when fn stopped the walk).
template <typename Fn>
bool WalkMembers(std::string_view json, Fn&& fn) {
  size_t i = 0;
  const size_t n = json.size();
  auto space = [&] {
    while (i < n && (json[i] == ' ' || json[i] == '\t' || json[i] == '\n' || json[i] == '\r')) ++i;
  };
  // Past a string starting at json[i] (a quote); false when unterminated.
  auto skip_string = [&] {
    for (++i; i < n; ++i) {
      if (json[i] == '\\') {
        ++i;
      } else if (json[i] == '"') {
        ++i;
        return true;
      }
    }
    return false;
  };
  // Past one value starting at json[i].
  auto skip_value = [&] {
    if (i >= n) return false;
    if (json[i] == '"') return skip_string();
    if (json[i] != '{' && json[i] != '[') {
      while (i < n && json[i] != ',' && json[i] != '}' && json[i] != ']' && json[i] != ' ' &&
             json[i] != '\t' && json[i] != '\n' && json[i] != '\r')
        ++i;
      return true;
    }
    size_t depth = 0;
    while (i < n) {
      char c = json[i];
      if (c == '"') {
        if (!skip_string()) return false;
        continue;
      }
      if (c == '{' || c == '[') ++depth;
      if ((c == '}' || c == ']') && --depth == 0) {
        ++i;
        return true;
      }
      ++i;
    }
    return false;
  };
  space();
  if (i >= n || json[i] != '{') return false;
  ++i;
  for (;;) {
    space();
    if (i >= n || json[i] != '"') return false;  // '}' of an empty object, or not JSON
    const size_t key_start = i + 1;
    if (!skip_string()) return false;
    std::string_view key = json.substr(key_start, i - 1 - key_start);
    space();
    if (i >= n || json[i] != ':') return false;
    ++i;
    space();
    const size_t value_start = i;
    if (!skip_value()) return false;
    if (!fn(key, json.substr(value_start, i - value_start))) return false;
    space();
    if (i >= n || json[i] != ',') return false;
    ++i;
  }
}

/// Appends a member's value as SQLite's `->` returns it: a scalar exactly as stored, an object or
/// array without whitespace outside its strings.
inline void AppendMinified(std::string_view v, std::string* out) {
  if (v.empty() || (v[0] != '{' && v[0] != '[')) {
    out->append(v.data(), v.size());
    return;
  }
  for (size_t j = 0; j < v.size(); ++j) {
    if (v[j] == '"') {
      size_t k = j + 1;
      while (k < v.size() && v[k] != '"') k += v[k] == '\\' ? 2 : 1;
      out->append(v.data() + j, std::min(k + 1, v.size()) - j);
      j = k;
    } else if (v[j] != ' ' && v[j] != '\t' && v[j] != '\n' && v[j] != '\r') {
      out->push_back(v[j]);
    }
  }
}

}  // namespace tally::collector::report

#endif  // TALLY_COLLECTOR_REPORT_JSON_MEMBERS_H_
