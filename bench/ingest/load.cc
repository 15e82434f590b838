// tally-ingest-load: a load generator of our own for POST /v1/batch and, as the baseline,
// ClickHouse's `INSERT ... FORMAT JSONEachRow` over HTTP with the same events.
//
//   tally-ingest-load --target tally|clickhouse --port P [--connections 8] [--batch 100]
//                     [--events 1000000] [--seconds 20] [--rate 0] [--key wk_bench]
//
// Every event gets a fresh UUIDv7 from the core's generator. --rate 0 sends as fast as the
// server acknowledges (closed loop, N connections); --rate R schedules batches at R events/s
// and measures each acknowledgement from its scheduled time, so a stalled server cannot hide
// its queueing (no coordinated omission). Prints one JSON line. Talks to 127.0.0.1 only.
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tally/clock.h"
#include "tally/uuid.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Args {
  std::string target = "tally";
  int port = 8080;
  int connections = 8;
  int batch = 100;
  long long events = 1000000;
  double seconds = 20;
  double rate = 0;
  std::string key = "wk_bench";
};

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The same event content for both targets: tally's wire format, or a JSONEachRow row whose
// properties/context columns hold the same JSON text. Each connection writes its batch text once
// and then only overwrites the fields that change (ids, user number, times) in place, all of
// fixed width: the generator shares the machine's cores with the server it measures, and
// concatenating every batch anew cost it ~0.7 µs of CPU per event.
class BatchText {
 public:
  explicit BatchText(const Args& a) {
    const bool tally = a.target == "tally";
    text_.reserve(static_cast<size_t>(a.batch) * 320);
    if (tally) {
      text_ += "{\"write_key\":\"" + a.key + "\",\"sent_at\":";
      sent_at_ = Slot(kTimeDigits);
      text_ += ",\"events\":[";
    }
    for (int i = 0; i < a.batch; ++i) {
      if (tally && i) text_ += ',';
      text_ += "{\"event_id\":\"";
      ids_.push_back(Slot(36));
      text_ += "\",\"type\":\"track\",\"name\":\"Clicked CTA\",\"user_id\":\"C-";
      users_.push_back(Slot(kUserDigits));
      text_ += "\",\"anonymous_id\":\"anon-C-";
      users_.push_back(Slot(kUserDigits));
      text_ += "\",\"session_id\":\"s-1\",\"created_at\":";
      created_at_.push_back(Slot(kTimeDigits));
      std::string props =
          "{\"channel\":\"email\",\"campaign_id\":\"BF-2024\",\"n\":" + std::to_string(i) + "}";
      std::string ctx = "{\"page\":{\"path\":\"/pricing\"},\"workflow_id\":\"WF-lifecycle\"}";
      if (tally) {
        text_ += ",\"properties\":" + props + ",\"context\":" + ctx + "}";
      } else {
        auto quote = [](const std::string& v) {
          std::string q = "\"";
          for (char c : v) {
            if (c == '"' || c == '\\') q += '\\';
            q += c;
          }
          return q + "\"";
        };
        text_ += ",\"properties\":" + quote(props) + ",\"context\":" + quote(ctx) + "}\n";
      }
    }
    if (tally) text_ += "]}";
  }

  // The text of batch number `seq`: fresh ids, this moment's times, users C-00000..C-99999.
  const std::string& Next(tally::UuidV7Generator& ids, uint64_t seq) {
    const int64_t now = NowMs();
    if (sent_at_ != std::string::npos) Digits(sent_at_, kTimeDigits, static_cast<uint64_t>(now));
    for (size_t i = 0; i < ids_.size(); ++i) {
      std::string id = ids.Next(now);
      std::memcpy(&text_[ids_[i]], id.data(), 36);
      const uint64_t user = (seq * 7919 + i) % 100000;
      Digits(users_[2 * i], kUserDigits, user);
      Digits(users_[2 * i + 1], kUserDigits, user);
      Digits(created_at_[i], kTimeDigits, static_cast<uint64_t>(now));
    }
    return text_;
  }

