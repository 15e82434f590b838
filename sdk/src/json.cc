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

#include "json_internal.h"

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
// Parser

namespace {

// Byte classes inside a JSON string: ordinary ASCII is copied in runs.
enum : uint8_t { kPlain = 0, kQuote = 1, kBackslash = 2, kControl = 3, kHigh = 4 };

struct StringClassTable {
  uint8_t cls[256];
  constexpr StringClassTable() : cls() {
    for (int i = 0; i < 256; ++i) {
      cls[i] = i < 0x20 ? kControl : i >= 0x80 ? kHigh : kPlain;
    }
    cls[static_cast<int>('"')] = kQuote;
    cls[static_cast<int>('\\')] = kBackslash;
  }
};
constexpr StringClassTable kStringClass;

// Objects with more members than this check for repeated keys through a hash set instead of a
// linear scan, so a hostile object with 100k keys costs O(n), not O(n^2).
constexpr size_t kLinearKeyScanLimit = 16;

// The set of an object's keys once it outgrows the linear scan: open addressing over member
// indexes. Hand-rolled because std::unordered_set<std::string> costs kilobytes of Wasm and a
// copy of every key.
class KeyIndex {
 public:
  // Adds members[i].first; false if an earlier member has the same key.
  bool Insert(const Json::Object& members, size_t i) {
    if (2 * (count_ + 1) > slots_.size()) Grow(members);
    if (!Place(members, i)) return false;
    ++count_;
    return true;
  }
  bool empty() const { return count_ == 0; }

 private:
  static uint64_t Hash(const std::string& key) {  // FNV-1a
    uint64_t h = 1469598103934665603ULL;
    for (char c : key) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
    return h;
  }
  bool Place(const Json::Object& members, size_t i) {
    const size_t mask = slots_.size() - 1;
    for (size_t s = static_cast<size_t>(Hash(members[i].first)) & mask;; s = (s + 1) & mask) {
      if (slots_[s] == 0) {
        slots_[s] = i + 1;
        return true;
      }
      if (members[slots_[s] - 1].first == members[i].first) return false;
    }
  }
  void Grow(const Json::Object& members) {
    std::vector<size_t> old;
    old.swap(slots_);
    slots_.assign(old.empty() ? 64 : 2 * old.size(), 0);
    for (size_t slot : old) {
      if (slot != 0) Place(members, slot - 1);
    }
  }

  std::vector<size_t> slots_;  // member index + 1; 0 is empty
  size_t count_ = 0;
};

// A link in the chain from the current value up to the root, kept on the C++ stack: the path of
// a repeated key is only materialised when one is found.
struct Frame {
  const Frame* parent;
  const std::string* key;  // null for an array element
  size_t index;
};

}  // namespace

namespace detail {

class JsonParser {
 public:
  JsonParser(std::string_view text, const JsonParseOptions& options,
             std::vector<detail::DuplicateKey>* duplicates)
      : begin_(text.data()),
        p_(text.data()),
        end_(text.data() + text.size()),
        max_depth_(options.max_depth),
        duplicates_(duplicates) {}

  Result<Json> Parse() {
    Json root;
    SkipWhitespace();
    if (!ParseValue(&root, 0, nullptr)) return std::move(error_);
    SkipWhitespace();
    if (p_ != end_) {
      Fail(Code::kParseError, "unexpected " + Describe() + " after the JSON value");
      return std::move(error_);
    }
    return root;
  }

 private:
  bool Fail(Code code, const std::string& msg) { return FailAt(code, Offset(), msg); }
  bool FailAt(Code code, size_t offset, const std::string& msg) {
    std::string m = "at byte ";
    detail::AppendInt(static_cast<int64_t>(offset), &m);
    m += ": ";
    m += msg;
    error_ =
        code == Code::kTooLarge ? Status::TooLarge(std::move(m)) : Status::ParseError(std::move(m));
    return false;
  }
  size_t Offset() const { return static_cast<size_t>(p_ - begin_); }

  // What sits at p_, for "unexpected ..." messages.
  std::string Describe() const {
    if (p_ == end_) return "end of text";
    unsigned char c = static_cast<unsigned char>(*p_);
    if (c >= 0x20 && c < 0x7f) return std::string("character '") + static_cast<char>(c) + "'";
    static const char kHex[] = "0123456789ABCDEF";
    std::string s = "byte 0x";
    s += kHex[c >> 4];
    s += kHex[c & 15];
    if (c >= 0x80) {
      const char* why = nullptr;
      if (detail::Utf8SequenceLength(reinterpret_cast<const unsigned char*>(p_),
                                     reinterpret_cast<const unsigned char*>(end_), &why) == 0) {
        s += std::string(" (invalid UTF-8: ") + why + ")";
      }
    }
    return s;
  }

