#include "json_reader.h"

#include <cmath>
#include <cstdlib>
#include <cstring>

#include "json_internal.h"

// TALLY_JSON_LITE (the browser module, wasm/CMakeLists.txt) keeps every fault and its kind but
// not its detail: `at byte 17: expected a JSON value` instead of `..., got character 'x'`. The
// text the SDK hands the module is JSON.stringify output, so only a caller bypassing the SDK
// meets these messages, and the code that builds the details is ~1 KB of the module.
// Keeps a rare path out of a hot caller (whose every call would otherwise save the registers
// the rare path needs).
#if defined(__GNUC__)
#define TALLY_NOINLINE __attribute__((noinline))
#else
#define TALLY_NOINLINE
#endif

#ifdef TALLY_JSON_LITE
#define TALLY_JSON_WHY(brief, detailed) std::string(brief)
#else
#define TALLY_JSON_WHY(brief, detailed) (detailed)
#endif

namespace tally {
namespace detail {
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

// Keys of an object compared one by one before it gets a hash table (IsDuplicateKey).
constexpr size_t kLinearKeyScanLimit = 16;

uint32_t Hash(std::string_view key) {  // FNV-1a
  uint32_t h = 2166136261u;
  for (char c : key) h = (h ^ static_cast<unsigned char>(c)) * 16777619u;
  return h;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

void AppendUtf8(uint32_t cp, std::string* out) {
  char b[4];
  size_t n;
  if (cp < 0x80) {
    b[0] = static_cast<char>(cp);
    n = 1;
  } else if (cp < 0x800) {
    b[0] = static_cast<char>(0xC0 | (cp >> 6));
    b[1] = static_cast<char>(0x80 | (cp & 0x3F));
    n = 2;
  } else if (cp < 0x10000) {
    b[0] = static_cast<char>(0xE0 | (cp >> 12));
    b[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    b[2] = static_cast<char>(0x80 | (cp & 0x3F));
    n = 3;
  } else {
    b[0] = static_cast<char>(0xF0 | (cp >> 18));
    b[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    b[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    b[3] = static_cast<char>(0x80 | (cp & 0x3F));
    n = 4;
  }
  out->append(b, n);
}

}  // namespace

#ifndef TALLY_JS_NUMBERS
double ParseDecimal(const char* text, size_t len) {
  // strtod needs a terminated string. The grammar was checked by the caller, so strtod reads
  // exactly these bytes (it would otherwise also accept hex, "inf", leading '+').
  char small[64];
  std::string big;
  if (len < sizeof small) {
    std::memcpy(small, text, len);
    small[len] = '\0';
    return std::strtod(small, nullptr);
  }
  big.assign(text, len);
  return std::strtod(big.c_str(), nullptr);
}
#endif

JsonReader::JsonReader(std::string_view text, size_t max_depth, bool record_duplicates)
    : begin_(text.data()),
      p_(text.data()),
      end_(text.data() + text.size()),
      max_depth_(max_depth),
      record_duplicates_(record_duplicates) {}

JsonReader::Token JsonReader::Fail(Code code, const std::string& msg) {
  return FailAt(code, Offset(), msg);
}

JsonReader::Token JsonReader::FailAt(Code code, size_t offset, const std::string& msg) {
  std::string m = "at byte ";
  AppendInt(static_cast<int64_t>(offset), &m);
  m += ": ";
  m += msg;
  error_ =
      code == Code::kTooLarge ? Status::TooLarge(std::move(m)) : Status::ParseError(std::move(m));
  expect_ = Expect::kDone;
  failed_ = true;
  return Token::kError;
}

// The faults of the token machinery, out of line: their messages take code that the hot
// functions (Next, Key, Value) would otherwise carry, with the registers it needs.
TALLY_NOINLINE JsonReader::Token JsonReader::FailHere(Why why) {
  [[maybe_unused]] const bool object = !levels_.empty() && levels_.back().is_object;
  switch (why) {
    case Why::kTextAfterValue:
      return Fail(Code::kParseError,
                  TALLY_JSON_WHY("unexpected text after the JSON value",
                                 "unexpected " + Describe() + " after the JSON value"));
    case Why::kUnterminated:
      return Fail(Code::kParseError,
                  TALLY_JSON_WHY("unterminated container",
                                 object ? "unterminated object, expected ',' or '}'"
                                        : "unterminated array, expected ',' or ']'"));
    case Why::kExpectedComma:
      return Fail(Code::kParseError, TALLY_JSON_WHY("expected ',' or the end of a container",
                                                    (object ? "expected ',' or '}', got "
                                                            : "expected ',' or ']', got ") +
                                                        Describe()));
    case Why::kTrailingComma:
      return Fail(Code::kParseError,
                  TALLY_JSON_WHY("trailing comma",
                                 object ? "trailing comma in object" : "trailing comma in array"));
    case Why::kExpectedKey:
      return Fail(Code::kParseError, TALLY_JSON_WHY("expected a string key",
                                                    "expected a string key, got " + Describe()));
    case Why::kExpectedColon:
      return Fail(Code::kParseError, TALLY_JSON_WHY("expected ':' after a key",
                                                    "expected ':' after a key, got " + Describe()));
    case Why::kDuplicateKey:
      return FailAt(Code::kParseError, token_offset_,
                    TALLY_JSON_WHY("duplicate key", "duplicate key " + QuoteForMessage(text_)));
    case Why::kExpectedValue:
      return Fail(Code::kParseError, TALLY_JSON_WHY("expected a JSON value",
                                                    "expected a JSON value, got " + Describe()));
    case Why::kTooDeep:
      break;
  }
  std::string m = "nested deeper than ";
  AppendInt(static_cast<int64_t>(max_depth_), &m);
  m += " levels";
  return Fail(Code::kTooLarge, m);
}

#ifndef TALLY_JSON_LITE
// What sits at p_, for "unexpected ..." messages.
std::string JsonReader::Describe() const {
  if (p_ == end_) return "end of text";
  unsigned char c = static_cast<unsigned char>(*p_);
  if (c >= 0x20 && c < 0x7f) return std::string("character '") + static_cast<char>(c) + "'";
  static const char kHex[] = "0123456789ABCDEF";
  std::string s = "byte 0x";
  s += kHex[c >> 4];
  s += kHex[c & 15];
  if (c >= 0x80) {
    const char* why = nullptr;
    if (Utf8SequenceLength(reinterpret_cast<const unsigned char*>(p_),
                           reinterpret_cast<const unsigned char*>(end_), &why) == 0) {
      s += std::string(" (invalid UTF-8: ") + why + ")";
    }
  }
  return s;
}
#endif

void JsonReader::SkipSpaces() {
  while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
}

bool JsonReader::ConsumeLiteral(const char* word, size_t n) {
  if (static_cast<size_t>(end_ - p_) >= n && std::memcmp(p_, word, n) == 0) {
    p_ += n;
    return true;
  }
  return false;
}

bool JsonReader::SkipValue(Token first, bool* duplicate) {
  if (first != Token::kBeginArray && first != Token::kBeginObject) return first != Token::kError;
  for (size_t open = 1; open > 0;) {
    const Token t = Next();
    if (t == Token::kError) return false;
    if (t == Token::kKey && duplicate_) *duplicate = true;
    if (t == Token::kBeginArray || t == Token::kBeginObject) ++open;
    if (t == Token::kEndArray || t == Token::kEndObject) --open;
  }
  return true;
}

JsonReader::Token JsonReader::Next() {
  SkipWhitespace();
  switch (expect_) {
    case Expect::kDone:
      if (!error_.ok()) return Token::kError;
      if (p_ != end_) return FailHere(Why::kTextAfterValue);
      return Token::kEnd;
    case Expect::kValue:
      return Value();
    case Expect::kFirstKey:
      if (p_ != end_ && *p_ == '}') return Close();
      return Key();
    case Expect::kKey:
      return Key();
    case Expect::kCommaOrEnd:
      break;
  }
  const bool object = levels_.back().is_object;
  if (p_ == end_) return FailHere(Why::kUnterminated);
  if (*p_ == (object ? '}' : ']')) return Close();
  if (*p_ != ',') return FailHere(Why::kExpectedComma);
  ++p_;
  SkipWhitespace();
  if (p_ != end_ && *p_ == (object ? '}' : ']')) return FailHere(Why::kTrailingComma);
  if (object) return Key();
  return Value();
}

// Ends the innermost container at p_ (its closing bracket).
JsonReader::Token JsonReader::Close() {
  token_offset_ = Offset();
  ++p_;
  const Level& level = levels_.back();
  const bool object = level.is_object;
  if (object) {
    while (keys_.size() > level.first_key) keys_.pop_back();  // (less code than erase)
    escaped_keys_.resize(level.escaped_keys);
  }
  levels_.pop_back();
  expect_ = levels_.empty() ? Expect::kDone : Expect::kCommaOrEnd;
  return object ? Token::kEndObject : Token::kEndArray;
}

JsonReader::Token JsonReader::Value() {
  token_offset_ = Offset();
  expect_ = levels_.empty() ? Expect::kDone : Expect::kCommaOrEnd;
  if (p_ == end_) return FailHere(Why::kExpectedValue);
  switch (*p_) {
    case '{':
    case '[': {
      // Checked before descending, so hostile nesting can never exhaust anything.
      if (levels_.size() + 1 > max_depth_) return FailHere(Why::kTooDeep);
      const bool object = *p_ == '{';
      ++p_;
      levels_.push_back(
          Level{object, static_cast<uint32_t>(keys_.size()), escaped_keys_.size(), 0});
      if (object) {
        expect_ = Expect::kFirstKey;
        return Token::kBeginObject;
      }
      SkipWhitespace();
      if (p_ != end_ && *p_ == ']') {
        // An empty array: its end is the next token.
        expect_ = Expect::kCommaOrEnd;
      } else {
        expect_ = Expect::kValue;
      }
      return Token::kBeginArray;
    }
    case '"':
      return ParseString() ? Token::kString : Token::kError;
    case 't':
      if (ConsumeLiteral("true", 4)) {
        bool_ = true;
        raw_size_ = 4;
        return Token::kBool;
      }
      break;
    case 'f':
      if (ConsumeLiteral("false", 5)) {
        bool_ = false;
        raw_size_ = 5;
        return Token::kBool;
      }
      break;
    case 'n':
      if (ConsumeLiteral("null", 4)) {
        raw_size_ = 4;
        return Token::kNull;
      }
      break;
    case 'N':
#ifndef TALLY_JSON_LITE
      if (ConsumeLiteral("NaN", 3)) {
        p_ -= 3;
        return Fail(Code::kParseError, "NaN is not JSON (numbers must be finite)");
      }
#endif
      break;
    case 'I':
#ifndef TALLY_JSON_LITE
      if (ConsumeLiteral("Infinity", 8)) {
        p_ -= 8;
        return Fail(Code::kParseError, "Infinity is not JSON (numbers must be finite)");
      }
#endif
      break;
    default:
      if (*p_ == '-' || IsDigit(*p_)) return ParseNumber();
      break;
  }
  return FailHere(Why::kExpectedValue);
}

// p_ is where a key must start (after '{' or ',' and whitespace).
JsonReader::Token JsonReader::Key() {
  if (p_ == end_ || *p_ != '"') return FailHere(Why::kExpectedKey);
  token_offset_ = Offset();
  if (!ParseString()) return Token::kError;
  SkipWhitespace();
  if (p_ == end_ || *p_ != ':') return FailHere(Why::kExpectedColon);
  ++p_;
  SkipWhitespace();
  duplicate_ = IsDuplicateKey();
  if (duplicate_ && !record_duplicates_) return FailHere(Why::kDuplicateKey);
  expect_ = Expect::kValue;
  return Token::kKey;
}

inline void JsonReader::RememberKey() {
  if (verbatim_) {
    keys_.push_back(text_);
  } else {
    RememberEscapedKey();
  }
}

// Whether text_ repeats a key of the innermost object; if not, remembers it (a key without
// escapes by its place in the text read, so no key is copied).
//
// Objects of fewer than kLinearKeyScanLimit keys are scanned. Past that, one open-addressing
// table of key indexes (+1; 0 is empty) serves every open object, so a hostile object with 100k
// keys costs O(n). An entry counts only while its index is one of the
// innermost object's keys: a closed object's entries need no removal (once its indexes are
// reused they name keys of the current object, a fair comparison), and the table is rebuilt
// from the open keys alone when it is half full.
bool JsonReader::IsDuplicateKey() {
  const size_t first = levels_.back().first_key;
  const size_t n = keys_.size();
  if (n - first < kLinearKeyScanLimit) {
    // A small object (every event's): comparing with its few keys is cheaper than hashing, and
    // its keys stay out of the table (the collector reads a whole batch, ~15 keys per event,
    // with one reader).
    // A key's bit in a 64-bit summary of the object's keys (its length and end bytes): when the
    // bit is new, no key can be equal, and most keys of an event skip the comparisons.
    const size_t size = text_.size();
    const unsigned bit =
        (size * 7 + (size == 0 ? 0
                               : static_cast<unsigned char>(text_[0]) +
                                     static_cast<unsigned char>(text_[size - 1]))) &
        63;
    uint64_t& summary = levels_.back().key_summary;
    if ((summary >> bit & 1) != 0) {
      for (size_t i = first; i < n; ++i) {
        if (keys_[i].size() == size && keys_[i] == text_) return true;
      }
    }
    summary |= uint64_t{1} << bit;
    RememberKey();
    return false;
  }
  return IsDuplicateKeyInLargeObject();
}

TALLY_NOINLINE bool JsonReader::IsDuplicateKeyInLargeObject() {
  const size_t first = levels_.back().first_key;
  const size_t n = keys_.size();
  // Its first keys enter the table when it crosses the limit (with every open key, as when the
  // table is rebuilt).
  if (n - first == kLinearKeyScanLimit || 2 * (used_ + 1) > slots_.size()) {
    size_t size = 16;  // a typical event: one small table per Track (64 slots cost ~10 %)
    while (size < 4 * (n + 1)) size *= 2;
    slots_.assign(size, 0);
    used_ = 0;
    for (size_t i = 0; i < n; ++i) Place(i, keys_[i], n);  // n: no index is compared
  }
  if (!Place(n, text_, first)) return true;
  RememberKey();
  return false;
}

TALLY_NOINLINE void JsonReader::RememberEscapedKey() {
  const char* old = escaped_keys_.data();
  const size_t old_size = escaped_keys_.size();
  escaped_keys_.append(text_.data(), text_.size());
  const char* now = escaped_keys_.data();
  if (now != old) {
    // The text moved: the views of the open escaped keys follow it.
    const uintptr_t lo = reinterpret_cast<uintptr_t>(old);
    for (std::string_view& key : keys_) {
      const uintptr_t at = reinterpret_cast<uintptr_t>(key.data());
      if (at >= lo && at < lo + old_size) key = std::string_view(now + (at - lo), key.size());
    }
  }
  keys_.push_back(std::string_view(now + old_size, text_.size()));
}

// Inserts key index `index` under `key`, unless a key with an index in [from, index) is equal.
bool JsonReader::Place(size_t index, std::string_view key, size_t from) {
  const size_t mask = slots_.size() - 1;
  for (size_t s = Hash(key) & mask;; s = (s + 1) & mask) {
    const size_t other = slots_[s];
    if (other == 0) {
      slots_[s] = static_cast<uint32_t>(index + 1);
      ++used_;
      return true;
    }
    if (other - 1 >= from && other - 1 < index && keys_[other - 1] == key) return false;
  }
}

// p_ is at the opening quote. Sets text_ (a view into the text read unless the string has
// escapes: then decoded into string_), ascii_, verbatim_ and raw_size_; p_ ends past the closing
// quote. This is the reader's hottest loop (every key and string of a batch), hence the 8-byte
// steps over plain ASCII and no copy of a string without escapes.
bool JsonReader::ParseString() {
  const char* start = ++p_;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && \
    !defined(TALLY_JSON_LITE)
  // The common case inline: plain ASCII up to the closing quote, found 8 bytes at a time.
  while (end_ - p_ >= 8) {
    const uint64_t stop = StopBytes8(Load8(p_));
    if (stop == 0) {
      p_ += 8;
      continue;
    }
    // The lowest flag is exact, and the lowest byte in memory is the first.
    p_ += __builtin_ctzll(stop) >> 3;
    if (*p_ != '"') break;
    text_ = std::string_view(start, static_cast<size_t>(p_ - start));
    ++p_;
    raw_size_ = Offset() - token_offset_;
    ascii_ = true;
    verbatim_ = true;
    return true;
  }
#endif
  return ParseStringFrom(start, true);
}

// ParseString from p_ on, inside the string that starts at `start` (`ascii`: so far). From its
// first escape on, the string is decoded into string_.
TALLY_NOINLINE bool JsonReader::ParseStringFrom(const char* start, bool ascii) {
  bool escaped = false;
  const char* run = start;  // start of the current run of bytes copied verbatim (escaped)
  for (;;) {
    while (p_ != end_ && kStringClass.cls[static_cast<unsigned char>(*p_)] == kPlain) ++p_;
    if (p_ == end_) {
      Fail(Code::kParseError, "unterminated string");
      return false;
    }
    switch (kStringClass.cls[static_cast<unsigned char>(*p_)]) {
      case kQuote:
        if (escaped) {
          string_.append(run, static_cast<size_t>(p_ - run));
          text_ = string_;
        } else {
          text_ = std::string_view(start, static_cast<size_t>(p_ - start));
        }
        ++p_;
        raw_size_ = Offset() - token_offset_;
        ascii_ = ascii;
        verbatim_ = !escaped;
        return true;
      case kBackslash:
        if (!escaped) string_.clear();
        escaped = true;
        string_.append(run, static_cast<size_t>(p_ - run));
        if (!ParseEscape(&string_, &ascii)) return false;
        run = p_;
        break;
      case kControl:
        Fail(Code::kParseError,
             TALLY_JSON_WHY("unescaped control character in a string",
                            "control character " + Describe() + " in a string must be escaped"));
        return false;
      default: {  // kHigh
        const char* why = nullptr;
        const size_t n = Utf8SequenceLength(reinterpret_cast<const unsigned char*>(p_),
                                            reinterpret_cast<const unsigned char*>(end_), &why);
        if (n == 0) {
          Fail(Code::kParseError, TALLY_JSON_WHY("invalid UTF-8 in a string",
                                                 std::string("invalid UTF-8 in a string: ") + why));
          return false;
        }
        p_ += n;
        ascii = false;
        break;
      }
    }
  }
}

bool JsonReader::ReadHex4(uint32_t* v) {
  if (end_ - p_ < 4) {
    Fail(Code::kParseError, "truncated \\u escape");
    return false;
  }
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
      Fail(Code::kParseError,
           TALLY_JSON_WHY("invalid \\u escape",
                          "expected 4 hex digits in a \\u escape, got " + Describe()));
      return false;
    }
    r = r * 16 + d;
  }
  p_ += 4;
  *v = r;
  return true;
}

// p_ is at the backslash. *ascii becomes false when the escape stands for a non-ASCII character.
bool JsonReader::ParseEscape(std::string* out, bool* ascii) {
  const size_t start = Offset();
  ++p_;
  if (p_ == end_) {
    Fail(Code::kParseError, "unterminated string");
    return false;
  }
  char c = *p_++;
  if (c != 'u') {
    static constexpr char kFrom[8] = {'"', '\\', '/', 'b', 'f', 'n', 'r', 't'};
    static constexpr char kTo[8] = {'"', '\\', '/', '\b', '\f', '\n', '\r', '\t'};
    const void* hit = std::memchr(kFrom, c, sizeof kFrom);
    if (hit == nullptr) {
      --p_;
      Fail(Code::kParseError,
           TALLY_JSON_WHY("invalid escape", "invalid escape: backslash followed by " + Describe()));
      return false;
    }
    out->push_back(kTo[static_cast<const char*>(hit) - kFrom]);
    return true;
  }
  uint32_t cp;
  if (!ReadHex4(&cp)) return false;
  if (cp >= 0xDC00 && cp <= 0xDFFF) {
    FailAt(Code::kParseError, start, "lone low surrogate escape in a string");
    return false;
  }
  if (cp >= 0xD800 && cp <= 0xDBFF) {
    uint32_t lo = 0;
    if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') {
      FailAt(Code::kParseError, start, "lone high surrogate escape in a string");
      return false;
    }
    p_ += 2;
    if (!ReadHex4(&lo)) return false;
    if (lo < 0xDC00 || lo > 0xDFFF) {
      FailAt(Code::kParseError, start, "lone high surrogate escape in a string");
      return false;
    }
    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
  }
  if (cp >= 0x80) *ascii = false;
  AppendUtf8(cp, out);
  return true;
}

JsonReader::Token JsonReader::ParseNumber() {
  const char* start = p_;
  bool negative = false;
  if (*p_ == '-') {
    negative = true;
    ++p_;
#ifndef TALLY_JSON_LITE
    if (ConsumeLiteral("Infinity", 8)) {
      p_ = start;
      return Fail(Code::kParseError, "-Infinity is not JSON (numbers must be finite)");
    }
#endif
  }
  if (p_ == end_ || !IsDigit(*p_)) {
    return Fail(
        Code::kParseError,
        TALLY_JSON_WHY("invalid number", "expected a digit in a number, got " + Describe()));
  }
  const char* int_start = p_;
  uint64_t u = 0;  // the integer part, exact when it has at most 15 digits (else unused)
  if (*p_ == '0') {
    ++p_;
    if (p_ != end_ && IsDigit(*p_)) {
      p_ = int_start;
      return Fail(Code::kParseError, "leading zeros are not allowed in a number");
    }
  } else {
    for (; p_ != end_ && IsDigit(*p_); ++p_) u = u * 10 + static_cast<uint64_t>(*p_ - '0');
  }
  const size_t int_digits = static_cast<size_t>(p_ - int_start);
  bool simple = true;
  if (p_ != end_ && *p_ == '.') {
    simple = false;
    ++p_;
    if (p_ == end_ || !IsDigit(*p_)) {
      return Fail(
          Code::kParseError,
          TALLY_JSON_WHY("invalid number", "expected a digit after '.', got " + Describe()));
    }
    while (p_ != end_ && IsDigit(*p_)) ++p_;
  }
  if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
    simple = false;
    ++p_;
    if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
    if (p_ == end_ || !IsDigit(*p_)) {
      return Fail(
          Code::kParseError,
          TALLY_JSON_WHY("invalid number", "expected a digit in an exponent, got " + Describe()));
    }
    while (p_ != end_ && IsDigit(*p_)) ++p_;
  }
  if (simple && int_digits <= 15) {
    // Exact: any integer below 10^15 is representable, so no rounding question arises.
    number_ = static_cast<double>(u);
    if (negative) number_ = -number_;
    raw_size_ = static_cast<size_t>(p_ - start);
    verbatim_ = !(negative && u == 0);  // WriteNumber writes -0 as 0
    return Token::kNumber;
  }
  number_ = ParseDecimal(start, static_cast<size_t>(p_ - start));
  if (!std::isfinite(number_)) {
    p_ = start;
    return Fail(Code::kParseError, "number out of range (numbers must be finite)");
  }
  raw_size_ = static_cast<size_t>(p_ - start);
  verbatim_ = false;
  return Token::kNumber;
}

}  // namespace detail
}  // namespace tally
