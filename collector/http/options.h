// Every tunable of the collector with its default, in one place (STYLE.md habit 5), and the one
// function that reads them from defaults < --config file < TALLY_* environment < flags.
#ifndef TALLY_COLLECTOR_HTTP_OPTIONS_H_
#define TALLY_COLLECTOR_HTTP_OPTIONS_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ingest/ingest.h"
#include "report/privacy.h"
#include "store/store.h"
#include "tally/status.h"

namespace tally::collector {

/// A source: a site or app sending with one public write key.
struct SourceConfig {
  std::string name;
  std::string write_key;
  std::vector<std::string> origins;  ///< exact origins (scheme://host[:port]); "*" allows any
};

struct WorkspaceConfig {
  std::string name;
  bool fingerprint_dedup = false;
  int64_t fingerprint_window_ms = 48LL * 3600 * 1000;
  std::vector<SourceConfig> sources;
  std::vector<std::string> read_keys;
  std::vector<std::string> server_keys;
};

struct CollectorOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  ///< 0 picks a free port (tests)
  std::string store = "sqlite:./data/tally.db";
  /// Commit durability: true syncs every group commit to disk (survives power loss).
  bool sync_every_commit = true;

  /// Request bodies over this many bytes, compressed or not, are refused with 413.
  size_t max_body_bytes = 512 * 1024;
  /// Events in one batch, at most (413 beyond).
  size_t max_events_per_batch = 1000;

  /// Worker threads, hence concurrent connections served (httplib's thread pool).
  size_t threads = 32;
  /// Slow clients: a read or a write that stalls this long closes the connection.
  int read_timeout_s = 10;
  int write_timeout_s = 10;
  int keep_alive_timeout_s = 5;

  WriterOptions writer;
  TimeOptions time;
  /// Masking applied to every event before it is stored (report/privacy.h).
  PrivacyOptions privacy;
  /// Seconds a 503 asks clients to wait.
  int retry_after_s = 1;

  /// Token bucket per key: sustained requests per second and burst (0 disables).
  double rate_limit_rps = 5000;
  double rate_limit_burst = 10000;

  /// Disk guard: answer 503 while free space where the store lives is below this.
  int64_t min_free_disk_bytes = 256LL * 1024 * 1024;

  /// Delete events older than this many days (0 keeps everything), checked every
  /// retention_interval_s.
  int retention_days = 0;
  int retention_interval_s = 3600;
  /// Keys created or revoked with `tally-collector keys` are picked up this often.
  int key_refresh_s = 2;

  /// Workspaces and keys from the config file (also written to the store at start).
  std::vector<WorkspaceConfig> workspaces;
  /// --demo: workspace "demo", wk_demo / rk_demo, localhost origins; loopback only.
  bool demo = false;
};

/// What the command line asked for.
struct Command {
  enum class Kind { kServe, kHelp, kKeys } kind = Kind::kServe;
  std::vector<std::string> keys_args;  ///< for kKeys: the words after `keys`
};

/// Reads defaults, then the JSON file named by --config (or TALLY_CONFIG), then TALLY_*
/// variables from `env`, then flags. Errors name the flag, variable or config field.
Status ParseCommandLine(int argc, const char* const* argv,
                        const std::map<std::string, std::string>& env, CollectorOptions* options,
                        Command* command);

/// Parses the JSON text of a config file into `options` (fields absent keep their value).
Status ApplyConfigJson(const std::string& text, CollectorOptions* options);

/// Adds the demo workspace and checks that the listen address is loopback.
Status ApplyDemo(CollectorOptions* options);

const char* HelpText();

}  // namespace tally::collector

#endif  // TALLY_COLLECTOR_HTTP_OPTIONS_H_