  void SkipWhitespace() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  bool ConsumeLiteral(const char* word, size_t n) {
    if (static_cast<size_t>(end_ - p_) >= n && std::memcmp(p_, word, n) == 0) {
      p_ += n;
      return true;
    }
    return false;
  }

  // `out` is a fresh null value. `depth` counts the containers enclosing it.
  bool ParseValue(Json* out, size_t depth, const Frame* frame) {
    if (p_ == end_) return Fail(Code::kParseError, "expected a JSON value, got end of text");
    switch (*p_) {
      case '{':
      case '[':
        // Checked before recursing, so hostile nesting can never exhaust the stack.
        if (depth + 1 > max_depth_) {
          std::string m = "nested deeper than ";
          detail::AppendInt(static_cast<int64_t>(max_depth_), &m);
          return Fail(Code::kTooLarge, m + " levels");
        }
        return *p_ == '{' ? ParseObject(out, depth + 1, frame) : ParseArray(out, depth + 1, frame);
      case '"':
        out->type_ = Json::Type::kString;
        return ParseString(&out->string_);
      case 't':
        if (ConsumeLiteral("true", 4)) {
          out->type_ = Json::Type::kBool;
          out->bool_ = true;
          return true;
        }
        break;
      case 'f':
        if (ConsumeLiteral("false", 5)) {
          out->type_ = Json::Type::kBool;
          return true;
        }
        break;
      case 'n':
        if (ConsumeLiteral("null", 4)) {
          return true;
        }
        break;
      case 'N':
        if (ConsumeLiteral("NaN", 3)) {
          p_ -= 3;
          return Fail(Code::kParseError, "NaN is not JSON (numbers must be finite)");
        }
        break;
      case 'I':
        if (ConsumeLiteral("Infinity", 8)) {
          p_ -= 8;
          return Fail(Code::kParseError, "Infinity is not JSON (numbers must be finite)");
        }
        break;
      default:
        if (*p_ == '-' || (*p_ >= '0' && *p_ <= '9')) return ParseNumber(out);
        break;
    }
    return Fail(Code::kParseError, "expected a JSON value, got " + Describe());
  }

  bool ParseArray(Json* out, size_t depth, const Frame* frame) {
    ++p_;  // '['
    out->type_ = Json::Type::kArray;
    Json::Array& items = out->array_;
    SkipWhitespace();
    if (p_ != end_ && *p_ == ']') {
      ++p_;
      return true;
    }
    for (;;) {
      items.emplace_back();
      Frame child{frame, nullptr, items.size() - 1};
      if (!ParseValue(&items.back(), depth, &child)) return false;
      SkipWhitespace();
      if (p_ == end_) return Fail(Code::kParseError, "unterminated array, expected ',' or ']'");
      if (*p_ == ']') {
        ++p_;
        return true;
      }
      if (*p_ != ',') return Fail(Code::kParseError, "expected ',' or ']', got " + Describe());
      ++p_;
      SkipWhitespace();
      if (p_ != end_ && *p_ == ']') return Fail(Code::kParseError, "trailing comma in array");
    }
  }

  bool ParseObject(Json* out, size_t depth, const Frame* frame) {
    ++p_;  // '{'
    out->type_ = Json::Type::kObject;
    Json::Object& members = out->object_;
    KeyIndex keys;  // only filled past kLinearKeyScanLimit members
    SkipWhitespace();
    if (p_ != end_ && *p_ == '}') {
      ++p_;
      return true;
    }
    members.reserve(4);  // most objects are small; skips the 1-2-4 regrowth
    for (;;) {
      if (p_ == end_ || *p_ != '"') {
        return Fail(Code::kParseError, "expected a string key, got " + Describe());
      }
      const size_t key_offset = Offset();
      members.emplace_back();
      std::string& key = members.back().first;
      if (!ParseString(&key)) return false;
      SkipWhitespace();
      if (p_ == end_ || *p_ != ':') {
        return Fail(Code::kParseError, "expected ':' after a key, got " + Describe());
      }
      ++p_;
      SkipWhitespace();

      bool duplicate = false;
      const size_t n = members.size() - 1;  // members before this one
      if (n < kLinearKeyScanLimit) {
        for (size_t i = 0; i < n; ++i) {
          if (members[i].first == key) {
            duplicate = true;
            break;
          }
        }
      } else {
        if (keys.empty()) {
          for (size_t i = 0; i < n; ++i) keys.Insert(members, i);
        }
        duplicate = !keys.Insert(members, n);
      }
      if (duplicate && !RecordDuplicate(key, key_offset, frame)) return false;

      Frame child{frame, &key, 0};
      if (!ParseValue(&members.back().second, depth, &child)) return false;
      if (duplicate) members.pop_back();  // keep the first value (recording mode only)
      SkipWhitespace();
      if (p_ == end_) return Fail(Code::kParseError, "unterminated object, expected ',' or '}'");
      if (*p_ == '}') {
        ++p_;
        return true;
      }
      if (*p_ != ',') return Fail(Code::kParseError, "expected ',' or '}', got " + Describe());
      ++p_;
      SkipWhitespace();
      if (p_ != end_ && *p_ == '}') return Fail(Code::kParseError, "trailing comma in object");
    }
  }

