// The streaming twin of DecodeEvent + ValidateEvent + EncodeEvent (contract in event_writer.h).
//
// The document path reports faults in a fixed priority, and this pass keeps it although it sees
// the text only once, in order:
//  1. a JSON fault anywhere (ParseJson reads the whole text first): reading stops at once;
//  2. a decoding fault of a top-level member (DecodeEvent walks members in text order): the
//     first one wins; the rest of the text is still read, for faults of kind 1;
//  3. validation, in ValidateEvent's order: event_id, name, ids, attribution, created_at, then
//     the first fault inside properties, then inside context (whatever their text order), then
//     the encoded size. Inside a container the document walk decides by what the whole
//     container holds (its depth, its member count, money or rich link, then its members in
//     order), so each container's first fault is kept pending and settled at its end.
#include "tally/event_writer.h"

#include <cmath>
#include <utility>

#include "event_writer_internal.h"
#include "json_internal.h"
#include "json_reader.h"
#include "rules.h"
#include "tally/codec.h"

namespace tally {
namespace {

using Token = detail::JsonReader::Token;

constexpr double kMaxExactInteger = 9007199254740992.0;  // 2^53, as the codec

const char* TypeName(Token t) {
  switch (t) {
    case Token::kNull:
      return "null";
    case Token::kBool:
      return "a boolean";
    case Token::kNumber:
      return "a number";
    case Token::kString:
      return "a string";
    case Token::kBeginArray:
      return "an array";
    default:
      return "an object";
  }
}

// Whether Validate may be asked for the encoded size without the text (the collector's batch
// decoder, which stores the documents instead). The browser core always wants the text, and
// this keeps the counting code out of its module.
#ifdef TALLY_BROWSER_CORE
constexpr bool kMeasureOnly = false;
#else
constexpr bool kMeasureOnly = true;
#endif

// The members of an event, by their key. Matched as string_views of known length (no strlen or
// out-of-line compare per candidate: the collector reads nine keys per event).
enum class Field : uint8_t {
  kEventId,
  kType,
  kName,
  kUserId,
  kAnonymousId,
  kSessionId,
  kCreatedAt,
  kProperties,
  kContext,
  kUnknown
};
constexpr std::string_view kFieldNames[] = {"event_id",   "type",         "name",
                                            "user_id",    "anonymous_id", "session_id",
                                            "created_at", "properties",   "context"};

Field FieldOf(std::string_view key) {
  for (size_t i = 0; i < sizeof(kFieldNames) / sizeof(kFieldNames[0]); ++i) {
    const std::string_view name = kFieldNames[i];
    // (the first byte before memcmp: three fields are 10 bytes long)
    if (key.size() == name.size() && key[0] == name[0] && key == name) {
      return static_cast<Field>(i);
    }
  }
  return Field::kUnknown;
}

// Where the pass writes properties and context, as WriteJson would. Each part whose written form
// is its own text in the input (a compact object without escapes, as JSON.stringify and
// EncodeEvent write it) only extends a run of the input, appended when something else must be
// written: such an object costs one append instead of one per token. Whatever is appended, the
// run holds exactly the bytes it stands for, so the output cannot differ from writing each part.
//
// The browser module (TALLY_JSON_LITE) appends each part at once instead: the same output with
// less code, where bytes downloaded count more than instructions.
class RunWriter {
 public:
#ifdef TALLY_JSON_LITE
  RunWriter(std::string* out, std::string_view) : out_(out) {}
  void Copy(std::string_view raw) { out_->append(raw.data(), raw.size()); }
  void Put(char c) { out_->push_back(c); }
  std::string* Write(std::string_view) { return out_; }
  std::string* Flushed() { return out_; }

 private:
  std::string* out_;
#else
  RunWriter(std::string* out, std::string_view input)
      : out_(out), run_begin_(input.data() + input.size()), run_end_(run_begin_), end_(run_end_) {}
  ~RunWriter() { Flush(); }

