#include "tally/event.h"

namespace tally {

const char* EventTypeName(EventType type) {
  switch (type) {
    case EventType::kTrack:
      return "track";
    case EventType::kPage:
      return "page";
    case EventType::kIdentify:
      return "identify";
  }
  return "track";
}

bool ParseEventType(std::string_view name, EventType* type) {
  if (name == "track") {
    *type = EventType::kTrack;
  } else if (name == "page") {
    *type = EventType::kPage;
  } else if (name == "identify") {
    *type = EventType::kIdentify;
  } else {
    return false;
  }
  return true;
}

}  // namespace tally
