// The core's JSON: a document model, a strict recursive-descent parser and a deterministic
// writer. Hand-written rather than nlohmann_json for the reasons in json.h (Wasm size,
// -fno-exceptions, duplicate keys and depth bounds); it sits on the collector's hot path, so the
// parser avoids per-character work where it can (table-driven string scanning that appends whole
// runs, an integer fast path for numbers, values parsed in place into their parent).

#include "tally/json.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "json_internal.h"
#include "json_reader.h"

namespace tally {

// ---------------------------------------------------------------------------------------------
// Json

Json Json::Bool(bool b) {
  Json j;
  j.type_ = Type::kBool;
  j.bool_ = b;
  return j;
}

Json Json::Number(double d) {
  Json j;
  j.type_ = Type::kNumber;
  j.number_ = d;
  return j;
}

Json Json::String(std::string s) {
  Json j;
  j.type_ = Type::kString;
  j.string_ = std::move(s);
  return j;
}

Json Json::MakeArray() {
  Json j;
  j.type_ = Type::kArray;
  return j;
}

Json Json::MakeObject() {
  Json j;
  j.type_ = Type::kObject;
  return j;
}

const Json* Json::Find(std::string_view key) const {
  if (type_ != Type::kObject) return nullptr;
  for (const Member& m : object_) {
    if (m.first == key) return &m.second;
  }
  return nullptr;
}

Json* Json::Find(std::string_view key) {
  return const_cast<Json*>(static_cast<const Json*>(this)->Find(key));
}

void Json::Set(std::string key, Json value) {
  for (Member& m : object_) {
    if (m.first == key) {
      m.second = std::move(value);
      return;
    }
  }
  object_.emplace_back(std::move(key), std::move(value));
}

bool Json::Erase(std::string_view key) {
  for (auto it = object_.begin(); it != object_.end(); ++it) {
    if (it->first == key) {
      object_.erase(it);
      return true;
    }
  }
  return false;
}

void Json::Append(Json value) { array_.push_back(std::move(value)); }

bool operator==(const Json& a, const Json& b) {
  if (a.type_ != b.type_) return false;
  switch (a.type_) {
    case Json::Type::kNull:
      return true;
    case Json::Type::kBool:
      return a.bool_ == b.bool_;
    case Json::Type::kNumber:
      return a.number_ == b.number_;
    case Json::Type::kString:
      return a.string_ == b.string_;
    case Json::Type::kArray:
      return a.array_ == b.array_;
    case Json::Type::kObject:
      return a.object_ == b.object_;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// UTF-8

namespace detail {

// Well-formed sequences per the Unicode standard, table 3-7. The first byte decides the allowed
// range of the second; every later byte is 80..BF.
size_t Utf8SequenceLength(const unsigned char* p, const unsigned char* end, const char** why) {
  const unsigned char c = *p;
  if (c < 0x80) return 1;
  size_t n;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c < 0xC2) {
    *why = c < 0xC0 ? "unexpected continuation byte" : "overlong encoding";
    return 0;
  } else if (c < 0xE0) {
    n = 2;
  } else if (c < 0xF0) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c < 0xF5) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    *why = "code point above U+10FFFF";
    return 0;
  }
  if (static_cast<size_t>(end - p) < n) {
    // Name a wrong byte before a short text: "caf\xC3(" lacks a continuation byte.
    for (const unsigned char* q = p + 1; q < end; ++q) {
      if ((*q & 0xC0) != 0x80) {
        *why = "missing continuation byte";
        return 0;
      }
    }
    *why = "truncated sequence at end of text";
    return 0;
  }
  if (p[1] < lo || p[1] > hi) {
    if ((p[1] & 0xC0) != 0x80) {
      *why = "missing continuation byte";
    } else if (c == 0xE0 || c == 0xF0) {
      *why = "overlong encoding";
    } else if (c == 0xED) {
      *why = "UTF-16 surrogate";
    } else {
      *why = "code point above U+10FFFF";
    }
    return 0;
  }
  for (size_t i = 2; i < n; ++i) {
    if ((p[i] & 0xC0) != 0x80) {
      *why = "missing continuation byte";
      return 0;
    }
  }
  return n;
}

}  // namespace detail

namespace {

// True when the 8 bytes at p are all ASCII.
inline bool Ascii8(const unsigned char* p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  return (w & 0x8080808080808080ULL) == 0;
}

}  // namespace