  // A part written as its text in the input, `raw`.
  void Copy(std::string_view raw) {
    if (raw.data() != run_end_) {
      Flush();
      run_begin_ = raw.data();
    }
    run_end_ = raw.data() + raw.size();
  }
  // One byte of punctuation: the input's next byte when it is the same.
  void Put(char c) {
    if (run_end_ != end_ && *run_end_ == c) {
      ++run_end_;
    } else {
      Flush();
      out_->push_back(c);
    }
  }
  // For a part written otherwise than as its text in the input `raw`: the output so far, to
  // append the part to. The run resumes after `raw`.
  std::string* Write(std::string_view raw) {
    Flush();
    run_begin_ = run_end_ = raw.data() + raw.size();
    return out_;
  }
  // The output so far, to edit in place.
  std::string* Flushed() {
    Flush();
    return out_;
  }

 private:
  void Flush() {
    if (run_end_ == run_begin_) return;
    out_->append(run_begin_, static_cast<size_t>(run_end_ - run_begin_));
    run_begin_ = run_end_;
  }

  std::string* out_;
  const char* run_begin_;
  const char* run_end_;
  const char* end_;
#endif
};

detail::Known KnownOf(const detail::JsonReader& r) {
  return r.ascii() ? detail::Known::kAscii : detail::Known::kUtf8;
}

}  // namespace

class EventWriter::Pass {
 public:
  // `in_batch`: the reader is the batch decoder's, positioned inside a request's events array;
  // the pass reads one event and leaves the reader after its last token.
  Pass(EventWriter* w, detail::JsonReader* reader, bool in_batch = false)
      : w_(*w), o_(w->o_), r_(*reader), in_batch_(in_batch) {}

  Status Run(std::string* out, const Fill* fill) { return RunFrom(Next(), out, fill); }

