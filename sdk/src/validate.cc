// Event validation: the rules are the contract in validate.h. The browser SDK and the collector
// run this same code, so an event the page accepts is one the collector accepts.

#include "tally/validate.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "json_internal.h"
#include "tally/codec.h"

namespace tally {
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

bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

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

class Validator {
 public:
  explicit Validator(const ValidationOptions& options) : o_(options) {}

  Status Run(Event* e) { return Check(e) ? Status::Ok() : error_; }

 private:
  bool Check(Event* e) {
    path_ = "event_id";
    if (e->event_id.empty()) return Fail("is required (a UUIDv7)");
    if (!IsUuidV7(e->event_id)) {
      return Fail("must be a UUIDv7 (8-4-4-4-12 hex digits, version 7), got " +
                  detail::QuoteForMessage(e->event_id));
    }
    for (char& c : e->event_id) {
      if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    }

    path_ = "name";
    if (e->name.empty()) return Fail("must not be empty");
    if (!CheckIdLike(e->name, o_.max_name_chars)) return false;
    path_ = "user_id";
    if (!CheckIdLike(e->user_id, o_.max_id_chars)) return false;
    path_ = "anonymous_id";
    if (!CheckIdLike(e->anonymous_id, o_.max_id_chars)) return false;
    path_ = "session_id";
    if (!CheckIdLike(e->session_id, o_.max_id_chars)) return false;
    if (e->user_id.empty() && e->anonymous_id.empty()) {
      path_ = "user_id";
      return Fail("required when there is no anonymous_id (the event could not be attributed)");
    }

    if (e->created_at_ms < o_.min_created_at_ms || e->created_at_ms > o_.max_created_at_ms) {
      path_ = "created_at";
      std::string m = "must be within [";
      detail::AppendInt(o_.min_created_at_ms, &m);
      m += ", ";
      detail::AppendInt(o_.max_created_at_ms, &m);
      m += "] ms since epoch, got ";
      detail::AppendInt(e->created_at_ms, &m);
      return Fail(m);
    }

    path_ = "properties";
    if (!CheckRoot(&e->properties, true)) return false;
    path_ = "context";
    if (!CheckRoot(&e->context, false)) return false;

    // Last, so that truncation has happened. Encoding costs about as much as parsing did;
    // cheaper than a second, size-only writer that would have to agree with it byte for byte.
    std::string encoded;
    encoded.reserve(512);
    EncodeEvent(*e, &encoded);
    if (encoded.size() > o_.max_event_bytes) {
      std::string m = "event: encoded size ";
      detail::AppendInt(static_cast<int64_t>(encoded.size()), &m);
      m += " bytes is over the limit of ";
      detail::AppendInt(static_cast<int64_t>(o_.max_event_bytes), &m);
      error_ = Status::TooLarge(std::move(m));
      return false;
    }
    return true;
  }

  bool Fail(const std::string& message, Code code = Code::kInvalidArgument) {
    std::string m = path_;
    m += ": ";
    m += message;
    error_ = code == Code::kTooLarge ? Status::TooLarge(std::move(m))
                                     : Status::InvalidArgument(std::move(m));
    return false;
  }

  bool FailTooLong(size_t chars, size_t limit) {
    std::string m = "longer than ";
    detail::AppendInt(static_cast<int64_t>(limit), &m);
    m += " characters (";
    detail::AppendInt(static_cast<int64_t>(chars), &m);
    m += ')';
    return Fail(m);
  }

  // Names and ids are never truncated: a cut id would silently attribute to someone else.
  bool CheckIdLike(const std::string& s, size_t max_chars) {
    if (!IsValidUtf8(s)) return Fail("must be valid UTF-8");
    const size_t chars = Utf8Length(s);
    if (chars > max_chars) return FailTooLong(chars, max_chars);
    return true;
  }

  bool CheckRoot(Json* root, bool properties) {
    if (!root->is_object()) {
      return Fail(std::string("must be an object, got ") + detail::JsonTypeName(*root));
    }
    const size_t n = root->as_object().size();
    const size_t limit = properties ? o_.max_properties : o_.max_members;
    if (n > limit) {
      std::string m = "more than ";
      detail::AppendInt(static_cast<int64_t>(limit), &m);
      m += properties ? " properties (" : " members (";
      detail::AppendInt(static_cast<int64_t>(n), &m);
      m += ')';
      return Fail(m, Code::kTooLarge);
    }
    in_properties_ = properties;
    max_string_chars_ = properties ? o_.max_string_chars : o_.max_context_string_chars;
    return CheckMembers(root, 1);
  }

  // Checks the members of an object at `depth` whose member count is already bounded.
  bool CheckMembers(Json* object, size_t depth) {
    for (Json::Member& m : object->as_object()) {
      if (m.first.empty()) return Fail("keys must not be empty");
      if (!IsValidUtf8(m.first)) return Fail("keys must be valid UTF-8");
      const size_t saved = path_.size();
      detail::AppendPathKey(m.first, &path_);
      if (!CheckValue(&m.second, depth + 1)) return false;
      path_.resize(saved);
    }
    return true;
  }

