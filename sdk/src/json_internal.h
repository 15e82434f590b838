// Internals shared by json.cc, codec.cc and validate.cc. Not part of the public API.
#ifndef TALLY_SRC_JSON_INTERNAL_H_
#define TALLY_SRC_JSON_INTERNAL_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "tally/event.h"
#include "tally/json.h"
#include "tally/status.h"

namespace tally {
namespace detail {

/// One step of the path from the root of a document to a value: an object key or an array index.
struct PathPart {
  bool is_index = false;
  size_t index = 0;
  std::string key;
};

/// A repeated key met while parsing in recording mode.
struct DuplicateKey {
  size_t offset = 0;           ///< byte offset of the repeated key's opening quote
  std::vector<PathPart> path;  ///< path of the repeated member (the last part is its key)
};

/// Like ParseJson, but a repeated key is recorded in `*duplicates` instead of failing the
/// parse: the first value of the key is kept and the later ones are parsed and dropped. The
/// batch decoder uses this to reject only the event that holds the duplicate (lesson 7).
Result<Json> ParseJsonRecordingDuplicates(std::string_view text, const JsonParseOptions& options,
                                          std::vector<DuplicateKey>* duplicates);

/// Appends a path part to a rendered field path: `.key` (or `key` at the start) or `[i]`.
/// Keys longer than 64 code points are cut and end in `...`.
void AppendPathKey(std::string_view key, std::string* path);
void AppendPathIndex(size_t index, std::string* path);

/// `"text"` for an error message: escaped as JSON and cut after `max_chars` code points (with
/// `...` appended) so that a hostile megabyte-long value never lands in a log line. `text` may
/// be invalid UTF-8; bad bytes are shown as \xNN.
std::string QuoteForMessage(std::string_view text, size_t max_chars = 64);

/// The 8 bytes at p as one word, for the scanners of strings below (JsonReader, WriteJsonString,
/// JsonStringSize), which skip 8 plain bytes at a time: most strings of an event are plain.
inline uint64_t Load8(const char* p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}
/// Nonzero when one of the 8 bytes of `w` needs an escape in a JSON string: a control
/// character, '"' or '\\' (one high bit per such byte, and possibly for a byte after it).
/// Bytes of 0x80 and above never count.
inline uint64_t EscapeBytes8(uint64_t w) {
  constexpr uint64_t k01 = 0x0101010101010101ULL, k80 = 0x8080808080808080ULL;
  const uint64_t quote = w ^ (k01 * '"'), backslash = w ^ (k01 * '\\');
  return (((w - k01 * 0x20) & ~w) | ((quote - k01) & ~quote) | ((backslash - k01) & ~backslash)) &
         k80;
}

/// Nonzero when one of the 8 bytes of `w` is not plain ASCII inside a JSON string: a control
/// character, '"', '\\' or a byte of 0x80 and above. Cheaper than EscapeBytes8 (which it
/// covers), so scanners test it first. The lowest flagged byte is exact: below the first such
/// byte no subtraction borrows, and that byte is always flagged (on a little-endian machine the
/// lowest flag is the first byte in memory).
inline uint64_t StopBytes8(uint64_t w) {
  constexpr uint64_t k01 = 0x0101010101010101ULL;
  return ((w - k01 * 0x20) | ((w ^ (k01 * '"')) - k01) | ((w ^ (k01 * '\\')) - k01) | w) &
         (k01 * 0x80);
}

/// The bytes WriteJsonString writes for `s`, quotes included.
size_t JsonStringSize(std::string_view s);

/// The number as WriteJson writes it (integers exactly, others shortest round-trip).
void WriteNumber(double d, std::string* out);

/// For WriteNumber: `d` (finite) as printf's "%.*g" at the first precision from 15 to 17 (from
/// 1 for subnormals) that reads back as `d`, NUL-terminated in buf (at least 40 bytes). The
/// browser module (TALLY_JS_NUMBERS) defines it in wasm/js_numbers.cc on top of JavaScript's
/// shortest round-trip digits; everywhere else json.cc searches with snprintf and strtod.
void FormatShortest(double d, char* buf);

/// The double nearest the decimal number text[0, len) (its JSON grammar already checked), as
/// strtod reads it. The browser module (TALLY_JS_NUMBERS) defines it in wasm/js_numbers.cc on
/// top of JavaScript's Number(); everywhere else json_reader.cc hands strtod a terminated copy.
double ParseDecimal(const char* text, size_t len);

/// Decimal text of `v` (no allocation beyond `out`'s growth).
void AppendInt(int64_t v, std::string* out);
/// The same as a new string: std::to_string's job without libc++'s digit tables (which the
/// browser module would otherwise carry for a few messages).
inline std::string IntText(int64_t v) {
  std::string s;
  AppendInt(v, &s);
  return s;
}

/// Length of the well-formed UTF-8 sequence starting at `p` (1 to 4), or 0 when the bytes at
/// `p` are not one; then `*why` says what is wrong (for the error message).
size_t Utf8SequenceLength(const unsigned char* p, const unsigned char* end, const char** why);

/// The JSON type name used in messages: "null", "a boolean", "a number", "a string", "an array",
/// "an object".
const char* JsonTypeName(const Json& value);

/// The fields of an encoded event before its properties, for EncodeEvent and the EventWriter
/// (one home for the pinned member order, codec.cc).
struct EventHead {
  std::string_view event_id;
  EventType type;
  std::string_view name, user_id, anonymous_id, session_id;
  int64_t created_at_ms;
};
/// Appends `{"event_id":...,...,"created_at":N,"properties":` (the grammar in codec.cc).
void AppendEventHead(const EventHead& head, std::string* out);
/// The bytes AppendEventHead would append (the batch decoder checks an event's encoded size
/// without writing it). `no_escapes`: the caller knows that no string of the head needs an
/// escape (each is a JsonReader string without escapes: verbatim()), so none is scanned.
size_t EventHeadSize(const EventHead& head, bool no_escapes = false);

}  // namespace detail
}  // namespace tally

#endif  // TALLY_SRC_JSON_INTERNAL_H_