  // Fails the parse, or (recording mode) notes the path and lets the parse go on.
  bool RecordDuplicate(const std::string& key, size_t offset, const Frame* frame) {
    if (duplicates_ == nullptr) {
      return FailAt(Code::kParseError, offset, "duplicate key " + detail::QuoteForMessage(key));
    }
    detail::DuplicateKey d;
    d.offset = offset;
    for (const Frame* f = frame; f != nullptr; f = f->parent) {
      detail::PathPart part;
      part.is_index = f->key == nullptr;
      if (part.is_index) {
        part.index = f->index;
      } else {
        part.key = *f->key;
      }
      d.path.push_back(std::move(part));
    }
    std::reverse(d.path.begin(), d.path.end());
    detail::PathPart last;
    last.key = key;
    d.path.push_back(std::move(last));
    duplicates_->push_back(std::move(d));
    return true;
  }

  // p_ is at the opening quote. Appends the decoded string to *out.
  bool ParseString(std::string* out) {
    ++p_;
    const char* run = p_;  // start of the current run of bytes copied verbatim
    for (;;) {
      // The hot loop: skip plain ASCII.
      while (p_ != end_ && kStringClass.cls[static_cast<unsigned char>(*p_)] == kPlain) ++p_;
      if (p_ == end_) return Fail(Code::kParseError, "unterminated string");
      switch (kStringClass.cls[static_cast<unsigned char>(*p_)]) {
        case kQuote:
          out->append(run, static_cast<size_t>(p_ - run));
          ++p_;
          return true;
        case kBackslash:
          out->append(run, static_cast<size_t>(p_ - run));
          if (!ParseEscape(out)) return false;
          run = p_;
          break;
        case kControl:
          return Fail(Code::kParseError,
                      "control character " + Describe() + " in a string must be escaped");
        default: {  // kHigh
          const char* why = nullptr;
          size_t n = detail::Utf8SequenceLength(reinterpret_cast<const unsigned char*>(p_),
                                                reinterpret_cast<const unsigned char*>(end_), &why);
          if (n == 0) {
            return Fail(Code::kParseError, std::string("invalid UTF-8 in a string: ") + why);
          }
          p_ += n;
          break;
        }
      }
    }
  }

  bool ReadHex4(uint32_t* v) {
    if (end_ - p_ < 4) return Fail(Code::kParseError, "truncated \\u escape");
    uint32_t r = 0;
    for (int i = 0; i < 4; ++i) {
      char c = p_[i];
      uint32_t d;
      if (c >= '0' && c <= '9') {
        d = static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        d = static_cast<uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        d = static_cast<uint32_t>(c - 'A' + 10);
      } else {
        p_ += i;
        return Fail(Code::kParseError, "expected 4 hex digits in a \\u escape, got " + Describe());
      }
      r = r * 16 + d;
    }
    p_ += 4;
    *v = r;
    return true;
  }

