// A pull (streaming) JSON reader: the core's one JSON tokenizer. ParseJson builds its document
// from it (json.cc); the EventWriter (event_writer.h) validates and encodes events from it
// without building a document, which is what the browser module runs.
//
// Strict as RFC 8259 and as the contract of ParseJson (json.h): syntax, NaN/Infinity, invalid
// UTF-8, lone surrogate escapes, duplicate keys (with a hash index past a few keys, so a
// hostile object with 100k keys costs O(n)), and the nesting bound checked before descending.
// Every error message gives the byte offset, e.g. `at byte 17: duplicate key "name"`.
#ifndef TALLY_SRC_JSON_READER_H_
#define TALLY_SRC_JSON_READER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tally/json.h"
#include "tally/status.h"

namespace tally {
namespace detail {

class JsonReader {
 public:
  enum class Token : uint8_t {
    kError,  ///< see status(); every later call returns kError again
    kEnd,    ///< the whole text was one value, followed only by whitespace
    kNull,
    kBool,
    kNumber,
    kString,
    kKey,  ///< an object member's key (the value follows as the next token)
    kBeginArray,
    kEndArray,
    kBeginObject,
    kEndObject,
  };

  /// With `record_duplicates`, a repeated key is returned as kKey with duplicate() true instead
  /// of failing the read (the batch decoder's mode, json_internal.h).
  JsonReader(std::string_view text, size_t max_depth, bool record_duplicates = false);

  Token Next();

  /// Reads past the rest of a value whose first token (already read) is `first`: nothing more
  /// for a scalar, through the matching end for a container. False on a JSON fault. In
  /// recording mode, *duplicate is set when a key inside the value repeats.
  bool SkipValue(Token first, bool* duplicate);

  /// The value of the last kBool / kNumber token.
  bool bool_value() const { return bool_; }
  double number() const { return number_; }
  /// The decoded text of the last kString or kKey token. Without escapes (verbatim()) it is a
  /// view into the text read, no copy made, valid as long as that text; else it is valid until
  /// the next token.
  std::string_view text() const { return text_; }
  /// text() as a std::string the caller may move from (text() is then stale).
  std::string& string() {
    if (text_.data() != string_.data()) {
      string_.assign(text_.data(), text_.size());
      text_ = string_;
    }
    return string_;
  }
  /// The last kString, kKey, kNumber, kBool or kNull as it is written in the text read (quotes
  /// included).
  std::string_view raw() const { return std::string_view(begin_ + token_offset_, raw_size_); }
  /// raw() is exactly what the writer writes for the token: WriteJsonString(text()) for a
  /// string without escapes (an unescaped JSON string holds no control character, quote or
  /// backslash, and WriteJsonString copies every other byte), WriteNumber(number()) for an
  /// integer of at most 15 digits other than -0.
  bool verbatim() const { return verbatim_; }
  /// Every byte of text() is ASCII (so its length is its code point count). Whatever it holds,
  /// text() is well-formed UTF-8: the reader refuses anything else, escapes included.
  bool ascii() const { return ascii_; }
  /// The last kKey repeats an earlier key of its object (recording mode only).
  bool duplicate() const { return duplicate_; }
  /// Byte offset where the last token starts (a key's or a string's opening quote).
  size_t offset() const { return token_offset_; }
  /// The whole text being read.
  std::string_view input() const {
    return std::string_view(begin_, static_cast<size_t>(end_ - begin_));
  }
  /// Bytes read so far: just past the last token (after a kEndObject, past its '}').
  size_t consumed() const { return Offset(); }
  /// Whether a read has failed (status() says why; TakeStatus may have moved it out).
  bool failed() const { return failed_; }
  /// Containers open around the next token (after kBeginObject: 1 for the outermost).
  size_t depth() const { return levels_.size(); }
  const Status& status() const { return error_; }
  Status TakeStatus() { return std::move(error_); }

 private:
  enum class Expect : uint8_t { kValue, kFirstKey, kKey, kCommaOrEnd, kDone };
  struct Level {
    bool is_object;
    uint32_t first_key;    // index into keys_ of the object's first key
    size_t escaped_keys;   // escaped_keys_.size() when the object opened
    uint64_t key_summary;  // a bit per key of a small object (IsDuplicateKey)
  };

  enum class Why : uint8_t {
    kTextAfterValue,
    kUnterminated,
    kExpectedComma,
    kTrailingComma,
    kExpectedKey,
    kExpectedColon,
    kDuplicateKey,
    kExpectedValue,
    kTooDeep,
  };
  Token FailHere(Why why);
  Token Fail(Code code, const std::string& msg);
  Token FailAt(Code code, size_t offset, const std::string& msg);
  size_t Offset() const { return static_cast<size_t>(p_ - begin_); }
  std::string Describe() const;
  void SkipWhitespace() {
    // Compact JSON, what the SDK sends, has none: one comparison then.
    if (p_ != end_ && static_cast<unsigned char>(*p_) <= ' ') SkipSpaces();
  }
  void SkipSpaces();
  bool ConsumeLiteral(const char* word, size_t n);
  Token Value();
  Token Key();
  Token Close();
  bool ParseString();
  bool ParseStringFrom(const char* start, bool ascii);
  bool ReadHex4(uint32_t* v);
  bool ParseEscape(std::string* out, bool* ascii);
  Token ParseNumber();
  bool IsDuplicateKey();
  bool IsDuplicateKeyInLargeObject();
  void RememberKey();
  void RememberEscapedKey();
  bool Place(size_t index, std::string_view key, size_t from);

  const char* begin_;
  const char* p_;
  const char* end_;
  size_t max_depth_;
  bool record_duplicates_;
  Expect expect_ = Expect::kValue;
  bool bool_ = false;
  bool duplicate_ = false;
  bool failed_ = false;
  double number_ = 0;
  size_t token_offset_ = 0;
  std::string_view text_;  // the last string's text: into the text read, or string_
  std::string string_;     // the last string's text when it has escapes
  size_t raw_size_ = 0;    // bytes of the last scalar or key in the text read (raw())
  bool verbatim_ = true;
  bool ascii_ = true;
  std::vector<Level> levels_;
  // The keys of every open object: views into the text read, or for keys with escapes into
  // escaped_keys_, their decoded text back to back (RememberEscapedKey).
  std::vector<std::string_view> keys_;
  std::string escaped_keys_;
  std::vector<uint32_t> slots_;  // hash index over the open keys (IsDuplicateKey)
  size_t used_ = 0;              // slots_ taken, stale ones included
  Status error_;
};

}  // namespace detail
}  // namespace tally

#endif  // TALLY_SRC_JSON_READER_H_
