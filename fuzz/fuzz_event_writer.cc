// Differential fuzzer: the EventWriter's single streaming pass (the browser core's path) must
// agree with the document path, EncodeEvent(ValidateEvent(DecodeEvent(text))): same accept or
// refuse, same code, same message, same bytes. The first input byte picks the validation
// options (defaults, truncation with tiny limits, Intercom-strict, tight bounds); the rest is the
// event text. Any disagreement aborts with both answers printed.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tally/codec.h"
#include "tally/event_writer.h"
#include "tally/validate.h"

namespace {

tally::ValidationOptions Options(uint8_t pick) {
  tally::ValidationOptions o;
  switch (pick % 4) {
    case 1:
      o.overlong_strings = tally::OverlongString::kTruncate;
      o.max_string_chars = 1 + pick / 4 % 4;
      o.max_context_string_chars = 2 + pick / 16 % 4;
      break;
    case 2:
      o = tally::ValidationOptions::IntercomStrict();
      break;
    case 3:
      o.max_members = 1 + pick / 4 % 3;
      o.max_depth = 1 + pick / 16 % 3;
      o.max_properties = pick / 64;
      o.max_event_bytes = 160 + pick;
      break;
    default:
      break;
  }
  return o;
}

[[noreturn]] void Disagree(std::string_view text, const tally::Status& a, const tally::Status& b,
                           const std::string& want, const std::string& got) {
  std::fprintf(stderr, "text: %.*s\ndocument: %d %s\n%s\nstreaming: %d %s\n%s\n",
               static_cast<int>(text.size()), text.data(), static_cast<int>(a.code()),
               a.message().c_str(), want.c_str(), static_cast<int>(b.code()), b.message().c_str(),
               got.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const tally::ValidationOptions options = Options(data[0]);
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);

  std::string want;
  tally::Status a;
  tally::Result<tally::Event> event = tally::DecodeEvent(text);
  if (!event.ok()) {
    a = event.status();
  } else {
    a = tally::ValidateEvent(&event.value(), options);
    if (a.ok()) want = tally::EncodeEvent(event.value());
  }

  tally::EventWriter writer(options);
  std::string got;
  const tally::Status b = writer.Write(text, &got);
  if (a.code() != b.code() || a.message() != b.message() || (a.ok() && want != got)) {
    Disagree(text, a, b, want, got);
  }
  return 0;
}
