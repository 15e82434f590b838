#include "rules.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "json_internal.h"
#include "tally/json.h"
#include "tally/validate.h"

namespace tally {
namespace detail {
namespace {

// Active ISO 4217 codes (including fund and precious-metal codes, excluding XTS "testing" and
// XXX "no currency"), sorted, three letters each, searched by bisection. A compact string keeps
// the Wasm module small.
constexpr char kCurrencies[] =
    "AEDAFNALLAMDANGAOAARSAUDAWGAZNBAMBBDBDTBGNBHDBIFBMDBNDBOBBOVBRLBSDBTNBWPBYNBZDCADCDFCHE"
    "CHFCHWCLFCLPCNYCOPCOUCRCCUCCUPCVECZKDJFDKKDOPDZDEGPERNETBEURFJDFKPGBPGELGHSGIPGMDGNFGTQ"
    "GYDHKDHNLHTGHUFIDRILSINRIQDIRRISKJMDJODJPYKESKGSKHRKMFKPWKRWKWDKYDKZTLAKLBPLKRLRDLSLLYD"
    "MADMDLMGAMKDMMKMNTMOPMRUMURMVRMWKMXNMXVMYRMZNNADNGNNIONOKNPRNZDOMRPABPENPGKPHPPKRPLNPYG"
    "QARRONRSDRUBRWFSARSBDSCRSDGSEKSGDSHPSLESLLSOSSRDSSPSTNSVCSYPSZLTHBTJSTMTTNDTOPTRYTTDTWD"
    "TZSUAHUGXUSDUSNUYIUYUUYWUZSVEDVESVNDVUVWSTXAFXAGXAUXBAXBBXBCXBDXCDXCGXDRXOFXPDXPFXPTXSU"
    "XUAYERZARZMWZWGZWL";

bool IsCurrencyCode(std::string_view s) {
  if (s.size() != 3) return false;
  size_t lo = 0, hi = (sizeof kCurrencies - 1) / 3;
  while (lo < hi) {
    const size_t mid = (lo + hi) / 2;
    const int c = std::memcmp(kCurrencies + 3 * mid, s.data(), 3);
    if (c == 0) return true;
    if (c < 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return false;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Whether each of the 8 bytes at p is a hex digit (either case). Per byte, ((x | 0x80) - c)
// keeps the high bit when x >= c, and ((c | 0x80) - x) when x <= c (x below 0x80: no borrow).
bool AllHex8(const char* p) {
  constexpr uint64_t k01 = 0x0101010101010101ULL, k80 = k01 * 0x80;
  uint64_t w;
  std::memcpy(&w, p, 8);
  if ((w & k80) != 0) return false;
  const uint64_t lower = w | (k01 * 0x20);  // 'A'-'F' become 'a'-'f'
  const uint64_t digit = ((w | k80) - k01 * '0') & ((k01 * '9' | k80) - w);
  const uint64_t letter = ((lower | k80) - k01 * 'a') & ((k01 * 'f' | k80) - lower);
  return ((digit | letter) & k80) == k80;
}

// Reads `n` digits at s[*i] as a number.
bool ReadDigits(std::string_view s, size_t* i, size_t n, int* out) {
  if (s.size() < *i + n) return false;
  int v = 0;
  for (size_t k = 0; k < n; ++k) {
    const char c = s[*i + k];
    if (!IsDigit(c)) return false;
    v = v * 10 + (c - '0');
  }
  *i += n;
  *out = v;
  return true;
}

bool LooksLikeDate(std::string_view s) {
  return s.size() >= 10 && IsDigit(s[0]) && IsDigit(s[1]) && IsDigit(s[2]) && IsDigit(s[3]) &&
         s[4] == '-' && IsDigit(s[5]) && IsDigit(s[6]) && s[7] == '-' && IsDigit(s[8]) &&
         IsDigit(s[9]);
}

// YYYY-MM-DD, or YYYY-MM-DDThh:mm[:ss[.f+]][Z|±hh:mm]. Requires LooksLikeDate(s).
bool IsIsoDateOrDateTime(std::string_view s) {
  size_t i = 0;
  int year = 0, month = 0, day = 0;
  ReadDigits(s, &i, 4, &year);
  ++i;
  ReadDigits(s, &i, 2, &month);
  ++i;
  ReadDigits(s, &i, 2, &day);
  if (month < 1 || month > 12 || day < 1) return false;
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (day > kDays[month - 1] + (month == 2 && leap ? 1 : 0)) return false;
  if (i == s.size()) return true;

  if (s[i] != 'T') return false;
  ++i;
  int hour = 0, minute = 0, second = 0;
  if (!ReadDigits(s, &i, 2, &hour) || hour > 23) return false;
  if (i >= s.size() || s[i] != ':') return false;
  ++i;
  if (!ReadDigits(s, &i, 2, &minute) || minute > 59) return false;
  if (i < s.size() && s[i] == ':') {
    ++i;
    if (!ReadDigits(s, &i, 2, &second) || second > 60) return false;  // 60: a leap second
    if (i < s.size() && s[i] == '.') {
      ++i;
      const size_t start = i;
      while (i < s.size() && IsDigit(s[i])) ++i;
      if (i == start) return false;
    }
  }
  if (i == s.size()) return true;  // a local time
  if (s[i] == 'Z') return i + 1 == s.size();
  if (s[i] != '+' && s[i] != '-') return false;
  ++i;
  int oh = 0, om = 0;
  if (!ReadDigits(s, &i, 2, &oh) || oh > 23) return false;
  if (i >= s.size() || s[i] != ':') return false;
  ++i;
  if (!ReadDigits(s, &i, 2, &om) || om > 59) return false;
  return i == s.size();
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

// Length of the "http://" or "https://" prefix of s, else 0.
size_t LinkSchemeLength(std::string_view s) {
  if (StartsWithNoCase(s, "http://")) return 7;
  if (StartsWithNoCase(s, "https://")) return 8;
  return 0;
}

// Why the http(s) URL `s` is not acceptable, or nullptr when it is.
const char* LinkProblem(std::string_view s) {
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c == 0x7f) return "must not contain spaces or control characters";
  }
  std::string_view rest = s.substr(LinkSchemeLength(s));
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);
  }
  std::string_view host, port;
  if (!authority.empty() && authority[0] == '[') {  // an IPv6 literal
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return "must have a host";
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return "must have a host";
      port = after.substr(1);
    }
  } else {
    const size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (host.empty()) return "must have a host";
  if (port.size() > 5 || !std::all_of(port.begin(), port.end(), IsDigit)) {
    return "must have a numeric port";
  }
  return nullptr;
}

Code Too(Code code, std::string_view message, std::string* why) {
  why->append(message.data(), message.size());
  return code;
}

Code Invalid(std::string_view message, std::string* why) {
  return Too(Code::kInvalidArgument, message, why);
}

// "more than <limit><noun> (<n>)"
Code MoreThan(size_t limit, const char* noun, size_t n, std::string* why) {
  why->append("more than ");
  AppendInt(static_cast<int64_t>(limit), why);
  why->append(noun);
  AppendInt(static_cast<int64_t>(n), why);
  why->push_back(')');
  return Code::kTooLarge;
}

}  // namespace

const char kUnattributed[] =
    "required when there is no anonymous_id (the event could not be attributed)";

Code CheckEventId(std::string_view id, std::string* why) {
  if (id.empty()) return Invalid("is required (a UUIDv7)", why);
  if (!IsUuidV7(id)) {
    return Invalid(
        "must be a UUIDv7 (8-4-4-4-12 hex digits, version 7), got " + QuoteForMessage(id), why);
  }
  return Code::kOk;
}

void LowerCaseHex(std::string* id) {
  // Of the bytes of a UUID (digits, '-', a-f, A-F) only the letters have bit 6 set, and setting
  // their bit 5 lowers them: 8 bytes at a time, then the rest.
  char* p = &(*id)[0];
  char* end = p + id->size();
  for (; end - p >= 8; p += 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    w |= (w & 0x4040404040404040ULL) >> 1;
    std::memcpy(p, &w, 8);
  }
  for (; p != end; ++p) {
    if ((*p & 0x40) != 0) *p = static_cast<char>(*p | 0x20);
  }
}

Code CheckIdLike(std::string_view s, size_t max_chars, std::string* why, Known known) {
  if (known == Known::kUnchecked && !IsValidUtf8(s)) return Invalid("must be valid UTF-8", why);
  if (s.size() <= max_chars) return Code::kOk;  // bytes >= code points
  const size_t chars = known == Known::kAscii ? s.size() : Utf8Length(s);
  if (chars > max_chars) {
    why->append("longer than ");
    AppendInt(static_cast<int64_t>(max_chars), why);
    why->append(" characters (");
    AppendInt(static_cast<int64_t>(chars), why);
    why->push_back(')');
    return Code::kInvalidArgument;
  }
  return Code::kOk;
}

Code CheckName(std::string_view name, size_t max_chars, std::string* why, Known known) {
  if (name.empty()) return Invalid("must not be empty", why);
  return CheckIdLike(name, max_chars, why, known);
}

Code CheckCreatedAt(int64_t ms, const ValidationOptions& o, std::string* why) {
  if (ms >= o.min_created_at_ms && ms <= o.max_created_at_ms) return Code::kOk;
  why->append("must be within [");
  AppendInt(o.min_created_at_ms, why);
  why->append(", ");
  AppendInt(o.max_created_at_ms, why);
  why->append("] ms since epoch, got ");
  AppendInt(ms, why);
  return Code::kInvalidArgument;
}

Code CheckRootCount(size_t n, bool properties, const ValidationOptions& o, std::string* why) {
  const size_t limit = properties ? o.max_properties : o.max_members;
  if (n <= limit) return Code::kOk;
  return MoreThan(limit, properties ? " properties (" : " members (", n, why);
}

Code CheckKey(std::string_view key, std::string* why, Known known) {
  if (key.empty()) return Invalid("keys must not be empty", why);
  if (known == Known::kUnchecked && !IsValidUtf8(key)) {
    return Invalid("keys must be valid UTF-8", why);
  }
  return Code::kOk;
}

Code CheckFinite(double d, std::string* why) {
  return std::isfinite(d) ? Code::kOk : Invalid("must be a finite number", why);
}

Code CheckDepth(size_t depth, const ValidationOptions& o, std::string* why) {
  if (depth <= o.max_depth) return Code::kOk;
  why->append("nested deeper than ");
  AppendInt(static_cast<int64_t>(o.max_depth), why);
  why->append(" levels");
  return Code::kTooLarge;
}

Code CheckMemberCount(size_t n, bool array, const ValidationOptions& o, std::string* why) {
  if (n <= o.max_members) return Code::kOk;
  return MoreThan(o.max_members, array ? " elements (" : " members (", n, why);
}

Code CheckStringValue(std::string_view s, size_t max_chars, OverlongString overlong, bool typed,
                      size_t* keep_bytes, std::string* why, Known known) {
  *keep_bytes = s.size();
  if (known == Known::kUnchecked && !IsValidUtf8(s)) return Invalid("must be valid UTF-8", why);
  if (s.size() > max_chars) {  // bytes >= code points: count only when it may matter
    const size_t chars = known == Known::kAscii ? s.size() : Utf8Length(s);
    if (chars > max_chars) {
      if (overlong == OverlongString::kReject) return CheckIdLike(s, max_chars, why, known);
      s = Utf8Prefix(s, max_chars);
      *keep_bytes = s.size();
    }
  }
  if (!typed) return Code::kOk;
  if (LooksLikeDate(s) && !IsIsoDateOrDateTime(s)) {
    return Invalid(
        "must be a valid ISO 8601 date (YYYY-MM-DD) or date-time "
        "(YYYY-MM-DDThh:mm[:ss[.fff]][Z|+hh:mm]), got " +
            QuoteForMessage(s),
        why);
  }
  if (LinkSchemeLength(s) != 0) {
    if (const char* problem = LinkProblem(s)) {
      return Invalid(std::string("a link ") + problem + ", got " + QuoteForMessage(s), why);
    }
  }
  return Code::kOk;
}

Code CheckMoneyShape(size_t members, std::string* why) {
  if (members == 2) return Code::kOk;
  return Invalid("a money value must have exactly the members amount and currency", why);
}

Code CheckMoneyAmount(const char* amount_type, std::string* why) {
  if (amount_type == nullptr) return Code::kOk;
  return Invalid(std::string("must be a finite number, got ") + amount_type, why);
}

Code CheckMoneyCurrency(const std::string_view* currency, const char* currency_type,
                        std::string* why) {
  if (currency != nullptr && IsCurrencyCode(*currency)) return Code::kOk;
  return Invalid(
      "must be an ISO 4217 currency code, got " +
          (currency != nullptr ? QuoteForMessage(*currency) : std::string(currency_type)),
      why);
}

Code CheckRichLinkMember(std::string_view key, const std::string_view* text, const char* type,
                         std::string* why) {
  if (text == nullptr) return Invalid(std::string("must be a string, got ") + type, why);
  if (key == "url" && LinkSchemeLength(*text) == 0) {
    return Invalid("must be an http or https URL, got " + QuoteForMessage(*text), why);
  }
  return Code::kOk;
}

Code CheckEncodedSize(size_t bytes, const ValidationOptions& o, std::string* why) {
  if (bytes <= o.max_event_bytes) return Code::kOk;
  why->append("event: encoded size ");
  AppendInt(static_cast<int64_t>(bytes), why);
  why->append(" bytes is over the limit of ");
  AppendInt(static_cast<int64_t>(o.max_event_bytes), why);
  return Code::kTooLarge;
}

}  // namespace detail

bool IsUuidV7(std::string_view s) {
  // 8-4-4-4-12 hex digits: the dashes, then every byte a hex digit once they read '0'. Eight
  // bytes at a time (each event's id is checked, at the collector and in the browser).
  if (s.size() != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-') return false;
  char b[36];
  std::memcpy(b, s.data(), 36);
  b[8] = b[13] = b[18] = b[23] = '0';
  constexpr size_t kWords[] = {0, 8, 16, 24, 28};  // the last two overlap
  for (size_t at : kWords) {
    if (!detail::AllHex8(b + at)) return false;
  }
  // Version 7, and the RFC 9562 variant (10xx).
  const char variant = s[19];
  return s[14] == '7' && (variant == '8' || variant == '9' || variant == 'a' || variant == 'b' ||
                          variant == 'A' || variant == 'B');
}

}  // namespace tally
