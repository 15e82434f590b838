// The scale-out store (DESIGN.md lesson 11): events in a ClickHouse ReplacingMergeTree keyed on
// (workspace, event_id), written by any number of stateless collectors over ClickHouse's HTTP
// interface. docs/DEPLOY.md describes the schema, why reads use FINAL, and a cluster layout.
#ifndef TALLY_COLLECTOR_STORE_CLICKHOUSE_STORE_H_
#define TALLY_COLLECTOR_STORE_CLICKHOUSE_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "store/store.h"
#include "tally/status.h"

namespace httplib {
class Client;
}

namespace tally::collector {

/// `clickhouse://[user[:password]@]host[:port]/database`; port 8123 and user `default` when
/// absent, database `tally` when the path is empty.
struct ClickHouseUrl {
  std::string host;
  int port = 8123;
  std::string user = "default";
  std::string password;
  std::string database = "tally";
};
Result<ClickHouseUrl> ParseClickHouseUrl(const std::string& url);

/// A small pool of keep-alive HTTP connections to one server. Thread-safe: each call borrows a
/// connection, so calls from several threads run in parallel.
class ClickHouseClient {
 public:
  explicit ClickHouseClient(ClickHouseUrl url);
  ~ClickHouseClient();

  /// Runs one statement (its text is the POST body) and returns the whole answer in `out`.
  /// Any answer but 200 is an error carrying ClickHouse's message.
  Status Query(const std::string& sql, std::string* out = nullptr);
  /// Runs `sql` with a temporary table `name` (ClickHouse "external data": `structure` like
  /// `id String`, `tsv` its TabSeparated rows) sent beside it. `x IN name` then costs a hash set
  /// built from the rows instead of parsing thousands of literals (10x faster, measured).
  Status QueryWithTable(const std::string& sql, const std::string& name,
                        const std::string& structure, const std::string& tsv, std::string* out);
  /// `INSERT INTO <table> FORMAT <format>` with `data` as the body: one INSERT, one part.
  Status Insert(const std::string& table_and_format, const std::string& data);
  /// Runs a SELECT and hands the TabSeparated answer to `line` one row at a time (memory does not
  /// grow with the result); `line` returns false to stop early.
  Status Stream(const std::string& sql, const std::function<bool(std::string_view)>& line);

  const ClickHouseUrl& url() const { return url_; }

 private:
  std::unique_ptr<httplib::Client> Borrow();
  void Return(std::unique_ptr<httplib::Client> client);
  std::string Path(const std::string& extra_params) const;

  ClickHouseUrl url_;
  std::mutex mu_;
  std::vector<std::unique_ptr<httplib::Client>> idle_;
};

/// A string literal for ClickHouse SQL: quotes and backslashes escaped.
std::string ChQuote(const std::string& s);
/// Appends `s` escaped for the TabSeparated format.
void TsvAppend(const std::string& s, std::string* out);
/// Splits one TabSeparated row into unescaped fields.
std::vector<std::string> TsvSplit(std::string_view line);

/// Columns of the events table in the order ChEventFromRow reads them.
extern const char* const kChEventColumns;
/// A StoredEvent from the fields of a row selected with kChEventColumns (13 fields).
StoredEvent ChEventFromRow(const std::vector<std::string>& f);

/// Thread-safe; keeps no state that another collector could contradict except a cache of
/// workspace settings (refreshed by ListWorkspaces and on unknown names).
class ClickHouseStore final : public Store {
 public:
  static Result<std::unique_ptr<Store>> Open(const ClickHouseUrl& url);

  Status PutWorkspace(const WorkspaceRecord& workspace) override;
  Status ListWorkspaces(std::vector<WorkspaceRecord>* out) override;
  Status Append(const std::vector<AppendBatch*>& group, int64_t now_ms) override;
  /// Each Append is a dedup lookup and an INSERT that makes a part: ClickHouse wants few, large
  /// INSERTs, so the Writer lingers a little to gather more requests (docs/BENCHMARKS.md).
  int GroupLingerMs() const override { return 5; }
  Status Query(const EventQuery& query, EventPage* page) override;
  Status Aggregate(const AggregateQuery& query, std::vector<AggregateRow>* rows) override;
  Status CountEvents(const std::string& workspace, int64_t* count) override;
  Status PurgeBefore(int64_t cutoff_ms, int64_t* purged) override;
  Status PutKey(const KeyRecord& key) override;
  Status RevokeKey(const std::string& key, int64_t now_ms) override;
  Status ListKeys(std::vector<KeyRecord>* out) override;
  Status DeleteKey(const std::string& key) override;
  int64_t SizeBytes() override;
  Status Checkpoint() override;

 private:
  explicit ClickHouseStore(const ClickHouseUrl& url) : client_(url), db_(url.database) {}
  Status Init();
  std::string Table(const char* name) const;
  // Settings of the workspaces in `names`, creating unknown ones (Append's "created on first use").
  Status WorkspaceSettings(const std::vector<std::string>& names,
                           std::unordered_map<std::string, WorkspaceRecord>* out);
  // Waits until every mutation of `table` is done (ALTER ... DELETE is asynchronous in 18.16).
  Status WaitMutations(const std::string& table);

  ClickHouseClient client_;
  std::string db_;
  std::mutex append_mu_;  // one Append at a time per process (the Writer calls it from one thread)
  std::mutex cache_mu_;
  std::unordered_map<std::string, WorkspaceRecord> workspaces_;  // guarded by cache_mu_
};

namespace report {
class ReportStore;
}
/// The report queries over the same tables (collector/report/clickhouse_report_store.cc);
/// OpenReportStore calls it for clickhouse:// URLs.
Result<std::unique_ptr<report::ReportStore>> OpenClickHouseReportStore(const ClickHouseUrl& url);

}  // namespace tally::collector

#endif  // TALLY_COLLECTOR_STORE_CLICKHOUSE_STORE_H_
