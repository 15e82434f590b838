// The native encoder, as a command line tool for the Node suites: tracks the events of an NDJSON
// file into a native tally::Tracker under a fixed clock and prints the batch bodies it builds,
// so tests/js/core/roundtrip.test.mjs can check that the Wasm and asm.js builds of the same core
// produce the same bytes.
//
//   tally_encode EVENTS.ndjson NOW_MS WRITE_KEY
//
// stdout: each batch body NextBatch() builds, one per line, until the queue is empty.
// stderr: one line per refused event: `refused<TAB>line index<TAB>-code<TAB>message`
//         (line index counts non-empty lines from 0; -code is what tally_track would return).
// Exit status: 0, or 2 on a usage or I/O error.
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

#include "tally/clock.h"
#include "tally/status.h"
#include "tally/tracker.h"

namespace {

class FixedClock final : public tally::Clock {
 public:
  explicit FixedClock(int64_t now_ms) : now_ms_(now_ms) {}
  int64_t NowMs() const override { return now_ms_; }

 private:
  int64_t now_ms_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: tally_encode EVENTS.ndjson NOW_MS WRITE_KEY\n";
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  if (!in) {
    std::cerr << "tally_encode: cannot read " << argv[1] << "\n";
    return 2;
  }
  char* end = nullptr;
  const long long now_ms = std::strtoll(argv[2], &end, 10);
  if (end == argv[2] || *end != '\0') {
    std::cerr << "tally_encode: NOW_MS must be an integer\n";
    return 2;
  }

  FixedClock clock(now_ms);
  // Same seed as the Node suite gives the module; ids only matter for events without one.
  tally::SeededRandom random(1, 2, 3, 4);
  tally::TrackerOptions options;
  options.write_key = argv[3];
  tally::Tracker tracker(options, &clock, &random);

  std::string line;
  size_t index = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::string encoded;
    std::string id;
    tally::Status s = tracker.Track(line, &encoded, &id);
    if (!s.ok()) {
      std::cerr << "refused\t" << index << "\t" << -static_cast<int32_t>(s.code()) << "\t"
                << s.message() << "\n";
    }
    ++index;
  }

  std::string body;
  while (size_t n = tracker.NextBatch(&body)) {
    std::cout << body << "\n";
    tracker.Ack(n);
    body.clear();
  }
  return 0;
}
