// Size probe, built only by bench/size/run.sh: the core's JSON writer alone (a Json built in code,
// then WriteJson), to price a browser module that takes properties as typed calls and has no
// parser.
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
int probe(const char* text, size_t len) {
  tally::Json v = tally::Json::MakeObject();
  v.Set(std::string(text, len), tally::Json::Number(static_cast<double>(len) / 3.0));
  v.Set("n", tally::Json::Number(static_cast<double>(len)));
  v.Set("b", tally::Json::Bool(true));
  tally::Json a = tally::Json::MakeArray();
  a.Append(tally::Json::Number(1));
  a.Append(tally::Json::String("x"));
  v.Set("a", std::move(a));
  out.clear();
  tally::WriteJson(v, &out);
  return static_cast<int>(out.size());
}
}
