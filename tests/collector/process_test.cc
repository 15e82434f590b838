// The tally-collector binary as a real process: SIGKILL under load loses no acknowledged event,
// SIGTERM shuts down cleanly, the keys subcommand, --help and --demo.
#include <gtest/gtest.h>

#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "collector_test_util.h"
#include "store/store.h"

namespace tally::collector {
namespace {

using nlohmann::json;
using testing::Batch;
using testing::ChildProcess;
using testing::EventMaker;
using testing::FreePort;
using testing::TempDir;
using testing::WaitHealthy;

// Runs the binary to completion and returns its stdout.
std::string RunToEnd(const std::string& args, int* exit_code) {
  std::string cmd = std::string(TALLY_COLLECTOR_BINARY) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  int status = pclose(p);
  *exit_code = WEXITSTATUS(status);
  return out;
}

std::string WriteConfig(const TempDir& dir) {
  std::string path = dir.path() + "/config.json";
  FILE* f = std::fopen(path.c_str(), "w");
  std::fputs(R"({"rate_limit_rps": 0, "min_free_disk_bytes": 0, "workspaces": [
    {"name": "acme", "sources": [{"name": "shop", "write_key": "wk_test",
                                  "origins": ["https://shop.example"]}]}]})",
             f);
  std::fclose(f);
  return path;
}

std::vector<std::string> ServeArgs(const TempDir& dir, int port, const std::string& config) {
  return {TALLY_COLLECTOR_BINARY,
          "--config",
          config,
          "--listen",
          "127.0.0.1:" + std::to_string(port),
          "--store",
          dir.db_url()};
}