  // The whole pass, once the event's first token `t` is read.
  Status RunFrom(Token t, std::string* out, const Fill* fill) {
    EventWriter& w = w_;
    w.event_id_.clear();
    w.name_.clear();
    w.user_id_.clear();
    w.anonymous_id_.clear();
    w.session_id_.clear();
    w.created_at_ms_ = 0;
    w.properties_.clear();  // stays empty when absent or null: "{}" then (Validate)
    w.context_.clear();
    w.type_ = EventType::kTrack;

    if (t == Token::kError) return r_.TakeStatus();
    if (t != Token::kBeginObject) {
      std::string got = Got(t);
      if (!Skip(t) || (!in_batch_ && Next() == Token::kError)) return r_.TakeStatus();
      if (fill != nullptr) return Status::InvalidArgument("event: must be a JSON object");
      return Status::InvalidArgument("event: must be an object" + got);
    }
    bool has_id = false, has_created_at = false;
    for (;;) {
      t = Next();
      if (t == Token::kError) return r_.TakeStatus();
      if (t == Token::kEndObject) break;
      const Field field = FieldOf(r_.text());
      std::string unknown;  // an unknown key's text, for its message
      if (field == Field::kUnknown) unknown.assign(r_.text().data(), r_.text().size());
      const std::string_view key =
          field == Field::kUnknown ? std::string_view(unknown) : kFieldNames[int(field)];
      if (field == Field::kCreatedAt) saw_created_at_ = true;
      t = Next();
      if (t == Token::kError) return r_.TakeStatus();
      if (!decode_.message.empty()) {  // a decoding fault is known: only read on
        if (!Skip(t)) return r_.TakeStatus();
        if (field == Field::kEventId) has_id = has_id || t != Token::kNull;
        if (field == Field::kCreatedAt) has_created_at = has_created_at || t != Token::kNull;
        continue;
      }
      bool ok = true;
      switch (field) {
        case Field::kEventId:
          has_id = t != Token::kNull;
          ok = ReadString(t, key, &w.event_id_, nullptr);
          break;
        case Field::kType:
          if (t != Token::kNull && (t != Token::kString || !ParseEventType(r_.text(), &w.type_))) {
            ok = DecodeFault(t, key, "must be one of track, page, identify");
          }
          break;
        case Field::kName:
          if (t != Token::kString) {
            ok = DecodeFault(t, key, "must be a string");
          } else {
            Assign(&w.name_, &name_known_);
          }
          break;
        case Field::kUserId:
          ok = ReadString(t, key, &w.user_id_, &user_id_known_);
          break;
        case Field::kAnonymousId:
          ok = ReadString(t, key, &w.anonymous_id_, &anonymous_id_known_);
          break;
        case Field::kSessionId:
          ok = ReadString(t, key, &w.session_id_, &session_id_known_);
          break;
        case Field::kCreatedAt: {
          has_created_at = t != Token::kNull;
          const double d = r_.number();
          if (fill != nullptr && t == Token::kNull) {
            // Filled below.
          } else if (t != Token::kNumber || d != std::trunc(d) || std::fabs(d) > kMaxExactInteger) {
            ok = DecodeFault(t, key, "must be an integer number of ms since epoch");
          } else {
            w.created_at_ms_ = static_cast<int64_t>(d);
          }
          break;
        }
        case Field::kProperties:
        case Field::kContext: {
          const bool properties = field == Field::kProperties;
          if (t == Token::kNull) continue;
          if (t != Token::kBeginObject) {
            ok = DecodeFault(t, key, "must be an object");
          } else if (!Root(properties, properties ? &w.properties_ : &w.context_,
                           properties ? &properties_fault_ : &context_fault_)) {
            return r_.TakeStatus();
          }
          break;
        }
        case Field::kUnknown:
          ok = DecodeFault(t, key,
                           "unknown field (expected event_id, type, name, user_id, "
                           "anonymous_id, session_id, created_at, properties, context)",
                           false);
          break;
      }
      if (!ok) return r_.TakeStatus();
    }
    if (!in_batch_ && Next() == Token::kError) return r_.TakeStatus();

    if (fill != nullptr) {
      // As Tracker::Track fills the document before decoding it: a missing id is made even when
      // the event then fails to decode.
      if (!has_id) w.event_id_ = fill->ids->Next(fill->now_ms);
      if (!has_created_at) w.created_at_ms_ = fill->now_ms;
    }
    if (!decode_.message.empty()) return Status::InvalidArgument(std::move(decode_.message));
    if (fill != nullptr) {
      if (w.event_id_.empty()) w.event_id_ = fill->ids->Next(fill->now_ms);
      if (w.created_at_ms_ == 0) w.created_at_ms_ = fill->now_ms;
    }
    return Validate(out);
  }

