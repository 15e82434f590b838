// The event model of the pinned wire protocol (shared/DESIGN.md, "The wire protocol").
#ifndef TALLY_EVENT_H_
#define TALLY_EVENT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "tally/json.h"

namespace tally {

enum class EventType : uint8_t { kTrack = 0, kPage = 1, kIdentify = 2 };

/// "track", "page" or "identify".
const char* EventTypeName(EventType type);
/// Returns false (and leaves *type alone) for any other string.
bool ParseEventType(std::string_view name, EventType* type);

/// One tracked event. `event_id` and `created_at_ms` are fixed when the event is tracked and
/// never change afterwards, across retries, reloads and restores (DESIGN.md lesson 2).
struct Event {
  std::string event_id;  ///< UUIDv7, lower-case canonical form
  EventType type = EventType::kTrack;
  std::string name;
  std::string user_id;        ///< empty when absent
  std::string anonymous_id;   ///< empty when absent
  std::string session_id;     ///< empty when absent
  int64_t created_at_ms = 0;  ///< device clock, ms since epoch
  Json properties = Json::MakeObject();
  Json context = Json::MakeObject();
};

}  // namespace tally

#endif  // TALLY_EVENT_H_