  // `depth` is the nesting level `value` would have if it is a container.
  bool CheckValue(Json* value, size_t depth) {
    switch (value->type()) {
      case Json::Type::kNull:
      case Json::Type::kBool:
        return true;
      case Json::Type::kNumber:
        if (!std::isfinite(value->as_number())) return Fail("must be a finite number");
        return true;
      case Json::Type::kString:
        return CheckString(&value->as_string());
      case Json::Type::kArray:
      case Json::Type::kObject:
        break;
    }
    if (depth > o_.max_depth) {
      std::string m = "nested deeper than ";
      detail::AppendInt(static_cast<int64_t>(o_.max_depth), &m);
      m += " levels";
      return Fail(m, Code::kTooLarge);
    }
    const size_t n = value->is_array() ? value->as_array().size() : value->as_object().size();
    if (n > o_.max_members) {
      std::string m = "more than ";
      detail::AppendInt(static_cast<int64_t>(o_.max_members), &m);
      m += value->is_array() ? " elements (" : " members (";
      detail::AppendInt(static_cast<int64_t>(n), &m);
      m += ')';
      return Fail(m, Code::kTooLarge);
    }
    if (value->is_array()) {
      Json::Array& items = value->as_array();
      for (size_t i = 0; i < items.size(); ++i) {
        const size_t saved = path_.size();
        detail::AppendPathIndex(i, &path_);
        if (!CheckValue(&items[i], depth + 1)) return false;
        path_.resize(saved);
      }
      return true;
    }
    if (in_properties_) {
      const Json* amount = value->Find("amount");
      const Json* currency = value->Find("currency");
      if (amount != nullptr && currency != nullptr) return CheckMoney(*value, *amount, *currency);
      const Json* url = value->Find("url");
      if (url != nullptr && n == 2 && value->Find("value") != nullptr) return CheckRichLink(value);
    }
    return CheckMembers(value, depth);
  }

  // {"amount": 1999, "currency": "EUR"}: an object holding both keys is a money value.
  bool CheckMoney(const Json& money, const Json& amount, const Json& currency) {
    if (money.as_object().size() != 2) {
      return Fail("a money value must have exactly the members amount and currency");
    }
    const size_t saved = path_.size();
    detail::AppendPathKey("amount", &path_);
    if (!amount.is_number() || !std::isfinite(amount.as_number())) {
      return Fail(std::string("must be a finite number, got ") + detail::JsonTypeName(amount));
    }
    path_.resize(saved);
    detail::AppendPathKey("currency", &path_);
    if (!currency.is_string() || !IsCurrencyCode(currency.as_string())) {
      std::string got = currency.is_string() ? detail::QuoteForMessage(currency.as_string())
                                             : detail::JsonTypeName(currency);
      return Fail("must be an ISO 4217 currency code, got " + got);
    }
    path_.resize(saved);
    return true;
  }

  // {"url": "https://...", "value": "shown text"}: Intercom's rich link.
  bool CheckRichLink(Json* link) {
    const size_t saved = path_.size();
    for (Json::Member& m : link->as_object()) {
      detail::AppendPathKey(m.first, &path_);
      if (!m.second.is_string()) {
        return Fail(std::string("must be a string, got ") + detail::JsonTypeName(m.second));
      }
      if (m.first == "url" && LinkSchemeLength(m.second.as_string()) == 0) {
        return Fail("must be an http or https URL, got " +
                    detail::QuoteForMessage(m.second.as_string()));
      }
      if (!CheckString(&m.second.as_string())) return false;
      path_.resize(saved);
    }
    return true;
  }

  bool CheckString(std::string* s) {
    if (!IsValidUtf8(*s)) return Fail("must be valid UTF-8");
    if (s->size() > max_string_chars_) {  // bytes >= code points: count only when it may matter
      const size_t chars = Utf8Length(*s);
      if (chars > max_string_chars_) {
        if (o_.overlong_strings == OverlongString::kReject) {
          return FailTooLong(chars, max_string_chars_);
        }
        s->resize(Utf8Prefix(*s, max_string_chars_).size());
      }
    }
    if (!in_properties_) return true;
    if (LooksLikeDate(*s) && !IsIsoDateOrDateTime(*s)) {
      return Fail(
          "must be a valid ISO 8601 date (YYYY-MM-DD) or date-time "
          "(YYYY-MM-DDThh:mm[:ss[.fff]][Z|+hh:mm]), got " +
          detail::QuoteForMessage(*s));
    }
    if (LinkSchemeLength(*s) != 0) {
      if (const char* problem = LinkProblem(*s)) {
        return Fail(std::string("a link ") + problem + ", got " + detail::QuoteForMessage(*s));
      }
    }
    return true;
  }

  const ValidationOptions& o_;
  std::string path_;
  Status error_;
  bool in_properties_ = true;
  size_t max_string_chars_ = 0;
};

}  // namespace

bool IsUuidV7(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < 36; ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
    } else if (!IsHex(s[i])) {
      return false;
    }
  }
  // Version 7, and the RFC 9562 variant (10xx).
  const char variant = s[19];
  return s[14] == '7' && (variant == '8' || variant == '9' || variant == 'a' || variant == 'b' ||
                          variant == 'A' || variant == 'B');
}

Status ValidateEvent(Event* event, const ValidationOptions& options) {
  return Validator(options).Run(event);
}

}  // namespace tally
