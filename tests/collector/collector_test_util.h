// Shared helpers of the collector tests: temp dirs, a thread-safe fake clock, batch builders,
// an in-process collector on a free port and a real child process.
#ifndef TALLY_TESTS_COLLECTOR_COLLECTOR_TEST_UTIL_H_
#define TALLY_TESTS_COLLECTOR_COLLECTOR_TEST_UTIL_H_

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "http/server.h"
#include "tally/clock.h"
#include "tally/uuid.h"

extern char** environ;

namespace tally::collector::testing {

/// The collector reads the clock from many threads; tests move it from one.
class AtomicFakeClock final : public Clock {
 public:
  explicit AtomicFakeClock(int64_t now_ms = 1731681120123) : now_ms_(now_ms) {}
  int64_t NowMs() const override { return now_ms_.load(); }
  void Set(int64_t ms) { now_ms_.store(ms); }
  void Advance(int64_t ms) { now_ms_ += ms; }

 private:
  std::atomic<int64_t> now_ms_;
};

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "tally-collector-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string db_url() const { return "sqlite:" + path_ + "/tally.db"; }

 private:
  std::string path_;
};

/// Events with fresh UUIDv7 ids, encoded as the wire protocol pins them.
class EventMaker {
 public:
  explicit EventMaker(uint64_t seed = 42)
      : random_(seed, seed + 1, seed + 2, seed + 3), ids_(&random_) {}
  std::string Next(int64_t created_at_ms, std::string* id_out = nullptr,
                   const std::string& name = "Clicked CTA") {
    std::string id = ids_.Next(created_at_ms);
    if (id_out) *id_out = id;
    return "{\"event_id\":\"" + id + "\",\"type\":\"track\",\"name\":\"" + name +
           "\",\"user_id\":\"C-1\",\"anonymous_id\":\"anon-1\",\"created_at\":" +
           std::to_string(created_at_ms) + ",\"properties\":{\"plan\":\"pro\"},\"context\":{}}";
  }
  std::string Id(int64_t ms) { return ids_.Next(ms); }

 private:
  SeededRandom random_;
  UuidV7Generator ids_;
};

inline std::string Batch(const std::string& key, int64_t sent_at,
                         const std::vector<std::string>& events) {
  std::string out = "{";
  if (!key.empty()) out += "\"write_key\":\"" + key + "\",";
  out += "\"sent_at\":" + std::to_string(sent_at) + ",\"events\":[";
  for (size_t i = 0; i < events.size(); ++i) out += (i ? "," : "") + events[i];
  return out + "]}";
}

/// Options for an in-process collector on a free loopback port with one workspace "acme":
/// write key wk_test (origin https://shop.example), read key rk_test, server key sk_test.
inline CollectorOptions TestOptions(const TempDir& dir) {
  CollectorOptions o;
  o.port = 0;
  o.store = dir.db_url();
  o.threads = 8;
  o.min_free_disk_bytes = 0;
  o.key_refresh_s = 3600;
  WorkspaceConfig w;
  w.name = "acme";
  w.sources.push_back(SourceConfig{"shop", "wk_test", {"https://shop.example"}});
  w.read_keys.push_back("rk_test");
  w.server_keys.push_back("sk_test");
  o.workspaces.push_back(w);
  return o;
}

inline int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

/// A real tally-collector process.
class ChildProcess {
 public:
  explicit ChildProcess(const std::vector<std::string>& args) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, argv[0], nullptr, nullptr, argv.data(), environ) != 0) pid_ = -1;
  }
  ~ChildProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      Wait();
    }
  }
  pid_t pid() const { return pid_; }
  void Signal(int sig) { kill(pid_, sig); }
  int Wait() {
    int status = 0;
    if (pid_ > 0) waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_ = -1;
};

/// Polls /healthz until the process answers (readiness, not a timing assertion).
inline bool WaitHealthy(int port, int attempts = 500) {
  for (int i = 0; i < attempts; ++i) {
    httplib::Client c("127.0.0.1", port);
    c.set_connection_timeout(0, 200000);
    if (auto r = c.Get("/healthz"); r && r->status == 200) return true;
    usleep(20000);
  }
  return false;
}

}  // namespace tally::collector::testing

#endif  // TALLY_TESTS_COLLECTOR_COLLECTOR_TEST_UTIL_H_
