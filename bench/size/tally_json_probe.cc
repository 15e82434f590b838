// Size probe, built only by bench/size/run.sh: the twin of nlohmann_probe.cc with the core's
// own JSON model, parser and writer (sdk/src/json.cc).
#include <cstddef>
#include <cstdlib>
#include <string>

#include "tally/json.h"

namespace {
std::string out;
}  // namespace

extern "C" {
void* probe_alloc(size_t n) { return malloc(n); }
void probe_free(void* p) { free(p); }
const char* probe_out() { return out.data(); }

// Returns the length of the re-serialized object, or -1 when the text is not a JSON object.
int probe(const char* text, size_t len) {
  tally::Result<tally::Json> value = tally::ParseJson(std::string_view(text, len));
  if (!value.ok() || !value.value().is_object()) return -1;
  out.clear();
  tally::WriteJson(value.value(), &out);
  return static_cast<int>(out.size());
}
}