 private:
  Status Validate(std::string* out) {
    EventWriter& w = w_;
    if (w.properties_.empty()) w.properties_.assign("{}");
    if (w.context_.empty()) w.context_.assign("{}");
    std::string why;
    Code code = detail::CheckEventId(w.event_id_, &why);
    if (code != Code::kOk) return Refuse(code, "event_id", why);
    detail::LowerCaseHex(&w.event_id_);
    code = detail::CheckName(w.name_, o_.max_name_chars, &why, name_known_);
    if (code != Code::kOk) return Refuse(code, "name", why);
    code = detail::CheckIdLike(w.user_id_, o_.max_id_chars, &why, user_id_known_);
    if (code != Code::kOk) return Refuse(code, "user_id", why);
    code = detail::CheckIdLike(w.anonymous_id_, o_.max_id_chars, &why, anonymous_id_known_);
    if (code != Code::kOk) return Refuse(code, "anonymous_id", why);
    code = detail::CheckIdLike(w.session_id_, o_.max_id_chars, &why, session_id_known_);
    if (code != Code::kOk) return Refuse(code, "session_id", why);
    if (w.user_id_.empty() && w.anonymous_id_.empty()) {
      return Refuse(Code::kInvalidArgument, "user_id", detail::kUnattributed);
    }
    code = detail::CheckCreatedAt(w.created_at_ms_, o_, &why);
    if (code != Code::kOk) return Refuse(code, "created_at", why);
    if (properties_fault_.code != Code::kOk) return ToStatus(std::move(properties_fault_));
    if (context_fault_.code != Code::kOk) return ToStatus(std::move(context_fault_));

    const detail::EventHead head{w.event_id_,     w.type_,       w.name_,         w.user_id_,
                                 w.anonymous_id_, w.session_id_, w.created_at_ms_};
    constexpr std::string_view kContext = ",\"context\":";
    const bool with_context = w.context_.size() != 2;  // "{}" is omitted
    size_t size;
    if (kMeasureOnly && out == nullptr) {  // the batch decoder: the size alone
      size = detail::EventHeadSize(head, head_verbatim_) + w.properties_.size() +
             (with_context ? kContext.size() + w.context_.size() : 0) + 1;
    } else {
      out->clear();
      out->reserve(w.properties_.size() + w.context_.size() + w.name_.size() + 160);
      detail::AppendEventHead(head, out);
      out->append(w.properties_);
      if (with_context) {
        out->append(kContext.data(), kContext.size());
        out->append(w.context_);
      }
      out->push_back('}');
      size = out->size();
    }
    code = detail::CheckEncodedSize(size, o_, &why);
    if (code != Code::kOk) return ToStatus({code, std::move(why)});
    return Status::Ok();
  }

  static Status ToStatus(Fault f) {
    return f.code == Code::kTooLarge ? Status::TooLarge(std::move(f.message))
                                     : Status::InvalidArgument(std::move(f.message));
  }

  static Status Refuse(Code code, const char* field, std::string_view why) {
    std::string m = field;
    m += ": ";
    m.append(why.data(), why.size());
    return ToStatus({code, std::move(m)});
  }

  // `, got ...` as the codec writes it for a value starting with token t (read before Skip).
  std::string Got(Token t) {
    std::string s = ", got ";
    if (t == Token::kString) {
      s += detail::QuoteForMessage(r_.text());
    } else if (t == Token::kNumber) {
      detail::WriteNumber(r_.number(), &s);
    } else {
      s += TypeName(t);
    }
    return s;
  }

  // Records the first decoding fault (`key: message, got ...`) and reads past the value.
  // False on a JSON fault.
  bool DecodeFault(Token t, std::string_view key, const char* message, bool got = true) {
    std::string m;
    detail::AppendPathKey(key, &m);
    m += ": ";
    m += message;
    if (got) m += Got(t);
    decode_.message = std::move(m);
    return Skip(t);
  }

  // An optional string member; null is absent. *known: what the rules may take for granted.
  bool ReadString(Token t, std::string_view key, std::string* out, detail::Known* known) {
    if (t == Token::kNull) return true;
    if (t != Token::kString) return DecodeFault(t, key, "must be a string");
    Assign(out, known);
    return true;
  }

  // The string just read, to a member of the writer.
  void Assign(std::string* out, detail::Known* known) {
    const std::string_view text = r_.text();
    out->assign(text.data(), text.size());
    if (known != nullptr) *known = KnownOf(r_);
    head_verbatim_ = head_verbatim_ && r_.verbatim();
  }

  // Reads past the rest of a value whose first token is t. False on a JSON fault.
  bool Skip(Token t) { return r_.SkipValue(t, &duplicate_key_); }

