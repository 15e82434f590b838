// The batch format of POST /v1/batch (pinned in shared/DESIGN.md, "The wire protocol"). The
// browser SDK writes it with EncodeEvent + EncodeBatch; the collector reads it with DecodeBatch.
//
//   batch      = "{" "\"write_key\":" string
//                    ",\"sent_at\":" int
//                    [ ",\"clock_offset_ms\":" int ]
//                    ",\"events\":[" [ event *( "," event ) ] "]"
//                "}"
//   event      = "{" [ "\"event_id\":" string "," ]        ; UUIDv7, lower case; omitted if empty
//                    "\"type\":" ( "\"track\"" | "\"page\"" | "\"identify\"" )
//                    ",\"name\":" string
//                    [ ",\"user_id\":" string ]            ; each id omitted when empty
//                    [ ",\"anonymous_id\":" string ]
//                    [ ",\"session_id\":" string ]
//                    ",\"created_at\":" int                 ; ms since epoch, device clock
//                    ",\"properties\":" object
//                    [ ",\"context\":" object ]             ; omitted when empty
//                "}"
//   int        = an integer written without fraction or exponent, |n| <= 2^53
//   string, object: compact JSON as WriteJson writes it (RFC 8259, UTF-8, no whitespace).
//
// The encoder writes exactly this, so a decoded-then-re-encoded event is byte-identical. The
// decoder is more lenient in the ways other clients differ: any member order and whitespace;
// `type` absent means track; null stands for an absent optional member (ids, type, properties,
// context, write_key, sent_at, clock_offset_ms); numbers may be written as 1731681120123.0.
// It stays strict where leniency would hide a bug: an unknown member of an event is an error
// naming it, and so is any wrong type. Unknown members of the batch object are ignored, so a
// newer client can add batch-level metadata without breaking older collectors.
//
// Whole-request failures (DecodeBatch's Status, answered 400 by the collector): the body is not
// JSON (syntax, NaN/Infinity, invalid UTF-8, a key repeated outside any event), nested deeper
// than BatchLimits::json.max_depth (kTooLarge), not an object, `events` missing or not an array,
// more than max_events events (kTooLarge), write_key not a string, sent_at or clock_offset_ms
// not an integer. Everything about one event lands in DecodedBatch::rejected as
// `events[i].<field>: <message>`, including a key repeated inside that event: the parser records
// repeated keys with their path instead of failing, so one sloppy event cannot sink its batch
// (DESIGN.md lesson 7).

#include "tally/codec.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>

#include "event_writer_internal.h"
#include "json_internal.h"
#include "json_reader.h"
#include "tally/event_writer.h"
#include "tally/validate.h"