TEST(CollectorProcess, SigkillDuringLoadLosesNoAcknowledgedEvent) {
  TempDir dir;
  std::string config = WriteConfig(dir);
  int port = FreePort();
  auto child = std::make_unique<ChildProcess>(ServeArgs(dir, port, config));
  ASSERT_TRUE(WaitHealthy(port));

  std::mutex mu;
  std::vector<std::string> acked_ids;     // every event of every 200 answer
  std::vector<std::string> acked_bodies;  // for the replay after restart
  std::atomic<int> acked_batches{0};
  std::atomic<bool> stop{false};
  auto load = [&](uint64_t seed) {
    EventMaker events(seed);
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(5, 0);
    while (!stop) {
      std::vector<std::string> batch, ids;
      int64_t now = 1731681120123;
      for (int i = 0; i < 50; ++i) {
        std::string id;
        batch.push_back(events.Next(now, &id));
        ids.push_back(id);
      }
      std::string body = Batch("wk_test", now, batch);
      auto r = c.Post("/v1/batch", body, "application/json");
      if (!r) return;  // the process is gone
      if (r->status != 200) continue;
      std::lock_guard<std::mutex> lock(mu);
      acked_ids.insert(acked_ids.end(), ids.begin(), ids.end());
      acked_bodies.push_back(body);
      acked_batches++;
    }
  };
  std::thread a(load, 1), b(load, 2), c(load, 3);
  // Kill while requests are in flight, after some have been acknowledged.
  while (acked_batches < 60) std::this_thread::yield();
  child->Signal(SIGKILL);
  child->Wait();
  stop = true;
  a.join();
  b.join();
  c.join();

  {
    Result<std::unique_ptr<Store>> store = OpenStore(dir.db_url());
    ASSERT_TRUE(store.ok()) << store.status().message();
    int64_t count = 0;
    ASSERT_TRUE(store.value()->CountEvents("acme", &count).ok());
    EXPECT_GE(count, static_cast<int64_t>(acked_ids.size()));
    // Every acknowledged id is there, each once.
    EventQuery q;
    q.workspace = "acme";
    q.limit = 100000;
    EventPage page;
    ASSERT_TRUE(store.value()->Query(q, &page).ok());
    std::set<std::string> stored;
    for (const auto& e : page.events) stored.insert(e.event_id);
    EXPECT_EQ(stored.size(), page.events.size());
    size_t missing = 0;
    for (const auto& id : acked_ids) missing += stored.count(id) ? 0 : 1;
    EXPECT_EQ(missing, 0u) << "of " << acked_ids.size() << " acknowledged";
  }

  // Restart on the same file: every acknowledged batch replayed is all duplicates.
  child = std::make_unique<ChildProcess>(ServeArgs(dir, port, config));
  ASSERT_TRUE(WaitHealthy(port));
  httplib::Client client("127.0.0.1", port);
  for (size_t i = 0; i < acked_bodies.size(); i += 10) {
    auto r = client.Post("/v1/batch", acked_bodies[i], "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    json body = json::parse(r->body);
    EXPECT_EQ(body["accepted"], 0);
    EXPECT_EQ(body["duplicates"], 50);
  }
  child->Signal(SIGTERM);
  int status = child->Wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST(CollectorProcess, SigtermFinishesAndCheckpoints) {
  TempDir dir;
  std::string config = WriteConfig(dir);
  int port = FreePort();
  ChildProcess child(ServeArgs(dir, port, config));
  ASSERT_TRUE(WaitHealthy(port));
  EventMaker events;
  httplib::Client c("127.0.0.1", port);
  auto r = c.Post("/v1/batch", Batch("wk_test", 1731681120123, {events.Next(1731681120123)}),
                  "application/json");
  ASSERT_EQ(r->status, 200);
  child.Signal(SIGTERM);
  int status = child.Wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  // The checkpoint emptied the WAL into the database file.
  std::error_code ec;
  auto wal = std::filesystem::file_size(dir.path() + "/tally.db-wal", ec);
  EXPECT_TRUE(ec || wal == 0);
}

TEST(CollectorProcess, KeysSubcommandCreatesListsAndRevokes) {
  TempDir dir;
  int code = -1;
  std::string store = "--store " + dir.db_url();
  std::string key = RunToEnd(
      "keys create --workspace acme --kind write --origin https://a.example " + store, &code);
  ASSERT_EQ(code, 0) << key;
  key.erase(key.find_last_not_of("\n") + 1);
  EXPECT_EQ(key.rfind("wk_", 0), 0u) << key;
  std::string named =
      RunToEnd("keys create --workspace acme --kind read --key rk_fixed " + store, &code);
  EXPECT_EQ(code, 0) << named;
  std::string list = RunToEnd("keys list " + store, &code);
  EXPECT_EQ(code, 0);
  EXPECT_NE(list.find(key), std::string::npos);
  // A read key is a secret: only its digest is kept and listed.
  EXPECT_EQ(list.find("rk_fixed"), std::string::npos) << list;
  EXPECT_NE(list.find(KeyDigest("rk_fixed")), std::string::npos) << list;
  EXPECT_NE(list.find("https://a.example"), std::string::npos);
  EXPECT_EQ(RunToEnd("keys revoke " + key + " " + store, &code).find("revoked"), 0u);
  EXPECT_EQ(code, 0);
  list = RunToEnd("keys list " + store, &code);
  json first = json::parse(list.substr(0, list.find('\n')));
  bool found_revoked = false;
  for (size_t pos = 0; pos < list.size();) {
    size_t nl = list.find('\n', pos);
    json k = json::parse(list.substr(pos, nl - pos));
    if (k["key"] == key) found_revoked = k["revoked"].get<bool>();
    pos = nl + 1;
  }
  EXPECT_TRUE(found_revoked);
  // Revoked by the secret itself (its digest is found), and then by the digest: already gone.
  EXPECT_EQ(RunToEnd("keys revoke rk_fixed " + store, &code).find("revoked"), 0u);
  EXPECT_EQ(code, 0);
  RunToEnd("keys revoke " + KeyDigest("rk_fixed") + " " + store, &code);
  EXPECT_NE(code, 0);
  RunToEnd("keys create --workspace acme --kind read --key rk_fixed " + store, &code);
  EXPECT_NE(code, 0);  // exists already (revoked keys are not reused)
  RunToEnd("keys revoke wk_never " + store, &code);
  EXPECT_NE(code, 0);
  RunToEnd("keys create --kind write " + store, &code);  // no workspace
  EXPECT_NE(code, 0);
}

TEST(CollectorProcess, RevokedKeyIsRefusedByARunningCollector) {
  TempDir dir;
  std::string config = WriteConfig(dir);
  int port = FreePort();
  ChildProcess child(ServeArgs(dir, port, config));
  ASSERT_TRUE(WaitHealthy(port));
  int code = -1;
  RunToEnd("keys revoke wk_test --store " + dir.db_url(), &code);
  ASSERT_EQ(code, 0);
  EventMaker events;
  httplib::Client c("127.0.0.1", port);
  // The collector re-reads keys every key_refresh_s; poll for the change (readiness, not timing).
  int status = 0;
  for (int i = 0; i < 200 && status != 401; ++i) {
    auto r = c.Post("/v1/batch", Batch("wk_test", 1731681120123, {events.Next(1731681120123)}),
                    "application/json");
    status = r ? r->status : 0;
    if (status != 401) usleep(50000);
  }
  EXPECT_EQ(status, 401);
}

TEST(CollectorProcess, HelpAndBadFlags) {
  int code = -1;
  std::string help = RunToEnd("--help", &code);
  EXPECT_EQ(code, 0);
  EXPECT_NE(help.find("--retention-days"), std::string::npos);
  std::string bad = RunToEnd("--no-such-flag", &code);
  EXPECT_EQ(code, 2);
  EXPECT_NE(bad.find("--no-such-flag"), std::string::npos);
  bad = RunToEnd("--listen 127.0.0.1:notaport", &code);
  EXPECT_EQ(code, 2);
  EXPECT_NE(bad.find("--listen"), std::string::npos);
}

TEST(CollectorProcess, DemoRefusesNonLoopbackAddress) {
  int code = -1;
  std::string out = RunToEnd("--demo --listen 0.0.0.0:18080", &code);
  EXPECT_NE(code, 0);
  EXPECT_NE(out.find("non-loopback"), std::string::npos) << out;
}

TEST(CollectorOptionsParse, EnvOverridesConfigAndFlagsOverrideEnv) {
  TempDir dir;
  std::string config = WriteConfig(dir);
  CollectorOptions o;
  Command cmd;
  const char* argv[] = {"tally-collector", "--config", config.c_str(), "--threads", "7"};
  std::map<std::string, std::string> env = {{"TALLY_THREADS", "3"}, {"TALLY_RETENTION_DAYS", "9"}};
  Status s = ParseCommandLine(5, argv, env, &o, &cmd);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(o.threads, 7u);
  EXPECT_EQ(o.retention_days, 9);
  EXPECT_EQ(o.rate_limit_rps, 0);  // from the config file
  ASSERT_EQ(o.workspaces.size(), 1u);
  EXPECT_EQ(o.workspaces[0].sources[0].write_key, "wk_test");
  env = {{"TALLY_RETENTION_DAYS", "soon"}};
  CollectorOptions o2;
  s = ParseCommandLine(1, argv, env, &o2, &cmd);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("TALLY_RETENTION_DAYS"), std::string::npos);
}

}  // namespace
}  // namespace tally::collector
