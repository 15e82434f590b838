// The native decoder, as a command line tool for the Node suites: reads one batch body from stdin
// and decodes it with tally::DecodeBatch, as the collector does (shape + validation), so that
// tests/js/core/lite.test.mjs can check that the lite module's batches are what the collector
// reads, and that it refuses what the lite module leaves to it.
//
//   tally_decode < BODY
//
// stdout, one tab-separated record per line:
//   status<TAB>-code<TAB>message          (the whole body: 0 when it decoded)
//   batch<TAB>write_key<TAB>sent_at_ms<TAB>clock_offset_ms or "none"
//   accepted<TAB>index<TAB>event_id<TAB>created_at_ms<TAB>name
//   rejected<TAB>index<TAB>event_id<TAB>error
// Exit status: 0 (whatever the body), 2 on an I/O error.
#include <cstdint>
#include <iostream>
#include <iterator>
#include <string>

#include "tally/codec.h"
#include "tally/status.h"

int main() {
  std::string body((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  if (std::cin.bad()) {
    std::cerr << "tally_decode: cannot read stdin\n";
    return 2;
  }
  tally::DecodedBatch batch;
  const tally::Status s = tally::DecodeBatch(body, tally::BatchLimits(), &batch);
  std::cout << "status\t" << -static_cast<int32_t>(s.code()) << "\t" << s.message() << "\n";
  if (!s.ok()) return 0;
  std::cout << "batch\t" << batch.write_key << "\t" << batch.sent_at_ms << "\t";
  if (batch.clock_offset_ms) {
    std::cout << *batch.clock_offset_ms << "\n";
  } else {
    std::cout << "none\n";
  }
  for (size_t i = 0; i < batch.events.size(); ++i) {
    const tally::Event& e = batch.events[i];
    std::cout << "accepted\t" << batch.event_indexes[i] << "\t" << e.event_id << "\t"
              << e.created_at_ms << "\t" << e.name << "\n";
  }
  for (const tally::RejectedEvent& r : batch.rejected) {
    std::cout << "rejected\t" << r.index << "\t" << r.event_id << "\t" << r.error << "\n";
  }
  return 0;
}