  // properties or context, after its '{'. False on a JSON fault.
  bool Root(bool properties, std::string* text, Fault* fault) {
    text->clear();
    typed_ = properties;
    max_string_chars_ = properties ? o_.max_string_chars : o_.max_context_string_chars;
    root_ = properties ? "properties" : "context";
    steps_.clear();
    Fault first;
    size_t n = 0;
    {
      RunWriter out(text, input_);
      out.Copy(std::string_view(input_.data() + r_.offset(), 0));  // (the run starts at '{')
      if (!Members(1, out, &first, &n, nullptr)) return false;
    }
    std::string why;
    const Code code = detail::CheckRootCount(n, properties, o_, &why);
    *fault = code != Code::kOk ? At(code, why) : std::move(first);
    return true;
  }

  Fault At(Code code, std::string_view why) const {
    Fault f{code, Path()};
    if (!f.message.empty()) f.message += ": ";
    f.message.append(why.data(), why.size());
    return f;
  }

  // What an object inside properties holds, to settle money and rich links at its end.
  struct Shape {
    bool amount = false, currency = false, url = false, value = false;
    const char* amount_type = nullptr;  // null: a finite number
    std::string currency_text;
    const char* currency_type = nullptr;       // null: a string (currency_text)
    Fault link;                                // the first fault as a rich link
    size_t currency_at = 0, currency_cut = 0;  // a currency value truncated as a string
  };

  // The members of an object at `depth` (properties itself is 1), after its '{', up to and
  // including its '}', written to `out` with the braces. *first: its first member's fault.
  bool Members(size_t depth, RunWriter& out, Fault* first, size_t* n, Shape* shape) {
    out.Put('{');
    for (;;) {
      Token t = Next();
      if (t == Token::kError) return false;
      if (t == Token::kEndObject) break;
      const std::string_view key = r_.text();
      const std::string_view raw_key = r_.raw();  // for Path, while the value is read
      if (*n > 0) out.Put(',');
      ++*n;
      if (r_.verbatim()) {
        out.Copy(raw_key);
      } else {
        WriteJsonString(key, out.Write(raw_key));
      }
      out.Put(':');
      std::string why;
      const Code key_code = detail::CheckKey(key, &why, KnownOf(r_));
      if (key_code != Code::kOk && first->code == Code::kOk) *first = At(key_code, why);
      steps_.push_back({0, raw_key, false});
      t = Next();
      if (t == Token::kError) return false;
      // A currency is edited in place once written (Note): its offset must be known.
      std::string decoded;  // (KeyText's, for a key with escapes)
      const std::string_view noted = shape != nullptr ? KeyText(raw_key, &decoded) : key;
      const bool currency = shape != nullptr && noted == "currency" && t == Token::kString;
      const size_t value_at = currency ? out.Flushed()->size() : 0;
      Fault member;
      if (!Value(t, depth + 1, out, &member)) return false;
      if (shape != nullptr) Note(noted, t, value_at, out, member, shape);
      if (first->code == Code::kOk) *first = std::move(member);
      steps_.pop_back();
    }
    out.Put('}');
    return true;
  }

  // The text of a key read earlier, from its place in the input `raw`: a view of it unless it
  // has escapes (rare: then decoded again into *decoded).
  static std::string_view KeyText(std::string_view raw, std::string* decoded) {
    if (raw.find('\\') == std::string_view::npos) return raw.substr(1, raw.size() - 2);
    detail::JsonReader again(raw, 1);
    again.Next();
    decoded->assign(again.text().data(), again.text().size());
    return *decoded;
  }