bool IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  const char* why = nullptr;
  while (p < end) {
    if (end - p >= 8 && Ascii8(p)) {
      p += 8;
      continue;
    }
    size_t n = detail::Utf8SequenceLength(p, end, &why);
    if (n == 0) return false;
    p += n;
  }
  return true;
}

size_t Utf8Length(std::string_view s) {
  // Count the bytes that start a code point (everything but 10xxxxxx continuation bytes).
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

std::string_view Utf8Prefix(std::string_view s, size_t max_chars) {
  size_t chars = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (chars == max_chars) return s.substr(0, i);
      ++chars;
    }
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Small helpers shared with the codec and the validator

namespace detail {

void AppendPathKey(std::string_view key, std::string* path) {
  if (!path->empty()) path->push_back('.');
  // A hostile megabyte-long key must not become a megabyte-long error message.
  constexpr size_t kMaxKeyChars = 64;
  std::string_view shown = Utf8Prefix(key, kMaxKeyChars);
  path->append(shown.data(), shown.size());
  if (shown.size() != key.size()) path->append("...");
}

void AppendPathIndex(size_t index, std::string* path) {
  path->push_back('[');
  AppendInt(static_cast<int64_t>(index), path);
  path->push_back(']');
}

void AppendInt(int64_t v, std::string* out) {
  char buf[24];
  char* e = buf + sizeof buf;
  char* b = e;
  // Work in unsigned so that INT64_MIN does not overflow on negation.
  uint64_t u = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  do {
    *--b = static_cast<char>('0' + u % 10);
    u /= 10;
  } while (u != 0);
  if (v < 0) *--b = '-';
  out->append(b, static_cast<size_t>(e - b));
}

std::string QuoteForMessage(std::string_view text, size_t max_chars) {
  static const char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  size_t chars = 0;
  const char* why = nullptr;
  while (p < end) {
    if (chars == max_chars) {
      out += "...";
      break;
    }
    size_t n = Utf8SequenceLength(p, end, &why);
    if (n == 0) {
      out += "\\x";
      out += kHex[*p >> 4];
      out += kHex[*p & 15];
      ++p;
    } else if (n == 1) {
      unsigned char c = *p;
      if (c == '"' || c == '\\') {
        out += '\\';
        out += static_cast<char>(c);
      } else if (c < 0x20 || c == 0x7f) {
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 15];
      } else {
        out += static_cast<char>(c);
      }
      ++p;
    } else {
      out.append(reinterpret_cast<const char*>(p), n);
      p += n;
    }
    ++chars;
  }
  out += '"';
  return out;
}

const char* JsonTypeName(const Json& value) {
  switch (value.type()) {
    case Json::Type::kNull:
      return "null";
    case Json::Type::kBool:
      return "a boolean";
    case Json::Type::kNumber:
      return "a number";
    case Json::Type::kString:
      return "a string";
    case Json::Type::kArray:
      return "an array";
    case Json::Type::kObject:
      return "an object";
  }
  return "unknown";
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// Parser: a document built from the pull reader's tokens (json_reader.h holds the grammar)

namespace detail {

class JsonParser {
 public:
  JsonParser(std::string_view text, const JsonParseOptions& options,
             std::vector<DuplicateKey>* duplicates)
      : reader_(text, options.max_depth, duplicates != nullptr), duplicates_(duplicates) {}

  Result<Json> Parse() {
    Json root;
    // The containers being filled, outermost first. A pointer stays valid while its container
    // is open: its parent gains no element until it closes.
    std::vector<Json*> open;
    std::vector<bool> drop_last;  // per open object: its last member repeats a key (recording)
    for (;;) {
      JsonReader::Token t = reader_.Next();
      if (t == JsonReader::Token::kError) return reader_.TakeStatus();
      if (t == JsonReader::Token::kEnd) return root;
      if (t == JsonReader::Token::kKey) {
        Json::Object& members = open.back()->object_;
        if (members.empty()) members.reserve(4);  // most objects are small
        members.emplace_back();
        // Moved, not swapped: libstdc++'s out-of-line string::swap was ~2% of the collector's
        // instructions. The reader clears its string before each token.
        members.back().first = std::move(reader_.string());
        if (reader_.duplicate()) {
          RecordDuplicate(open);
          drop_last.back() = true;
        }
        continue;
      }
      if (t == JsonReader::Token::kEndArray || t == JsonReader::Token::kEndObject) {
        open.pop_back();
        drop_last.pop_back();
        Completed(open, drop_last);
        continue;
      }
      Json* slot = &root;
      if (!open.empty()) {
        Json* parent = open.back();
        if (parent->type_ == Json::Type::kArray) {
          parent->array_.emplace_back();
          slot = &parent->array_.back();
        } else {
          slot = &parent->object_.back().second;
        }
      }
      switch (t) {
        case JsonReader::Token::kNull:
          break;
        case JsonReader::Token::kBool:
          slot->type_ = Json::Type::kBool;
          slot->bool_ = reader_.bool_value();
          break;
        case JsonReader::Token::kNumber:
          slot->type_ = Json::Type::kNumber;
          slot->number_ = reader_.number();
          break;
        case JsonReader::Token::kString:
          slot->type_ = Json::Type::kString;
          slot->string_ = std::move(reader_.string());
          break;
        default:  // kBeginArray, kBeginObject
          slot->type_ =
              t == JsonReader::Token::kBeginArray ? Json::Type::kArray : Json::Type::kObject;
          open.push_back(slot);
          drop_last.push_back(false);
          continue;
      }
      Completed(open, drop_last);
    }
  }

 private:
  // A value inside the innermost open container is complete: drop it if it was the value of a
  // repeated key (recording mode keeps the first value).
  static void Completed(const std::vector<Json*>& open, std::vector<bool>& drop_last) {
    if (open.empty() || !drop_last.back()) return;
    open.back()->object_.pop_back();
    drop_last.back() = false;
  }

  // Notes the path of the repeated key that the reader just returned.
  void RecordDuplicate(const std::vector<Json*>& open) {
    DuplicateKey d;
    d.offset = reader_.offset();
    for (size_t i = 0; i + 1 < open.size(); ++i) {
      PathPart part;
      const Json* c = open[i];
      part.is_index = c->type_ == Json::Type::kArray;
      if (part.is_index) {
        part.index = c->array_.size() - 1;
      } else {
        part.key = c->object_.back().first;
      }
      d.path.push_back(std::move(part));
    }
    PathPart last;
    last.key = open.back()->object_.back().first;
    d.path.push_back(std::move(last));
    duplicates_->push_back(std::move(d));
  }

  JsonReader reader_;
  std::vector<DuplicateKey>* duplicates_;
};

}  // namespace detail

Result<Json> ParseJson(std::string_view text, const JsonParseOptions& options) {
  return detail::JsonParser(text, options, nullptr).Parse();
}

namespace detail {
Result<Json> ParseJsonRecordingDuplicates(std::string_view text, const JsonParseOptions& options,
                                          std::vector<DuplicateKey>* duplicates) {
  return JsonParser(text, options, duplicates).Parse();
}
}  // namespace detail

// ---------------------------------------------------------------------------------------------
// Writer

namespace {

// What JSON.stringify does to each byte below 0x80: 0 = copy, else the escape's second char
// ('u' for \u00XX).
struct EscapeTable {
  char esc[128];
  constexpr EscapeTable() : esc() {
    for (int i = 0; i < 0x20; ++i) esc[i] = 'u';
    esc[static_cast<int>('\b')] = 'b';
    esc[static_cast<int>('\f')] = 'f';
    esc[static_cast<int>('\n')] = 'n';
    esc[static_cast<int>('\r')] = 'r';
    esc[static_cast<int>('\t')] = 't';
    esc[static_cast<int>('"')] = '"';
    esc[static_cast<int>('\\')] = '\\';
  }
};
constexpr EscapeTable kEscape;

}  // namespace

namespace detail {

#ifndef TALLY_JS_NUMBERS
void FormatShortest(double d, char* buf) {
  // Shortest of %.15g..%.17g that reads back to the same double. std::to_chars would do this
  // in one step but is missing from the libc++ of Debian's Emscripten 3.1.6. Any decimal of at
  // most 15 digits survives a trip through a normal double, so when a shorter form exists %.15g
  // finds it; subnormals hold fewer digits, so they start the search at one.
  const int first = std::fabs(d) < DBL_MIN ? 1 : 15;
  for (int precision = first; precision <= 17; ++precision) {
    std::snprintf(buf, 40, "%.*g", precision, d);
    if (precision == 17 || std::strtod(buf, nullptr) == d) break;
  }
}
#endif

void WriteNumber(double d, std::string* out) {
  if (!std::isfinite(d)) {  // as JSON.stringify; validation keeps these out of events
    out->append("null");
    return;
  }
  if (std::fabs(d) <= 9007199254740992.0 && d == std::trunc(d)) {
    detail::AppendInt(static_cast<int64_t>(d), out);  // also turns -0 into 0, as JSON.stringify
    return;
  }
  char buf[40];
  FormatShortest(d, buf);
  // Exponents as JavaScript writes them: "1e-7", not "1e-07".
  char* e = std::strchr(buf, 'e');
  if (e == nullptr) {
    out->append(buf);
    return;
  }
  out->append(buf, static_cast<size_t>(e - buf) + 2);  // mantissa, 'e', sign
  const char* digits = e + 2;
  while (*digits == '0' && digits[1] != '\0') ++digits;
  out->append(digits);
}

}  // namespace detail

namespace detail {

size_t JsonStringSize(std::string_view s) {
  size_t n = s.size() + 2;
  auto extra = [](char ch) -> size_t {
    const auto c = static_cast<unsigned char>(ch);
    return c < 0x80 && kEscape.esc[c] != 0 ? (kEscape.esc[c] == 'u' ? 5 : 1) : 0;
  };
  const char* p = s.data();
  const char* end = p + s.size();
  auto plain = [](const char* at) {
    const uint64_t w = Load8(at);
    return StopBytes8(w) == 0 || EscapeBytes8(w) == 0;
  };
  for (; end - p >= 8; p += 8) {
    if (plain(p)) continue;
    for (int i = 0; i < 8; ++i) n += extra(p[i]);
  }
  // The rest lies inside the last 8 bytes: one test when the string is that long.
  if (p != end && s.size() >= 8 && plain(end - 8)) return n;
  for (; p != end; ++p) n += extra(*p);
  return n;
}

}  // namespace detail

void WriteJsonString(std::string_view s, std::string* out) {
  static const char kHex[] = "0123456789abcdef";
  // No reserve(size + n) here: libc++ (Emscripten's) reserves exactly what is asked, so reserving
  // before every string reallocated and copied the whole output each time, quadratic in the
  // event's size (measured: most of a Wasm tally_track call). append() grows geometrically.
  out->push_back('"');
  const char* p = s.data();
  const char* end = p + s.size();
  const char* run = p;
  for (; p != end; ++p) {
#ifndef TALLY_JSON_LITE  // (the browser module keeps the smaller loop)
    // Plain runs 8 bytes at a time (an escape never spans a skipped word).
    while (end - p >= 8) {
      const uint64_t w = detail::Load8(p);
      if (detail::StopBytes8(w) != 0 && detail::EscapeBytes8(w) != 0) break;
      p += 8;
    }
    if (p == end) break;
#endif
    const auto c = static_cast<unsigned char>(*p);
    if (c >= 0x80 || kEscape.esc[c] == 0) continue;
    out->append(run, static_cast<size_t>(p - run));
    run = p + 1;
    const char e = kEscape.esc[c];
    if (e == 'u') {
      const char u[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
      out->append(u, 6);
    } else {
      const char two[2] = {'\\', e};
      out->append(two, 2);
    }
  }
  out->append(run, static_cast<size_t>(end - run));
  out->push_back('"');
}

void WriteJson(const Json& value, std::string* out) {
  switch (value.type()) {
    case Json::Type::kNull:
      out->append("null");
      return;
    case Json::Type::kBool:
      out->append(value.as_bool() ? "true" : "false");
      return;
    case Json::Type::kNumber:
      detail::WriteNumber(value.as_number(), out);
      return;
    case Json::Type::kString:
      WriteJsonString(value.as_string(), out);
      return;
    case Json::Type::kArray: {
      out->push_back('[');
      bool first = true;
      for (const Json& item : value.as_array()) {
        if (!first) out->push_back(',');
        first = false;
        WriteJson(item, out);
      }
      out->push_back(']');
      return;
    }
    case Json::Type::kObject: {
      out->push_back('{');
      bool first = true;
      for (const Json::Member& m : value.as_object()) {
        if (!first) out->push_back(',');
        first = false;
        WriteJsonString(m.first, out);
        out->push_back(':');
        WriteJson(m.second, out);
      }
      out->push_back('}');
      return;
    }
  }
}

std::string ToJsonString(const Json& value) {
  std::string out;
  WriteJson(value, &out);
  return out;
}

}  // namespace tally
