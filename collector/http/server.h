// The collector as one object: HTTP routes (docs/PROTOCOL.md), keys, CORS, limits, metrics, the
// writer and the store. main.cc wraps it in a process; tests run it in-process on a free port.
#ifndef TALLY_COLLECTOR_HTTP_SERVER_H_
#define TALLY_COLLECTOR_HTTP_SERVER_H_

#include <memory>
#include <string>
#include <thread>

#include "http/options.h"
#include "store/store.h"
#include "tally/clock.h"
#include "tally/status.h"

namespace tally::collector {

/// The wall clock, for production.
class SystemClock final : public Clock {
 public:
  int64_t NowMs() const override;
};

/// One JSON log line on stderr: {"ts":...,"level":...,"msg":...,<fields>}.
void LogLine(const char* level, const std::string& msg, const std::string& fields_json = "{}");

/// How a key is kept in the store. Write keys are public (every page that tracks holds one) and
/// are stored as given; read and server keys are secrets, stored only as "sha256:<hex digest>",
/// so a copy of the database or of `keys list` does not give access to the reports.
std::string StoredKeyForm(KeyKind kind, const std::string& key);
/// "sha256:" + the hex SHA-256 of `secret`.
std::string KeyDigest(const std::string& secret);

class Collector {
 public:
  /// `clock` dates received_at, retention and rate limits; must outlive the collector.
  Collector(CollectorOptions options, const Clock* clock);
  ~Collector();  ///< Stop()s

  /// Opens the store, loads keys, binds the listen address and starts serving in the
  /// background. On success port() is the bound port.
  Status Start();
  int port() const;

  /// Graceful: stops accepting, finishes requests in flight (their commits included), then
  /// checkpoints the store. Idempotent; safe from any thread except a request handler.
  void Stop();

  /// Purges events older than retention_days relative to the clock (no-op when 0).
  Status RunRetentionOnce(int64_t* purged);
  /// Re-reads keys from the store (also done every key_refresh_s).
  Status ReloadKeys();

  Store* store();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The store URL with its password, if any, replaced by `***`, for logs and answers.
std::string RedactStoreUrl(const std::string& url);

/// `tally-collector keys create|list|revoke ...` against the store in `options`; prints to
/// stdout. Returns the process exit code.
int RunKeysCommand(const CollectorOptions& options, const std::vector<std::string>& args,
                   const Clock* clock, RandomSource* random);

}  // namespace tally::collector

#endif  // TALLY_COLLECTOR_HTTP_SERVER_H_