  // Remembers what money and rich-link detection need of one member, just written to `out`
  // (from `value_at` when it is a currency string).
  void Note(std::string_view key, Token t, size_t value_at, RunWriter& out, const Fault& member,
            Shape* s) {
    if (key == "amount") {
      s->amount = true;
      s->amount_type = t == Token::kNumber ? nullptr : TypeName(t);
    } else if (key == "currency") {
      s->currency = true;
      s->currency_type = t == Token::kString ? nullptr : TypeName(t);
      if (t == Token::kString) {
        s->currency_text.assign(r_.text().data(), r_.text().size());
        // A money value's currency is not a string value: never truncated. Written whole
        // here; cut afterwards if the object is not money.
        std::string* text = out.Write(r_.raw());
        const size_t written = text->size() - value_at - 2;  // inside the quotes
        std::string_view code = s->currency_text;
        std::string ignored;
        if (written < code.size() &&
            detail::CheckMoneyCurrency(&code, nullptr, &ignored) == Code::kOk) {
          s->currency_at = value_at + 1 + written;
          s->currency_cut = code.size() - written;
          text->resize(value_at);
          WriteJsonString(code, text);
        }
      }
    } else if (key == "url" || key == "value") {
      (key == "url" ? s->url : s->value) = true;
    } else {
      return;
    }
    if (s->link.code != Code::kOk || (key != "url" && key != "value")) return;
    std::string why;
    std::string_view text;
    if (t == Token::kString) text = r_.text();
    const Code code =
        detail::CheckRichLinkMember(key, t == Token::kString ? &text : nullptr, TypeName(t), &why);
    if (code != Code::kOk) {
      s->link = At(code, why);
    } else {
      s->link = member;
    }
  }

  // One value whose first token is t, at nesting `depth` if it is a container.
  bool Value(Token t, size_t depth, RunWriter& out, Fault* fault) {
    std::string why;
    switch (t) {
      case Token::kNull:
      case Token::kBool:
        out.Copy(r_.raw());  // null, true or false, as written
        return true;
      case Token::kNumber: {
        const Code code = detail::CheckFinite(r_.number(), &why);
        if (code != Code::kOk) *fault = At(code, why);
        if (r_.verbatim()) {
          out.Copy(r_.raw());
        } else {
          detail::WriteNumber(r_.number(), out.Write(r_.raw()));
        }
        return true;
      }
      case Token::kString: {
        const std::string_view s = r_.text();
        size_t keep = 0;
        const Code code = detail::CheckStringValue(s, max_string_chars_, o_.overlong_strings,
                                                   typed_, &keep, &why, KnownOf(r_));
        if (code != Code::kOk) *fault = At(code, why);
        if (keep == s.size() && r_.verbatim()) {
          out.Copy(r_.raw());
        } else {
          WriteJsonString(s.substr(0, keep), out.Write(r_.raw()));
        }
        return true;
      }
      default:
        break;
    }
    Fault inner;
    size_t n = 0;
    if (t == Token::kBeginArray) {
      out.Put('[');
      for (;;) {
        t = Next();
        if (t == Token::kError) return false;
        if (t == Token::kEndArray) break;
        if (n > 0) out.Put(',');
        steps_.push_back({n, std::string_view(), true});
        Fault element;
        if (!Value(t, depth + 1, out, &element)) return false;
        if (inner.code == Code::kOk) inner = std::move(element);
        steps_.pop_back();
        ++n;
      }
      out.Put(']');
    } else {
      Shape shape;
      if (!Members(depth, out, &inner, &n, typed_ ? &shape : nullptr)) return false;
      if (typed_ && shape.amount && shape.currency) {
        // Money: its own rules replace those of its members, and it keeps its currency whole.
        shape.currency_cut = 0;
        inner = Fault();
        Code code = detail::CheckMoneyShape(n, &why);
        if (code != Code::kOk) {
          inner = At(code, why);
        } else {
          last_key_ = "amount";
          code = detail::CheckMoneyAmount(shape.amount_type, &why);
          if (code == Code::kOk) {
            last_key_ = "currency";
            std::string_view text = shape.currency_text;
            code = detail::CheckMoneyCurrency(shape.currency_type ? nullptr : &text,
                                              shape.currency_type, &why);
          }
          if (code != Code::kOk) inner = At(code, why);
          last_key_ = nullptr;
        }
      } else if (typed_ && shape.url && shape.value && n == 2) {
        inner = std::move(shape.link);
      }
      if (shape.currency_cut > 0) out.Flushed()->erase(shape.currency_at, shape.currency_cut);
    }
    // The container's own bounds come first: the document walk checks them before its content.
    const bool array = t != Token::kBeginObject;
    why.clear();
    Code code = detail::CheckDepth(depth, o_, &why);
    if (code == Code::kOk) code = detail::CheckMemberCount(n, array, o_, &why);
    *fault = code != Code::kOk ? At(code, why) : std::move(inner);
    return true;
  }