namespace tally {
namespace {

constexpr double kMaxExactInteger = 9007199254740992.0;  // 2^53

// An integer a double holds exactly: what JSON integers of ms since epoch need.
bool AsExactInt64(double d, int64_t* out) {
  if (!std::isfinite(d) || d != std::trunc(d) || std::fabs(d) > kMaxExactInteger) return false;
  *out = static_cast<int64_t>(d);
  return true;
}

bool AsExactInt64(const Json& value, int64_t* out) {
  return value.is_number() && AsExactInt64(value.as_number(), out);
}

std::string Got(const Json& value) {
  std::string s = ", got ";
  if (value.is_number() || value.is_string()) {
    s += value.is_string() ? detail::QuoteForMessage(value.as_string()) : ToJsonString(value);
  } else {
    s += detail::JsonTypeName(value);
  }
  return s;
}

Status FieldError(std::string_view field, std::string_view message) {
  std::string m;
  detail::AppendPathKey(field, &m);
  m += ": ";
  m.append(message.data(), message.size());
  return Status::InvalidArgument(std::move(m));
}

bool IsAbsent(const Json* v) { return v == nullptr || v->is_null(); }

// Reads an optional string member; null is absent.
Status ReadString(Json* value, std::string_view field, std::string* out) {
  if (value->is_null()) return Status::Ok();
  if (!value->is_string()) return FieldError(field, std::string("must be a string") + Got(*value));
  *out = std::move(value->as_string());
  return Status::Ok();
}

// Decodes an event object, moving its strings and objects out of `object`.
Status DecodeEventFrom(Json* object, Event* out) {
  if (!object->is_object()) {
    return Status::InvalidArgument(std::string("event: must be an object") + Got(*object));
  }
  for (Json::Member& m : object->as_object()) {
    // string_view == literal compares lengths first, inline; std::string == const char* was a
    // strlen and an out-of-line compare per candidate (5% of the collector's instructions).
    const std::string_view key = m.first;
    Json* v = &m.second;
    Status s;
    if (key == "event_id") {
      s = ReadString(v, key, &out->event_id);
    } else if (key == "type") {
      if (v->is_null()) continue;
      if (!v->is_string() || !ParseEventType(v->as_string(), &out->type)) {
        s = FieldError(key, std::string("must be one of track, page, identify") + Got(*v));
      }
    } else if (key == "name") {
      if (!v->is_string()) {
        s = FieldError(key, std::string("must be a string") + Got(*v));
      } else {
        out->name = std::move(v->as_string());
      }
    } else if (key == "user_id") {
      s = ReadString(v, key, &out->user_id);
    } else if (key == "anonymous_id") {
      s = ReadString(v, key, &out->anonymous_id);
    } else if (key == "session_id") {
      s = ReadString(v, key, &out->session_id);
    } else if (key == "created_at") {
      if (!AsExactInt64(*v, &out->created_at_ms)) {
        s = FieldError(key, std::string("must be an integer number of ms since epoch") + Got(*v));
      }
    } else if (key == "properties" || key == "context") {
      if (v->is_null()) continue;
      if (!v->is_object()) {
        s = FieldError(key, std::string("must be an object") + Got(*v));
      } else {
        (key == "properties" ? out->properties : out->context) = std::move(*v);
      }
    } else {
      s = FieldError(key,
                     "unknown field (expected event_id, type, name, user_id, anonymous_id, "
                     "session_id, created_at, properties, context)");
    }
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

void AppendMember(const char* key_and_colon, std::string_view value, std::string* out) {
  out->append(key_and_colon);
  WriteJsonString(value, out);
}

// "events[i]" + the rest of a path rendered as a field path.
std::string EventPrefix(size_t index) {
  std::string p = "events";
  detail::AppendPathIndex(index, &p);
  return p;
}

// `events[i].<message>`, or `events[i]: ...` for a message about the whole event.
std::string PrefixEventMessage(size_t index, const std::string& message) {
  std::string m = EventPrefix(index);
  constexpr std::string_view kWhole = "event:";
  if (message.compare(0, kWhole.size(), kWhole) == 0) {
    m.append(message, kWhole.size() - 1, std::string::npos);
  } else {
    m += '.';
    m += message;
  }
  return m;
}

Status BodyError(std::string message) { return Status::ParseError(std::move(message)); }

// Reads an optional integer member of the batch object; null is absent.
bool ReadBatchInt(const Json& body, std::string_view field, std::optional<int64_t>* out,
                  Status* error) {
  const Json* v = body.Find(field);
  if (IsAbsent(v)) return true;
  int64_t n;
  if (!AsExactInt64(*v, &n)) {
    *error = BodyError(std::string(field) + ": must be an integer number of ms" + Got(*v));
    return false;
  }
  *out = n;
  return true;
}

// events[i] by the document path: validated into out->events, or into out->rejected with its
// message. `duplicate`: the message of a key repeated inside it, which rejects it first.
void DecodeItem(size_t i, Json* item, std::string* duplicate, const BatchLimits& limits,
                DecodedBatch* out) {
  RejectedEvent rejected;
  rejected.index = i;
  if (const Json* id = item->Find("event_id"); id != nullptr && id->is_string()) {
    rejected.event_id = id->as_string();
  }
  if (duplicate != nullptr) {
    rejected.error = std::move(*duplicate);
    out->rejected.push_back(std::move(rejected));
    return;
  }
  Event event;
  Status s = DecodeEventFrom(item, &event);
  if (s.ok() && item->Find("created_at") == nullptr) {
    // The tracker stamps a missing created_at; a batch must carry the device's own.
    s = FieldError("created_at", "is required (ms since epoch)");
  }
  EventDocsJson docs;
  if (s.ok()) s = ValidateEvent(&event, limits.validation, &docs);
  if (!s.ok()) {
    rejected.error = PrefixEventMessage(i, s.message());
    out->rejected.push_back(std::move(rejected));
    return;
  }
  out->events.push_back(std::move(event));
  out->event_docs.push_back(std::move(docs));
  out->event_indexes.push_back(i);
}

// `events[i].<path>: duplicate key` for a repeated key at `path`, read from `from` on.
std::string EventDuplicateMessage(size_t index, const std::vector<detail::PathPart>& path,
                                  size_t from) {
  std::string m = EventPrefix(index);
  std::string rest;
  for (size_t i = from; i < path.size(); ++i) {
    if (path[i].is_index) {
      detail::AppendPathIndex(path[i].index, &rest);
    } else {
      detail::AppendPathKey(path[i].key, &rest);
    }
  }
  m += '.' + rest + ": duplicate key";
  return m;
}

// The streaming form of DecodeBatch for callers that keep no documents (BatchLimits::
// keep_documents false): one pass of the pull reader over the body, each event validated and
// encoded by the EventWriter as it is read (no document is built). It handles the common case
// only and answers false, with *out unspecified, for anything else: a body that fails as a whole
// (malformed, not an object, a repeated key outside the events, a wrong write_key, sent_at,
// clock_offset_ms or events, too many events). The caller then runs the document path, so each
// such body still gets exactly its message. An event the writer refuses (or one that repeats a
// key or lacks created_at) is decoded again on its own by the document path (DecodeItem), which
// gives the same rejection message and event_id as the whole-document walk; the writer's
// contract (event_writer.h: it accepts exactly what DecodeEvent + ValidateEvent accept, with
// the same encoding) makes the accepted events the same too. codec_test.cc compares the two paths.
bool DecodeBatchStreaming(std::string_view body, const BatchLimits& limits, DecodedBatch* out) {
  using Token = detail::JsonReader::Token;
  detail::JsonReader r(body, limits.json.max_depth, /*record_duplicates=*/true);
  auto next = [&r] {
    const Token t = r.Next();
    return t == Token::kKey && r.duplicate() ? Token::kError : t;  // a repeat fails the body
  };
  // Reads past a value whose first token is t; false on a fault or a repeated key.
  auto skip = [&r](Token t) {
    bool duplicate = false;
    return r.SkipValue(t, &duplicate) && !duplicate;
  };
  // sent_at and clock_offset_ms: null is absent.
  auto read_int = [&r](Token t, std::optional<int64_t>* v) {
    if (t == Token::kNull) return true;
    int64_t n;
    if (t != Token::kNumber || !AsExactInt64(r.number(), &n)) return false;
    *v = n;
    return true;
  };

  if (next() != Token::kBeginObject) return false;
  bool have_events = false;
  std::optional<int64_t> sent_at;
  EventWriter writer(limits.validation);
  // Room for the events a body of this size likely holds (an event takes 100 to 300 bytes; the
  // SDK's ~300), so that the vectors rarely move their Events while growing.
  const size_t likely = std::min(limits.max_events, body.size() / 256 + 1);
  out->events.reserve(likely);
  out->event_docs.reserve(likely);
  out->event_indexes.reserve(likely);
  for (;;) {
    Token t = next();
    if (t == Token::kEndObject) break;
    if (t != Token::kKey) return false;
    const std::string key = r.string();
    t = next();
    if (key == "write_key") {
      if (t == Token::kString) {
        out->write_key = r.string();
      } else if (t == Token::kNull) {
        out->write_key.clear();
      } else {
        return false;
      }
    } else if (key == "sent_at") {
      if (!read_int(t, &sent_at)) return false;
    } else if (key == "clock_offset_ms") {
      if (!read_int(t, &out->clock_offset_ms)) return false;
    } else if (key == "events") {
      if (t != Token::kBeginArray) return false;
      have_events = true;
      for (size_t i = 0;; ++i) {
        const size_t start = r.consumed();
        t = r.Next();  // (an event's own repeated keys are the writer's to note)
        if (t == Token::kEndArray) break;
        if (t == Token::kError || i >= limits.max_events) return false;
        detail::EventWriterInBatch::Seen seen;
        Status s = detail::EventWriterInBatch::Write(&writer, &r, t, &seen);
        if (r.failed()) return false;
        if (s.ok() && seen.created_at && !seen.duplicate_key) {
          out->events.emplace_back();  // (taken in place: an Event is costly to move)
          out->event_docs.emplace_back();
          detail::EventWriterInBatch::Take(&writer, &out->events.back(), &out->event_docs.back());
          out->event_indexes.push_back(i);
          continue;
        }
        // Refused: the document path says why, from the event's own text (`start` is just past
        // the previous token: '[' or the last event, so a ',' and whitespace may lead).
        std::string_view text = body.substr(start, r.consumed() - start);
        const size_t lead = text.find_first_not_of(" \t\r\n,");
        text.remove_prefix(lead == std::string_view::npos ? text.size() : lead);
        std::vector<detail::DuplicateKey> duplicates;
        Result<Json> item = detail::ParseJsonRecordingDuplicates(text, limits.json, &duplicates);
        if (!item.ok()) return false;
        std::string duplicate;
        if (!duplicates.empty()) duplicate = EventDuplicateMessage(i, duplicates.front().path, 0);
        DecodeItem(i, &item.value(), duplicates.empty() ? nullptr : &duplicate, limits, out);
      }
    } else if (!skip(t)) {
      return false;
    }
  }
  if (r.Next() != Token::kEnd || !have_events) return false;
  out->sent_at_ms = sent_at.value_or(0);
  return true;
}

}  // namespace

namespace detail {

namespace {

// Where EventHeadTo writes: into a string, or only counting the bytes (the same code, so the
// count is exact by construction).
struct StringOut {
  std::string* s;
  void push_back(char c) { s->push_back(c); }
  void append(std::string_view v) { s->append(v.data(), v.size()); }
  void member(const char* key_and_colon, std::string_view value) {
    s->append(key_and_colon);
    WriteJsonString(value, s);
  }
  void integer(int64_t v) { AppendInt(v, s); }
};
struct ByteCount {
  size_t n = 0;
  bool no_escapes = false;  // EventHeadSize's promise: no string needs one
  void push_back(char) { ++n; }
  void append(std::string_view v) { n += v.size(); }
  void member(const char* key_and_colon, std::string_view value) {
    n += std::strlen(key_and_colon) + (no_escapes ? value.size() + 2 : JsonStringSize(value));
  }
  void integer(int64_t v) {
    n += v < 0 ? 2 : 1;  // a sign, and the last digit
    for (v /= 10; v != 0; v /= 10) ++n;
  }
};

template <typename Out>
void EventHeadTo(const EventHead& h, Out out) {
  out.push_back('{');
  if (!h.event_id.empty()) {
    out.member("\"event_id\":", h.event_id);
    out.push_back(',');
  }
  out.append("\"type\":\"");
  out.append(EventTypeName(h.type));
  out.push_back('"');
  out.member(",\"name\":", h.name);
  if (!h.user_id.empty()) out.member(",\"user_id\":", h.user_id);
  if (!h.anonymous_id.empty()) out.member(",\"anonymous_id\":", h.anonymous_id);
  if (!h.session_id.empty()) out.member(",\"session_id\":", h.session_id);
  out.append(",\"created_at\":");
  out.integer(h.created_at_ms);
  out.append(",\"properties\":");
}

}  // namespace

void AppendEventHead(const EventHead& h, std::string* out) { EventHeadTo(h, StringOut{out}); }

size_t EventHeadSize(const EventHead& h, bool no_escapes) {
  ByteCount count;
  count.no_escapes = no_escapes;
  EventHeadTo<ByteCount&>(h, count);
  return count.n;
}

}  // namespace detail

void EncodeEvent(const Event& event, std::string* out) {
  detail::AppendEventHead({event.event_id, event.type, event.name, event.user_id,
                           event.anonymous_id, event.session_id, event.created_at_ms},
                          out);
  WriteJson(event.properties, out);
  if (!(event.context.is_object() && event.context.as_object().empty())) {
    out->append(",\"context\":");
    WriteJson(event.context, out);
  }
  out->push_back('}');
}

std::string EncodeEvent(const Event& event) {
  std::string out;
  out.reserve(256);
  EncodeEvent(event, &out);
  return out;
}

Result<Event> DecodeEvent(const Json& object) {
  Json copy = object;
  Event event;
  Status s = DecodeEventFrom(&copy, &event);
  if (!s.ok()) return s;
  return event;
}

Result<Event> DecodeEvent(std::string_view json_text) {
  Result<Json> parsed = ParseJson(json_text);
  if (!parsed.ok()) return parsed.status();
  Event event;
  Status s = DecodeEventFrom(&parsed.value(), &event);
  if (!s.ok()) return s;
  return event;
}

void EncodeBatch(std::string_view write_key, int64_t sent_at_ms,
                 std::optional<int64_t> clock_offset_ms,
                 const std::vector<std::string_view>& encoded_events, std::string* out) {
  size_t events_bytes = encoded_events.size();
  for (std::string_view e : encoded_events) events_bytes += e.size();
  out->reserve(out->size() + write_key.size() + 80 + events_bytes);
  AppendMember("{\"write_key\":", write_key, out);
  out->append(",\"sent_at\":");
  detail::AppendInt(sent_at_ms, out);
  if (clock_offset_ms) {
    out->append(",\"clock_offset_ms\":");
    detail::AppendInt(*clock_offset_ms, out);
  }
  out->append(",\"events\":[");
  for (size_t i = 0; i < encoded_events.size(); ++i) {
    if (i != 0) out->push_back(',');
    out->append(encoded_events[i].data(), encoded_events[i].size());
  }
  out->append("]}");
}

size_t BatchOverheadBytes(std::string_view write_key, int64_t sent_at_ms,
                          std::optional<int64_t> clock_offset_ms) {
  // Exact by construction: the empty batch is all overhead.
  std::string empty;
  EncodeBatch(write_key, sent_at_ms, clock_offset_ms, {}, &empty);
  return empty.size();
}

Status DecodeBatch(std::string_view body, const BatchLimits& limits, DecodedBatch* out) {
  *out = DecodedBatch();
  if (!limits.keep_documents) {
    if (DecodeBatchStreaming(body, limits, out)) return Status::Ok();
    *out = DecodedBatch();
  }
  std::vector<detail::DuplicateKey> duplicates;
  Result<Json> parsed = detail::ParseJsonRecordingDuplicates(body, limits.json, &duplicates);
  if (!parsed.ok()) {
    std::string m = "body: " + parsed.status().message();
    return parsed.status().code() == Code::kTooLarge ? Status::TooLarge(std::move(m))
                                                     : BodyError(std::move(m));
  }
  Json& root = parsed.value();
  if (!root.is_object()) {
    return BodyError(std::string("body: must be a JSON object with an events array") + Got(root));
  }

  // A repeated key inside events[i] is that event's fault; any other is the body's.
  std::vector<std::pair<size_t, std::string>> event_duplicates;  // in text order = index order
  for (const detail::DuplicateKey& d : duplicates) {
    const bool in_event = d.path.size() >= 3 && !d.path[0].is_index && d.path[0].key == "events" &&
                          d.path[1].is_index;
    if (!in_event) {
      std::string m = "body: at byte ";
      detail::AppendInt(static_cast<int64_t>(d.offset), &m);
      m += ": duplicate key " + detail::QuoteForMessage(d.path.back().key);
      return BodyError(std::move(m));
    }
    const size_t index = d.path[1].index;
    if (!event_duplicates.empty() && event_duplicates.back().first == index) continue;
    event_duplicates.emplace_back(index, EventDuplicateMessage(index, d.path, 2));
  }

  if (Json* key = root.Find("write_key"); !IsAbsent(key)) {
    if (!key->is_string()) return BodyError(std::string("write_key: must be a string") + Got(*key));
    out->write_key = std::move(key->as_string());
  }
  Status error;
  std::optional<int64_t> sent_at;
  if (!ReadBatchInt(root, "sent_at", &sent_at, &error)) return error;
  out->sent_at_ms = sent_at.value_or(0);
  if (!ReadBatchInt(root, "clock_offset_ms", &out->clock_offset_ms, &error)) return error;

  Json* events = root.Find("events");
  if (events == nullptr) return BodyError("events: is required (an array of events)");
  if (!events->is_array()) return BodyError(std::string("events: must be an array") + Got(*events));
  Json::Array& items = events->as_array();
  if (items.size() > limits.max_events) {
    std::string m = "events: ";
    detail::AppendInt(static_cast<int64_t>(items.size()), &m);
    m += " events, more than the limit of ";
    detail::AppendInt(static_cast<int64_t>(limits.max_events), &m);
    return Status::TooLarge(std::move(m));
  }

  out->events.reserve(items.size());
  out->event_docs.reserve(items.size());
  out->event_indexes.reserve(items.size());
  size_t next_duplicate = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    std::string* duplicate = nullptr;
    if (next_duplicate < event_duplicates.size() && event_duplicates[next_duplicate].first == i) {
      duplicate = &event_duplicates[next_duplicate++].second;
    }
    DecodeItem(i, &items[i], duplicate, limits, out);
  }
  return Status::Ok();
}

}  // namespace tally