  // p_ is at the backslash.
  bool ParseEscape(std::string* out) {
    const char* start = p_;
    ++p_;
    if (p_ == end_) return Fail(Code::kParseError, "unterminated string");
    char c = *p_++;
    if (c != 'u') {
      static constexpr char kFrom[8] = {'"', '\\', '/', 'b', 'f', 'n', 'r', 't'};
      static constexpr char kTo[8] = {'"', '\\', '/', '\b', '\f', '\n', '\r', '\t'};
      const void* hit = std::memchr(kFrom, c, sizeof kFrom);
      if (hit == nullptr) {
        --p_;
        return Fail(Code::kParseError, "invalid escape: backslash followed by " + Describe());
      }
      out->push_back(kTo[static_cast<const char*>(hit) - kFrom]);
      return true;
    }
    uint32_t cp;
    if (!ReadHex4(&cp)) return false;
    if (cp >= 0xDC00 && cp <= 0xDFFF) {
      return FailAt(Code::kParseError, static_cast<size_t>(start - begin_),
                    "lone low surrogate escape in a string");
    }
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      uint32_t lo = 0;
      if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') {
        return FailAt(Code::kParseError, static_cast<size_t>(start - begin_),
                      "lone high surrogate escape in a string");
      }
      p_ += 2;
      if (!ReadHex4(&lo)) return false;
      if (lo < 0xDC00 || lo > 0xDFFF) {
        return FailAt(Code::kParseError, static_cast<size_t>(start - begin_),
                      "lone high surrogate escape in a string");
      }
      cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    }
    AppendUtf8(cp, out);
    return true;
  }

  static void AppendUtf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  static bool IsDigit(char c) { return c >= '0' && c <= '9'; }

  bool ParseNumber(Json* out) {
    const char* start = p_;
    bool negative = false;
    if (*p_ == '-') {
      negative = true;
      ++p_;
      if (ConsumeLiteral("Infinity", 8)) {
        p_ = start;
        return Fail(Code::kParseError, "-Infinity is not JSON (numbers must be finite)");
      }
    }
    if (p_ == end_ || !IsDigit(*p_)) {
      return Fail(Code::kParseError, "expected a digit in a number, got " + Describe());
    }
    const char* int_start = p_;
    if (*p_ == '0') {
      ++p_;
      if (p_ != end_ && IsDigit(*p_)) {
        p_ = int_start;
        return Fail(Code::kParseError, "leading zeros are not allowed in a number");
      }
    } else {
      while (p_ != end_ && IsDigit(*p_)) ++p_;
    }
    const size_t int_digits = static_cast<size_t>(p_ - int_start);
    bool simple = true;
    if (p_ != end_ && *p_ == '.') {
      simple = false;
      ++p_;
      if (p_ == end_ || !IsDigit(*p_)) {
        return Fail(Code::kParseError, "expected a digit after '.', got " + Describe());
      }
      while (p_ != end_ && IsDigit(*p_)) ++p_;
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      simple = false;
      ++p_;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ == end_ || !IsDigit(*p_)) {
        return Fail(Code::kParseError, "expected a digit in an exponent, got " + Describe());
      }
      while (p_ != end_ && IsDigit(*p_)) ++p_;
    }
    double value;
    if (simple && int_digits <= 15) {
      // Exact: any integer below 10^15 is representable, so no rounding question arises.
      uint64_t u = 0;
      for (const char* q = int_start; q != p_; ++q) u = u * 10 + static_cast<uint64_t>(*q - '0');
      value = static_cast<double>(u);
      if (negative) value = -value;
    } else {
      // strtod needs a terminated string. The grammar was checked above, so strtod reads
      // exactly these bytes (it would otherwise also accept hex, "inf", leading '+').
      const size_t len = static_cast<size_t>(p_ - start);
      char small[64];
      std::string big;
      const char* text;
      if (len < sizeof small) {
        std::memcpy(small, start, len);
        small[len] = '\0';
        text = small;
      } else {
        big.assign(start, len);
        text = big.c_str();
      }
      value = std::strtod(text, nullptr);
      if (!std::isfinite(value)) {
        p_ = start;
        return Fail(Code::kParseError, "number out of range (numbers must be finite)");
      }
    }
    out->type_ = Json::Type::kNumber;
    out->number_ = value;
    return true;
  }

  const char* begin_;
  const char* p_;
  const char* end_;
  size_t max_depth_;
  std::vector<detail::DuplicateKey>* duplicates_;
  Status error_;
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

void WriteNumber(double d, std::string* out) {
  if (!std::isfinite(d)) {  // as JSON.stringify; validation keeps these out of events
    out->append("null");
    return;
  }
  if (std::fabs(d) <= 9007199254740992.0 && d == std::trunc(d)) {
    detail::AppendInt(static_cast<int64_t>(d), out);  // also turns -0 into 0, as JSON.stringify
    return;
  }
  // Shortest of %.15g..%.17g that reads back to the same double. std::to_chars would do this
  // in one step but is missing from the libc++ of Debian's Emscripten 3.1.6. Any decimal of at
  // most 15 digits survives a trip through a normal double, so when a shorter form exists %.15g
  // finds it; subnormals hold fewer digits, so they start the search at one.
  char buf[40];
  const int first = std::fabs(d) < DBL_MIN ? 1 : 15;
  for (int precision = first; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, d);
    if (precision == 17 || std::strtod(buf, nullptr) == d) break;
  }
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

}  // namespace

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
      WriteNumber(value.as_number(), out);
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
