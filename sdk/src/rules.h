// The per-value rules of event validation, one home for each (validate.h states them). Both
// walkers call these: ValidateEvent's walk over an Event's documents (validate.cc, the
// collector) and the EventWriter's single streaming pass (event_writer.cc, the browser core), so
// the two cannot drift apart. Each Check returns Code::kOk when the value passes; otherwise its
// code and, appended to *why, the message without its field path (`must be a finite number`).
#ifndef TALLY_SRC_RULES_H_
#define TALLY_SRC_RULES_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tally/options.h"
#include "tally/status.h"

namespace tally {
namespace detail {

/// event_id: present and a UUIDv7. LowerCaseHex normalizes one that passed (only such: it sets
/// bit 5 of every byte that has bit 6, which lowers exactly the letters of a UUID).
Code CheckEventId(std::string_view id, std::string* why);
void LowerCaseHex(std::string* id);

/// What a caller knows of a string it asks about: `kUnchecked`, nothing; `kUtf8`, it is
/// well-formed UTF-8 (text the JsonReader decoded); `kAscii`, it is ASCII too. The streaming
/// pass knows it from the read, so the rules skip work the reader already did.
enum class Known : uint8_t { kUnchecked, kUtf8, kAscii };

/// Names and ids: valid UTF-8, at most max_chars code points (never truncated: a cut id would
/// attribute the event to someone else).
Code CheckIdLike(std::string_view s, size_t max_chars, std::string* why,
                 Known known = Known::kUnchecked);
/// name: non-empty, then CheckIdLike.
Code CheckName(std::string_view name, size_t max_chars, std::string* why,
               Known known = Known::kUnchecked);
/// Reported at `user_id` when neither user_id nor anonymous_id is given.
extern const char kUnattributed[];
Code CheckCreatedAt(int64_t ms, const ValidationOptions& o, std::string* why);
/// The number of top-level members of properties (max_properties) or context (max_members).
Code CheckRootCount(size_t n, bool properties, const ValidationOptions& o, std::string* why);
/// An object key inside properties or context.
Code CheckKey(std::string_view key, std::string* why, Known known = Known::kUnchecked);
Code CheckFinite(double d, std::string* why);
/// A container at nesting level `depth` (properties itself is level 1).
Code CheckDepth(size_t depth, const ValidationOptions& o, std::string* why);
/// Elements of an array, or members of a nested object.
Code CheckMemberCount(size_t n, bool array, const ValidationOptions& o, std::string* why);
/// A string value: UTF-8, then its length against max_chars (under kTruncate, *keep_bytes
/// becomes the length of the prefix to keep; else it is s.size()), then, when `typed` (inside
/// properties), the date and link rules on the kept text.
Code CheckStringValue(std::string_view s, size_t max_chars, OverlongString overlong, bool typed,
                      size_t* keep_bytes, std::string* why, Known known = Known::kUnchecked);
/// Money, {"amount": 1999, "currency": "EUR"}: an object holding both keys. `members`: how many
/// it has. Then the amount (`amount_type`: null when it is a finite number, else what it is:
/// "a number" for a non-finite one, JsonTypeName otherwise) and the currency (`currency`: its
/// text when it is a string, else null and `currency_type` says what it is).
Code CheckMoneyShape(size_t members, std::string* why);
Code CheckMoneyAmount(const char* amount_type, std::string* why);
Code CheckMoneyCurrency(const std::string_view* currency, const char* currency_type,
                        std::string* why);
/// A member of a rich link {"url": ..., "value": ...}, before its string rules: `text` is null
/// when the value is not a string (`type` then says what it is).
Code CheckRichLinkMember(std::string_view key, const std::string_view* text, const char* type,
                         std::string* why);
/// The whole encoded event; the message is complete (`event: encoded size ...`).
Code CheckEncodedSize(size_t bytes, const ValidationOptions& o, std::string* why);

}  // namespace detail
}  // namespace tally

#endif  // TALLY_SRC_RULES_H_