  // Every token goes through here: in the batch decoder's recording mode, a repeated key is
  // noted (the decoder then rejects the event with the document path's message).
  Token Next() {
    const Token t = r_.Next();
    if (t == Token::kKey && r_.duplicate()) duplicate_key_ = true;
    return t;
  }

 public:
  bool saw_created_at_ = false;  // a created_at member, even null
  bool duplicate_key_ = false;

 private:
  EventWriter& w_;
  const ValidationOptions& o_;
  detail::JsonReader& r_;
  const bool in_batch_;
  Fault decode_;
  Fault properties_fault_, context_fault_;
  // The path of the value being read, rendered only for a fault (Path()): "properties" or
  // "context", then one step per level (a member's key, as written in the input, or an array
  // element's index; EventWriter::Step), then last_key_ while money's members are checked.
  const char* root_ = "";
  std::vector<Step>& steps_ = w_.steps_;
  const char* last_key_ = nullptr;

  std::string Path() const {
    std::string p = root_;
    for (const Step& s : steps_) {
      if (s.is_index) {
        detail::AppendPathIndex(s.index, &p);
      } else {
        std::string decoded;
        detail::AppendPathKey(KeyText(s.raw_key, &decoded), &p);
      }
    }
    if (last_key_ != nullptr) detail::AppendPathKey(last_key_, &p);
    return p;
  }
  bool typed_ = true;
  size_t max_string_chars_ = 0;
  // What the reader vouched for of the strings of the writer (CheckIdLike skips that work).
  detail::Known name_known_ = detail::Known::kUnchecked;
  detail::Known user_id_known_ = detail::Known::kUnchecked;
  detail::Known anonymous_id_known_ = detail::Known::kUnchecked;
  detail::Known session_id_known_ = detail::Known::kUnchecked;
  // Every string of the event's head came from the input without escapes (so none needs one
  // when written; a filled-in event_id is hex and dashes).
  bool head_verbatim_ = true;
  const std::string_view input_ = r_.input();
};

Status EventWriter::Write(std::string_view json, std::string* out, const Fill* fill) {
  detail::JsonReader reader(json, JsonParseOptions().max_depth);
  return Pass(this, &reader).Run(out, fill);
}

namespace detail {

Status EventWriterInBatch::Write(EventWriter* writer, JsonReader* reader, JsonReader::Token first,
                                 Seen* seen) {
  EventWriter::Pass pass(writer, reader, /*in_batch=*/true);
  Status s = pass.RunFrom(first, nullptr, nullptr);
  seen->created_at = pass.saw_created_at_;
  seen->duplicate_key = pass.duplicate_key_;
  return s;
}

void EventWriterInBatch::Take(EventWriter* writer, Event* event, EventDocsJson* docs) {
  // Moved, not swapped: libstdc++'s string::swap is out of line and costly; a moved-from
  // string is empty, which is all the next Write needs.
  event->event_id = std::move(writer->event_id_);
  event->type = writer->type_;
  event->name = std::move(writer->name_);
  event->user_id = std::move(writer->user_id_);
  event->anonymous_id = std::move(writer->anonymous_id_);
  event->session_id = std::move(writer->session_id_);
  event->created_at_ms = writer->created_at_ms_;
  docs->properties = std::move(writer->properties_);
  docs->context = std::move(writer->context_);
}

}  // namespace detail

}  // namespace tally
