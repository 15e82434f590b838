// A real clickhouse-server (Debian's package, scripts/setup.sh installs it) for the tests: a temp
// config, data folder and free loopback ports; one server per test binary (SharedClickHouse()),
// each test in its own database. Without the package the tests fail with a message saying so.
#ifndef TALLY_TESTS_COLLECTOR_CLICKHOUSE_SERVER_H_
#define TALLY_TESTS_COLLECTOR_CLICKHOUSE_SERVER_H_

#include <fcntl.h>
#include <httplib.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <string>

#include "collector_test_util.h"

namespace tally::collector::testing {

class ClickHouseServer {
 public:
  ClickHouseServer() : http_port_(FreePort()), tcp_port_(FreePort()) {}
  ~ClickHouseServer() {
    Stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_.path(), ec);
  }

  /// The binary, or empty when the package is missing.
  static std::string Binary() {
    for (const char* p : {"/usr/sbin/clickhouse-server", "/usr/bin/clickhouse-server"}) {
      if (access(p, X_OK) == 0) return p;
    }
    return "";
  }

  /// Starts (or restarts, on the same ports and data) and waits for /ping. Empty on success,
  /// else why not.
  std::string Start() {
    if (pid_ > 0) return "";
    const std::string bin = Binary();
    if (bin.empty()) {
      return "clickhouse-server is not installed: run scripts/setup.sh (Debian package "
             "clickhouse-server); the ClickHouse store tests need a real server";
    }
    const std::string d = dir_.path();
    std::filesystem::create_directories(d + "/data");
    std::filesystem::create_directories(d + "/tmp");
    std::filesystem::create_directories(d + "/user_files");
    std::filesystem::create_directories(d + "/format_schemas");
    std::filesystem::create_directories(d + "/log");
    std::ofstream(d + "/config.xml")
        << "<yandex><logger><level>warning</level><log>" << d << "/log/server.log</log>"
        << "<errorlog>" << d << "/log/error.log</errorlog><console>0</console></logger>"
        << "<listen_host>127.0.0.1</listen_host><http_port>" << http_port_ << "</http_port>"
        << "<tcp_port>" << tcp_port_ << "</tcp_port><path>" << d << "/data/</path>"
        << "<tmp_path>" << d << "/tmp/</tmp_path><user_files_path>" << d
        << "/user_files/</user_files_path><format_schema_path>" << d
        << "/format_schemas/</format_schema_path><users_config>" << d
        << "/users.xml</users_config><default_profile>default</default_profile>"
        << "<default_database>default</default_database>"
        << "<mark_cache_size>134217728</mark_cache_size></yandex>\n";
    // A user with a password, so the URL's credentials are exercised.
    std::ofstream(d + "/users.xml")
        << "<yandex><profiles><default><max_threads>2</max_threads></default></profiles><users>"
        << "<default><password></password><networks><ip>127.0.0.1</ip></networks>"
        << "<profile>default</profile><quota>default</quota></default>"
        << "<tally><password>s3cret</password><networks><ip>127.0.0.1</ip></networks>"
        << "<profile>default</profile><quota>default</quota></tally></users>"
        << "<quotas><default><interval><duration>3600</duration><queries>0</queries>"
        << "<errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows>"
        << "<execution_time>0</execution_time></interval></default></quotas></yandex>\n";
    std::string config = "--config-file=" + d + "/config.xml";
    std::string out = d + "/log/stdout.log";
    // fork + exec rather than posix_spawn, to ask for SIGKILL when the test process dies: a
    // crashed or killed test binary leaves no server behind.
    pid_ = fork();
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      int fd = open(out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
      }
      execl(bin.c_str(), bin.c_str(), config.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    if (pid_ < 0) {
      pid_ = -1;
      return "clickhouse-server: cannot start " + bin;
    }
    // Readiness, not timing: poll /ping until it answers or the process exits.
    for (int i = 0; i < 1500; ++i) {
      httplib::Client c("127.0.0.1", http_port_);
      c.set_connection_timeout(0, 200000);
      if (auto r = c.Get("/ping"); r && r->status == 200) return "";
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return "clickhouse-server exited at start; see " + d + "/log/";
      }
      usleep(20000);
    }
    return "clickhouse-server did not answer /ping; see " + d + "/log/";
  }

  /// Graceful stop (SIGTERM, then waits).
  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  /// A crash: SIGKILL.
  void Kill() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  int http_port() const { return http_port_; }
  /// A URL for a database of its own (created by the store on open).
  std::string NewDatabaseUrl() {
    static std::atomic<int> n{0};
    return "clickhouse://tally:s3cret@127.0.0.1:" + std::to_string(http_port_) + "/t" +
           std::to_string(getpid()) + "_" + std::to_string(++n);
  }

 private:
  TempDir dir_;
  int http_port_;
  int tcp_port_;
  pid_t pid_ = -1;
};

/// The binary's one server, started on first use and stopped at exit. Returns nullptr and sets
/// `*error` when it cannot run.
inline ClickHouseServer* SharedClickHouse(std::string* error) {
  static ClickHouseServer* server = new ClickHouseServer();
  static std::string start_error = server->Start();
  static bool registered = [] {
    std::atexit([] { delete server; });
    return true;
  }();
  (void)registered;
  *error = start_error;
  if (!start_error.empty()) return nullptr;
  return server;
}

}  // namespace tally::collector::testing

#endif  // TALLY_TESTS_COLLECTOR_CLICKHOUSE_SERVER_H_
