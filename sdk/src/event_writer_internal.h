// The EventWriter's entry for the batch decoder (codec.cc). Not part of the public API.
#ifndef TALLY_SRC_EVENT_WRITER_INTERNAL_H_
#define TALLY_SRC_EVENT_WRITER_INTERNAL_H_

#include <string>

#include "json_reader.h"
#include "tally/event.h"
#include "tally/event_writer.h"
#include "tally/status.h"
#include "tally/validate.h"

namespace tally {
namespace detail {

struct EventWriterInBatch {
  /// What the pass met besides its verdict.
  struct Seen {
    bool created_at = false;     ///< a created_at member (a batch's events must carry one)
    bool duplicate_key = false;  ///< a repeated key anywhere in the event (recording reader)
  };
  /// Reads one event of a request's events array from `reader` (its token `first`, already read,
  /// starts the event) through the event's last token, as EventWriter::Write reads a whole text
  /// without a Fill. A JSON fault leaves `reader` failed; any other fault leaves it after the
  /// event. When `seen->duplicate_key`, the verdict is meaningless. The encoded event is not
  /// written, only measured against the size bound (Take gives the documents).
  static Status Write(EventWriter* writer, JsonReader* reader, JsonReader::Token first, Seen* seen);
  /// Moves the accepted event's fields and its properties and context text out of `writer`
  /// (after a Write that succeeded); `event`'s documents are left as they are.
  static void Take(EventWriter* writer, Event* event, EventDocsJson* docs);
};

}  // namespace detail
}  // namespace tally

#endif  // TALLY_SRC_EVENT_WRITER_INTERNAL_H_
