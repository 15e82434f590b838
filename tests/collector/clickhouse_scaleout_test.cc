// Scale-out (issue 6): stateless collectors sharing one real clickhouse-server. A batch retried
// through another node is counted once, also when both copies race; with ClickHouse stopped the
// collectors answer 503 with Retry-After and, once it is back, every retried event is there once.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "clickhouse_server.h"
#include "collector_test_util.h"

namespace tally::collector {
namespace {

using nlohmann::json;
using testing::AtomicFakeClock;
using testing::Batch;
using testing::EventMaker;
using testing::SharedClickHouse;
using testing::TempDir;

constexpr int64_t kT = 1731681120123;

struct Answer {
  int status = 0;  // 0: no answer (connection refused or reset)
  json body;
  std::string retry_after;
};

Answer Post(int port, const std::string& body) {
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(120, 0);
  auto r = c.Post("/v1/batch", {{"Origin", "https://shop.example"}}, body, "application/json");
  Answer a;
  if (!r) return a;
  a.status = r->status;
  a.body = json::parse(r->body, nullptr, false);
  a.retry_after = r->get_header_value("Retry-After");
  return a;
}

int64_t OverviewEvents(int port) {
  httplib::Client c("127.0.0.1", port);
  auto r = c.Get("/v1/stats/overview?from=0&to=" + std::to_string(kT + 86400000),
                 {{"Authorization", "Bearer rk_test"}});
  if (!r || r->status != 200) return -1;
  return json::parse(r->body).value("events", int64_t{-1});
}

class ScaleOut : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ch_ = SharedClickHouse(&error);
    ASSERT_NE(ch_, nullptr) << error;
    options_ = testing::TestOptions(dir_);
    options_.store = ch_->NewDatabaseUrl();
    options_.retry_after_s = 1;
  }
  std::string NewBatch(int n, std::vector<std::string>* ids = nullptr) {
    std::vector<std::string> events;
    for (int i = 0; i < n; ++i) {
      std::string id;
      events.push_back(maker_.Next(kT - 1000 + i, &id));
      if (ids) ids->push_back(id);
    }
    return Batch("wk_test", kT, events);
  }
  testing::ClickHouseServer* ch_ = nullptr;
  TempDir dir_;
  AtomicFakeClock clock_{kT};
  CollectorOptions options_;
  EventMaker maker_{99};
};

TEST_F(ScaleOut, ABatchRetriedThroughAnotherCollectorCountsOnce) {
  Collector a(options_, &clock_), b(options_, &clock_);
  ASSERT_TRUE(a.Start().ok());
  ASSERT_TRUE(b.Start().ok());
  std::string batch = NewBatch(100);
  Answer first = Post(a.port(), batch);
  ASSERT_EQ(first.status, 200);
  EXPECT_EQ(first.body["accepted"], 100);
  Answer retry = Post(b.port(), batch);  // the client did not see the first answer
  ASSERT_EQ(retry.status, 200);
  EXPECT_EQ(retry.body["accepted"], 0);
  EXPECT_EQ(retry.body["duplicates"], 100);

  // Both copies at the same moment: each collector may find the ids new and insert them, so
  // the answers can count them twice, but the store and every report count them once.
  std::string raced = NewBatch(500);
  Answer ra, rb;
  std::thread ta([&] { ra = Post(a.port(), raced); });
  std::thread tb([&] { rb = Post(b.port(), raced); });
  ta.join();
  tb.join();
  ASSERT_EQ(ra.status, 200);
  ASSERT_EQ(rb.status, 200);
  EXPECT_GE(ra.body["accepted"].get<int>() + rb.body["accepted"].get<int>(), 500);
  int64_t n = 0;
  ASSERT_TRUE(a.store()->CountEvents("acme", &n).ok());
  EXPECT_EQ(n, 600);
  EXPECT_EQ(OverviewEvents(a.port()), 600);
  EXPECT_EQ(OverviewEvents(b.port()), 600);
}

TEST_F(ScaleOut, ClickHouseDownMeans503ThenEveryRetriedEventOnce) {
  Collector a(options_, &clock_), b(options_, &clock_);
  ASSERT_TRUE(a.Start().ok());
  ASSERT_TRUE(b.Start().ok());
  constexpr int kClients = 4, kBatches = 30, kEvents = 50;
  std::atomic<int> acked{0}, refused{0}, bad{0}, missing_retry_after{0};
  std::atomic<bool> outage_seen{false};
  std::vector<std::vector<std::string>> batches(kClients * kBatches);
  for (auto& body : batches) body.push_back(NewBatch(kEvents));
  auto client = [&](int c) {
    for (int i = 0; i < kBatches; ++i) {
      const std::string& body = batches[static_cast<size_t>(c * kBatches + i)][0];
      // Like the SDK: keep the batch until a 2xx, alternating nodes on failure.
      for (int attempt = 0;; ++attempt) {
        Answer ans = Post(attempt % 2 ? b.port() : a.port(), body);
        if (ans.status == 200) {
          acked++;
          break;
        }
        if (ans.status == 503) {
          refused++;
          outage_seen = true;
          if (ans.retry_after.empty()) missing_retry_after++;
        } else {
          bad++;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));  // client back-off
      }
    }
  };
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) threads.emplace_back(client, c);
  // Stop ClickHouse once some batches are in, wait until the collectors have refused some,
  // then start it again on the same data.
  while (acked < 10) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ch_->Kill();
  while (!outage_seen) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::string restarted = ch_->Start();
  ASSERT_EQ(restarted, "");
  for (auto& t : threads) t.join();
  EXPECT_EQ(acked, kClients * kBatches);
  EXPECT_GT(refused, 0);
  EXPECT_EQ(bad, 0);  // never a 2xx for an unstored batch, never another error
  EXPECT_EQ(missing_retry_after, 0);
  int64_t n = 0;
  ASSERT_TRUE(a.store()->CountEvents("acme", &n).ok());
  EXPECT_EQ(n, kClients * kBatches * kEvents);
  EXPECT_EQ(OverviewEvents(b.port()), kClients * kBatches * kEvents);
}

}  // namespace
}  // namespace tally::collector
