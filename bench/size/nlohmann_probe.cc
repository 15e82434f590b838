// Size probe, built only by bench/size/run.sh: parse a JSON object and write it back with
// nlohmann_json, under the core module's flags, to price nlohmann in the browser module.
// Its twin tally_json_probe.cc does the same with tally::ParseJson / tally::WriteJson.
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>

namespace {
std::string out;
}  // namespace

extern "C" {
void* probe_alloc(size_t n) { return malloc(n); }
void probe_free(void* p) { free(p); }
const char* probe_out() { return out.data(); }

// Returns the length of the re-serialized object, or -1 when the text is not a JSON object.
int probe(const char* text, size_t len) {
  nlohmann::json value =
      nlohmann::json::parse(text, text + len, nullptr, /*allow_exceptions=*/false);
  if (!value.is_object()) return -1;
  out = value.dump();
  return static_cast<int>(out.size());
}
}