 private:
  static constexpr int kTimeDigits = 13;  // epoch ms until the year 2286
  static constexpr int kUserDigits = 5;
  size_t Slot(int width) {
    size_t at = text_.size();
    text_.append(static_cast<size_t>(width), '0');
    return at;
  }
  void Digits(size_t at, int width, uint64_t v) {
    for (int k = width - 1; k >= 0; --k, v /= 10)
      text_[at + static_cast<size_t>(k)] = static_cast<char>('0' + v % 10);
  }
  std::string text_;
  size_t sent_at_ = std::string::npos;
  std::vector<size_t> ids_, users_, created_at_;
};

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  size_t k = static_cast<size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return v[k];
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string f = argv[i], v = argv[i + 1];
    if (f == "--target")
      a.target = v;
    else if (f == "--port")
      a.port = std::atoi(v.c_str());
    else if (f == "--connections")
      a.connections = std::atoi(v.c_str());
    else if (f == "--batch")
      a.batch = std::atoi(v.c_str());
    else if (f == "--events")
      a.events = std::atoll(v.c_str());
    else if (f == "--seconds")
      a.seconds = std::atof(v.c_str());
    else if (f == "--rate")
      a.rate = std::atof(v.c_str());
    else if (f == "--key")
      a.key = v;
    else {
      std::fprintf(stderr, "unknown flag %s\n", f.c_str());
      return 2;
    }
  }
  const std::string path = a.target == "tally"
                               ? "/v1/batch"
                               : "/?query=INSERT%20INTO%20bench.events%20FORMAT%20JSONEachRow";
  const long long total_batches = a.events / a.batch;
  std::atomic<long long> next_batch{0};
  std::atomic<long long> acked_events{0}, errors{0};
  std::mutex mu;
  std::vector<double> latencies_ms;
  const auto start = Clock::now();
  const auto deadline =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(a.seconds));
  const double batch_interval_s = a.rate > 0 ? a.batch / a.rate : 0;

  auto worker = [&](int t) {
    tally::SeededRandom random(0x9e37 + static_cast<uint64_t>(t), static_cast<uint64_t>(NowMs()),
                               static_cast<uint64_t>(t) * 31 + 7, 0xfeed);
    tally::UuidV7Generator ids(&random);
    BatchText batch_text(a);
    httplib::Client client("127.0.0.1", a.port);
    client.set_keep_alive(true);
    client.set_tcp_nodelay(true);
    client.set_read_timeout(30, 0);
    std::vector<double> mine;
    long long sent_on_connection = 0;
    Clock::time_point last_answer = Clock::now();
    for (;;) {
      long long k = next_batch++;
      if (k >= total_batches) break;
      Clock::time_point scheduled = Clock::now();
      if (a.rate > 0) {
        scheduled =
            start + std::chrono::duration_cast<Clock::duration>(
                        std::chrono::duration<double>(static_cast<double>(k) * batch_interval_s));
        std::this_thread::sleep_until(scheduled);
      }
      if (Clock::now() > deadline) break;
      const std::string& body = batch_text.Next(ids, static_cast<uint64_t>(k));
      const Clock::time_point sent = Clock::now();
      auto r =
          client.Post(path.c_str(), body, a.target == "tally" ? "application/json" : "text/plain");
      auto done = Clock::now();
      ++sent_on_connection;
      if (r && r->status == 200) {
        acked_events += a.batch;
        mine.push_back(std::chrono::duration<double, std::milli>(done - scheduled).count());
      } else {
        errors++;
        if (errors < 5) {
          // Where a failed read happened: how long after sending, how long the connection had
          // been idle before it, and how many requests it had carried.
          auto ms = [](Clock::duration d) {
            return std::chrono::duration<double, std::milli>(d).count();
          };
          std::fprintf(stderr, "error: %s (after %.1f ms; idle %.1f ms before; request %lld)\n",
                       r ? (std::to_string(r->status) + " " + r->body).c_str()
                         : httplib::to_string(r.error()).c_str(),
                       ms(done - sent), ms(sent - last_answer), sent_on_connection);
        }
      }
      last_answer = done;
    }
    std::lock_guard<std::mutex> lock(mu);
    latencies_ms.insert(latencies_ms.end(), mine.begin(), mine.end());
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < a.connections; ++t) threads.emplace_back(worker, t);
  for (auto& th : threads) th.join();
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  double p50 = Percentile(latencies_ms, 0.50), p99 = Percentile(latencies_ms, 0.99);
  std::printf(
      "{\"target\":\"%s\",\"mode\":\"%s\",\"connections\":%d,\"batch\":%d,\"events\":%lld,"
      "\"seconds\":%.2f,\"events_per_s\":%.0f,\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"errors\":%lld}\n",
      a.target.c_str(), a.rate > 0 ? "rate" : "saturate", a.connections, a.batch,
      acked_events.load(), seconds, static_cast<double>(acked_events.load()) / seconds, p50, p99,
      errors.load());
  return errors.load() > 0 ? 1 : 0;
}
