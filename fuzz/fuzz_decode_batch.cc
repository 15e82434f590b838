// libFuzzer target for the batch decoder and validator, the collector's first contact with
// untrusted bytes. Beyond "never crash", it checks that the collector's streaming pass
// (BatchLimits::keep_documents false) decodes every body exactly as the document path does, and
// two properties on every accepted event:
//  - encode -> decode -> encode is byte-identical (the encoder and decoder agree);
//  - a batch re-encoded from the accepted events decodes again with every event accepted
//    (validation is stable: what the SDK accepted, the collector accepts).
// A violation aborts, so libFuzzer saves the input.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "tally/codec.h"

namespace {

[[noreturn]] void Fail(const char* what, const std::string& a, const std::string& b) {
  std::fprintf(stderr, "fuzz_decode_batch: %s\n  first:  %s\n  second: %s\n", what, a.c_str(),
               b.c_str());
  std::abort();
}

// The streaming pass against the document path (`batch`, decoded with documents).
void CompareStreaming(std::string_view body, const tally::Status& status,
                      const tally::DecodedBatch& batch) {
  tally::BatchLimits limits;
  limits.keep_documents = false;
  tally::DecodedBatch text;
  const tally::Status s = tally::DecodeBatch(body, limits, &text);
  if (s.code() != status.code() || s.message() != status.message()) {
    Fail("streaming status differs", s.message(), status.message());
  }
  if (!s.ok()) return;
  if (text.write_key != batch.write_key || text.sent_at_ms != batch.sent_at_ms ||
      text.clock_offset_ms != batch.clock_offset_ms || text.event_indexes != batch.event_indexes ||
      text.rejected.size() != batch.rejected.size() || text.events.size() != batch.events.size()) {
    Fail("streaming batch differs", "", "");
  }
  for (size_t i = 0; i < batch.rejected.size(); ++i) {
    if (text.rejected[i].index != batch.rejected[i].index ||
        text.rejected[i].event_id != batch.rejected[i].event_id ||
        text.rejected[i].error != batch.rejected[i].error) {
      Fail("streaming rejection differs", text.rejected[i].error, batch.rejected[i].error);
    }
  }
  for (size_t i = 0; i < batch.events.size(); ++i) {
    const tally::Event& a = text.events[i];
    const tally::Event& b = batch.events[i];
    if (a.event_id != b.event_id || a.type != b.type || a.name != b.name ||
        a.user_id != b.user_id || a.anonymous_id != b.anonymous_id ||
        a.session_id != b.session_id || a.created_at_ms != b.created_at_ms) {
      Fail("streaming event differs", a.event_id + " " + a.name, b.event_id + " " + b.name);
    }
    if (text.event_docs[i].properties != batch.event_docs[i].properties ||
        text.event_docs[i].context != batch.event_docs[i].context) {
      Fail("streaming documents differ", text.event_docs[i].properties,
           batch.event_docs[i].properties);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const tally::BatchLimits limits;
  tally::DecodedBatch batch;
  const tally::Status decoded = tally::DecodeBatch(body, limits, &batch);
  CompareStreaming(body, decoded, batch);
  if (!decoded.ok()) return 0;
  if (batch.events.size() != batch.event_indexes.size()) Fail("index count", "", "");

  std::vector<std::string> encoded;
  for (const tally::Event& event : batch.events) {
    std::string once = tally::EncodeEvent(event);
    tally::Result<tally::Event> again = tally::DecodeEvent(once);
    if (!again.ok()) Fail("re-decode failed", once, again.status().message());
    std::string twice = tally::EncodeEvent(again.value());
    if (once != twice) Fail("encode/decode/encode differs", once, twice);
    encoded.push_back(std::move(once));
  }

  std::vector<std::string_view> views(encoded.begin(), encoded.end());
  std::string rebuilt;
  tally::EncodeBatch(batch.write_key, batch.sent_at_ms, batch.clock_offset_ms, views, &rebuilt);
  if (rebuilt.size() !=
      tally::BatchOverheadBytes(batch.write_key, batch.sent_at_ms, batch.clock_offset_ms) + [&] {
        size_t n = encoded.empty() ? 0 : encoded.size() - 1;
        for (const std::string& e : encoded) n += e.size();
        return n;
      }()) {
    Fail("BatchOverheadBytes is not exact", rebuilt, "");
  }
  tally::DecodedBatch second;
  tally::Status s = tally::DecodeBatch(rebuilt, limits, &second);
  if (!s.ok()) Fail("re-encoded batch refused", rebuilt, s.message());
  if (!second.rejected.empty())
    Fail("re-encoded event rejected", rebuilt, second.rejected[0].error);
  if (second.events.size() != encoded.size()) Fail("event count changed", rebuilt, "");
  for (size_t i = 0; i < encoded.size(); ++i) {
    std::string again = tally::EncodeEvent(second.events[i]);
    if (again != encoded[i]) Fail("re-validated event changed", encoded[i], again);
  }
  return 0;
}
