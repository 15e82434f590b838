// The default store: one SQLite file in WAL mode. The schema and the reason for each index are in
// docs/SCHEMA.md; the SQL itself is at the top of sqlite_store.cc.
#ifndef TALLY_COLLECTOR_STORE_SQLITE_STORE_H_
#define TALLY_COLLECTOR_STORE_SQLITE_STORE_H_

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "store/store.h"
#include "store/write_gate.h"

struct sqlite3;
struct sqlite3_stmt;

namespace tally::collector {

/// Thread-safe. Append and the key/workspace writes share one writer connection (SQLite has one
/// writer at a time anyway); Query, Aggregate and CountEvents use a second connection, which WAL
/// lets read while the writer commits. WAL checkpoints run on a thread of their own with a third
/// connection (docs/SCHEMA.md, "Checkpoints"), not inside the writer's commits.
class SqliteStore final : public Store {
 public:
  static Result<std::unique_ptr<Store>> Open(const std::string& path, const StoreOptions& options);
  ~SqliteStore() override;

  Status PutWorkspace(const WorkspaceRecord& workspace) override;
  Status ListWorkspaces(std::vector<WorkspaceRecord>* out) override;
  Status Append(const std::vector<AppendBatch*>& group, int64_t now_ms) override;
  Status AppendNoSync(const std::vector<AppendBatch*>& group, int64_t now_ms) override;
  Status SyncAppended() override;
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
  struct WorkspaceInfo {
    int64_t id = 0;
    bool fingerprint_dedup = false;
    int64_t fingerprint_window_ms = 0;
  };

  explicit SqliteStore(std::string path)
      : path_(std::move(path)), write_gate_(WriteGateFor(path_)), write_mu_(*write_gate_) {}
  Status Init(const StoreOptions& options);
  // Requires write_mu_.
  Result<WorkspaceInfo> WorkspaceForWrite(const std::string& name);
  Status AppendLocked(const std::vector<AppendBatch*>& group, int64_t now_ms);
  // One event through the single-row statement (fingerprint workspaces, and what is left after
  // whole multi-row statements); sets *outcome to kDuplicateId when the id was stored before.
  Status InsertOne(int64_t workspace_id, const StoredEvent& e, AppendOutcome* outcome);
  // One event row waiting for a multi-row INSERT.
  struct PendingRow {
    int64_t workspace_id;
    const StoredEvent* event;
    AppendOutcome* outcome;
  };
  // kRowsPerInsert rows from `rows` starting at `begin`, in one statement.
  Status InsertRows(const std::vector<PendingRow>& rows, size_t begin);
  // Inserts `rows` (kRowsPerInsert at a time, the rest one by one) and clears it.
  Status FlushRows(std::vector<PendingRow>* rows);
  // Reader side: the id of a workspace, or 0 when it does not exist.
  int64_t WorkspaceIdForRead(const std::string& name);
  // sqlite3_wal_hook on the writer, called after each commit with the WAL's size in pages.
  static int OnWalCommit(void* self, sqlite3* db, const char* name, int pages);
  void CheckpointLoop();

  std::string path_;
  // StoreOptions::sync_every_commit. The writer connection runs with synchronous=NORMAL either
  // way; with it, SyncAppended fdatasyncs the WAL through wal_fd_ (its own descriptor of the WAL
  // file), which gives each commit what synchronous=FULL would, outside the write lock.
  bool sync_every_commit_ = true;
  std::mutex sync_mu_;  // one fdatasync at a time; guards wal_fd_
  int wal_fd_ = -1;
  // Set for good when a WAL sync failed: after a failed fsync Linux may already have dropped the
  // unwritten pages, so nothing committed since can be called durable; appends are refused.
  std::atomic<bool> sync_failed_{false};
  // The file's write gate (write_gate.h), shared with the report rollup job's connection.
  std::shared_ptr<WriteGate> write_gate_;
  WriteGate& write_mu_;
  sqlite3* writer_ = nullptr;
  sqlite3_stmt* insert_event_ = nullptr;
  // The same INSERT with kRowsPerInsert VALUES tuples: one statement run (cursor opening,
  // VdbeHalt, reset) per kRowsPerInsert rows instead of per row.
  static constexpr int kRowsPerInsert = 32;
  sqlite3_stmt* insert_events_ = nullptr;
  sqlite3_stmt* select_seq_ = nullptr;  // seq of (workspace_id, event_id), for duplicates
  sqlite3_stmt* max_seq_ = nullptr;
  // Within an Append transaction: every row with seq above this was inserted by it. New rows
  // get max(seq) + 1, and only this connection writes events, so a multi-row INSERT that
  // ignored some rows can tell its own rows from older ones by seq.
  int64_t max_seq_seen_ = 0;
  sqlite3_stmt* select_fingerprint_ = nullptr;
  sqlite3_stmt* upsert_fingerprint_ = nullptr;
  std::unordered_map<std::string, WorkspaceInfo> workspaces_;  // guarded by write_mu_

  std::mutex read_mu_;
  sqlite3* reader_ = nullptr;

  // Checkpoints. Lock order: checkpoint_mu_, then write_mu_; wake_mu_ is never held with either.
  std::mutex checkpoint_mu_;  // one checkpoint at a time (the thread's, or Checkpoint())
  sqlite3* checkpointer_ = nullptr;
  // WAL pages at which the checkpoint thread starts (StoreOptions::wal_checkpoint_pages), and at
  // which the writer checkpoints itself after a commit, as SQLite's autocheckpoint would: the
  // bound on WAL growth when the checkpoint thread falls behind.
  int checkpoint_pages_ = 4000;
  int wal_limit_pages_ = 16000;
  // The checkpoint thread's last round, under write_mu_, copies at most about this many pages.
  static constexpr int kCheckpointTailPages = 256;
  std::atomic<int> wal_pages_{0};  // the WAL's size after the writer's last commit
  std::mutex wake_mu_;
  std::condition_variable wake_cv_;
  bool checkpoint_wanted_ = false;  // guarded by wake_mu_
  bool stopping_ = false;           // guarded by wake_mu_
  std::thread checkpoint_thread_;
};

}  // namespace tally::collector

#endif  // TALLY_COLLECTOR_STORE_SQLITE_STORE_H_
