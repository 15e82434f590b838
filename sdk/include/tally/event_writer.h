// One event's JSON text to its encoded form in a single streaming pass: read, decode, validate
// and encode together, without building a document. The browser core (Tracker) runs this, and
// so does the collector's DecodeBatch when it keeps no documents (BatchLimits::keep_documents;
// its document walk remains for privacy rules). Both apply the same rules (sdk/src/rules.cc), and
// for any text
//     EventWriter(o).Write(text, &out)
// accepts exactly when DecodeEvent(text) then ValidateEvent(&event, o) do, with the same status
// and message, and `out` is then byte-identical to EncodeEvent(event)
// (tests/sdk/event_writer_test.cc and fuzz/fuzz_event_writer.cc hold it to that).
#ifndef TALLY_EVENT_WRITER_H_
#define TALLY_EVENT_WRITER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tally/event.h"
#include "tally/options.h"
#include "tally/status.h"
#include "tally/uuid.h"

namespace tally {
namespace detail {
struct EventWriterInBatch;  // the batch decoder's entry (sdk/src/event_writer_internal.h)
}  // namespace detail

class EventWriter {
 public:
  explicit EventWriter(const ValidationOptions& options) : o_(options) {}

  /// What Tracker::Track fills in: a missing (or null) event_id gets ids->Next(now_ms) and a
  /// missing (or null) created_at now_ms, as soon as the text parses as an object; then, once
  /// it decodes, an empty event_id and a created_at of 0 count as missing too.
  struct Fill {
    UuidV7Generator* ids;
    int64_t now_ms;
  };

  /// Writes the encoded event to *out (replacing its content). Without `fill`, the text must be
  /// a complete event (DecodeEvent's rules and messages); with it, Tracker::Track's.
  Status Write(std::string_view json, std::string* out, const Fill* fill = nullptr);

  /// The accepted event's top-level fields (valid after a successful Write).
  const std::string& event_id() const { return event_id_; }
  const std::string& name() const { return name_; }
  const std::string& user_id() const { return user_id_; }
  const std::string& anonymous_id() const { return anonymous_id_; }
  int64_t created_at_ms() const { return created_at_ms_; }

 private:
  struct Fault {
    Code code = Code::kOk;
    std::string message;  // with its field path
  };
  class Pass;
  friend struct detail::EventWriterInBatch;

  const ValidationOptions o_;
  EventType type_ = EventType::kTrack;
  std::string event_id_, name_, user_id_, anonymous_id_, session_id_;
  int64_t created_at_ms_ = 0;
  std::string properties_, context_;  // encoded, reused across calls
  // The steps of the path being read, reused by each pass (event_writer.cc).
  struct Step {
    size_t index;              // an array element's
    std::string_view raw_key;  // a member's key as written in the input, quotes included
    bool is_index;
  };
  std::vector<Step> steps_;
};

}  // namespace tally

#endif  // TALLY_EVENT_WRITER_H_
