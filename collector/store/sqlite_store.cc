#include "store/sqlite_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "store/clickhouse_store.h"
#include "store/user_bucket.h"
#include "thread_name.h"

namespace tally::collector {
namespace {

// The schema (docs/SCHEMA.md justifies each index by the query that needs it).
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS workspaces (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  fingerprint_dedup INTEGER NOT NULL DEFAULT 0,
  fingerprint_window_ms INTEGER NOT NULL DEFAULT 172800000
);
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY,
  workspace_id INTEGER NOT NULL,
  event_id TEXT NOT NULL,
  type TEXT NOT NULL,
  name TEXT NOT NULL,
  user_id TEXT,
  anonymous_id TEXT,
  session_id TEXT,
  created_at INTEGER NOT NULL,
  sent_at INTEGER,
  received_at INTEGER NOT NULL,
  derived_at INTEGER NOT NULL,
  time_flags INTEGER NOT NULL DEFAULT 0,
  properties TEXT NOT NULL,
  context TEXT NOT NULL,
  user_bucket INTEGER  -- UserBucket(user_id) (store/user_bucket.h), NULL without a user_id
);
CREATE UNIQUE INDEX IF NOT EXISTS events_by_id ON events(workspace_id, event_id);
-- The time index. Its user columns make it covering for the report side's distinct-user counts
-- (collector/report/sqlite_report_store.cc creates the same index with IF NOT EXISTS); it
-- replaced a plain (workspace_id, derived_at) index, one B-tree insert less per event.
CREATE INDEX IF NOT EXISTS events_by_time_user
  ON events(workspace_id, derived_at, user_id, anonymous_id, session_id);
DROP INDEX IF EXISTS events_by_time;
CREATE TABLE IF NOT EXISTS fingerprints (
  workspace_id INTEGER NOT NULL,
  fingerprint TEXT NOT NULL,
  seen_at INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, fingerprint)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS keys (
  key TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  workspace TEXT NOT NULL,
  source TEXT NOT NULL DEFAULT '',
  origins TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  revoked_at INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
)sql";

// The user index, created once every row with a user id has its bucket (AddUserBuckets). Keyed
// by bucket then time, it grows at kUserBuckets right edges, where the one it replaces, keyed by
// user id, took each event at a random place: docs/SCHEMA.md, "The user index".
constexpr const char* kUserIndex = R"sql(
CREATE INDEX IF NOT EXISTS events_by_user_bucket
  ON events(workspace_id, user_bucket, derived_at, user_id) WHERE user_id IS NOT NULL;
DROP INDEX IF EXISTS events_by_user;
)sql";

constexpr const char* kEventColumns =
    "event_id, type, name, user_id, anonymous_id, session_id, created_at, sent_at, received_at, "
    "derived_at, time_flags, properties, context, seq";

Status SqlError(sqlite3* db, const std::string& what) {
  return Status::Internal(what + ": " + (db ? sqlite3_errmsg(db) : "no database"));
}

Status Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return Status::Internal(std::string("sqlite: ") + msg);
  }
  return Status::Ok();
}

// Owns a prepared statement for one call (the hot path keeps its statements instead).
class Stmt {
 public:
  Stmt(sqlite3* db, const std::string& sql) {
    rc_ = sqlite3_prepare_v2(db, sql.c_str(), static_cast<int>(sql.size()), &stmt_, nullptr);
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  bool ok() const { return rc_ == SQLITE_OK; }
  sqlite3_stmt* get() { return stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = SQLITE_OK;
};

void BindText(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
}
// Empty optional ids are stored as NULL: smaller rows and a smaller partial user index.
void BindTextOrNull(sqlite3_stmt* s, int i, const std::string& v) {
  if (v.empty()) {
    sqlite3_bind_null(s, i);
  } else {
    BindText(s, i, v);
  }
}
// The 15 columns of one event row, parameters base+1 .. base+15, in the INSERT's column order.
constexpr int kEventParams = 15;
void BindEvent(sqlite3_stmt* s, int base, int64_t workspace_id, const StoredEvent& e) {
  sqlite3_bind_int64(s, base + 1, workspace_id);
  BindText(s, base + 2, e.event_id);
  BindText(s, base + 3, e.type);
  BindText(s, base + 4, e.name);
  BindTextOrNull(s, base + 5, e.user_id);
  BindTextOrNull(s, base + 6, e.anonymous_id);
  BindTextOrNull(s, base + 7, e.session_id);
  sqlite3_bind_int64(s, base + 8, e.created_at_ms);
  if (e.sent_at_ms) {
    sqlite3_bind_int64(s, base + 9, e.sent_at_ms);
  } else {
    sqlite3_bind_null(s, base + 9);
  }
  sqlite3_bind_int64(s, base + 10, e.received_at_ms);
  sqlite3_bind_int64(s, base + 11, e.derived_at_ms);
  sqlite3_bind_int64(s, base + 12, e.time_flags);
  BindText(s, base + 13, e.properties_json);
  BindText(s, base + 14, e.context_json);
  if (e.user_id.empty()) {
    sqlite3_bind_null(s, base + 15);
  } else {
    sqlite3_bind_int64(s, base + 15, UserBucket(e.user_id));
  }
}

// tally_user_bucket(user_id): UserBucket in SQL, for AddUserBuckets' UPDATE.
void UserBucketSql(sqlite3_context* ctx, int, sqlite3_value** argv) {
  const unsigned char* text = sqlite3_value_text(argv[0]);
  if (text == nullptr) {
    sqlite3_result_null(ctx);
    return;
  }
  sqlite3_result_int64(
      ctx, UserBucket(std::string_view(reinterpret_cast<const char*>(text),
                                       static_cast<size_t>(sqlite3_value_bytes(argv[0])))));
}

// Gives every row with a user id its user_bucket, then creates the user index over them. On a
// file from before buckets it adds the column and fills it in transactions of 100,000 rows, so
// an interrupted run resumes where it stopped and SQLite's autocheckpoint keeps the WAL bounded
// (it runs before the writer's own WAL hook replaces autocheckpoint); 10M rows took 20 s here
// (docs/SCHEMA.md, "The user index"). On a current file it looks, per workspace, for rows
// without a bucket in the bucket index, where NULL sorts first: there are none unless a collector
// from before buckets wrote to the file since.
Status AddUserBuckets(sqlite3* db) {
  bool has_column = false;
  {
    Stmt st(db, "SELECT 1 FROM pragma_table_info('events') WHERE name = 'user_bucket'");
    has_column = st.ok() && sqlite3_step(st.get()) == SQLITE_ROW;
  }
  if (!has_column) {
    Status s = Exec(db, "ALTER TABLE events ADD COLUMN user_bucket INTEGER");
    if (!s.ok()) return s;
  } else {
    bool missing = false;
    Stmt workspaces(db, "SELECT id FROM workspaces");
    Stmt probe(db,
               "SELECT 1 FROM events WHERE workspace_id = ?1 AND user_bucket IS NULL AND "
               "user_id IS NOT NULL LIMIT 1");
    if (!workspaces.ok() || !probe.ok()) return SqlError(db, "store: user buckets");
    while (!missing && sqlite3_step(workspaces.get()) == SQLITE_ROW) {
      sqlite3_bind_int64(probe.get(), 1, sqlite3_column_int64(workspaces.get(), 0));
      missing = sqlite3_step(probe.get()) == SQLITE_ROW;
      sqlite3_reset(probe.get());
    }
    if (!missing) return Exec(db, kUserIndex);
  }
  if (sqlite3_create_function_v2(db, "tally_user_bucket", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                 nullptr, &UserBucketSql, nullptr, nullptr, nullptr) != SQLITE_OK) {
    return SqlError(db, "store: user buckets");
  }
  int64_t max_seq = 0;
  {
    Stmt st(db, "SELECT max(seq) FROM events");
    if (st.ok() && sqlite3_step(st.get()) == SQLITE_ROW)
      max_seq = sqlite3_column_int64(st.get(), 0);
  }
  constexpr int64_t kChunk = 100000;
  Stmt fill(db,
            "UPDATE events SET user_bucket = tally_user_bucket(user_id) WHERE seq > ?1 AND "
            "seq <= ?2 AND user_id IS NOT NULL AND user_bucket IS NULL");
  if (!fill.ok()) return SqlError(db, "store: user buckets");
  for (int64_t from = 0; from < max_seq; from += kChunk) {
    sqlite3_bind_int64(fill.get(), 1, from);
    sqlite3_bind_int64(fill.get(), 2, from + kChunk);
    int rc = sqlite3_step(fill.get());
    sqlite3_reset(fill.get());
    if (rc != SQLITE_DONE) return SqlError(db, "store: filling user buckets");
  }
  return Exec(db, kUserIndex);
}

std::string ColumnText(sqlite3_stmt* s, int i) {
  const unsigned char* p = sqlite3_column_text(s, i);
  return p ? std::string(reinterpret_cast<const char*>(p),
                         static_cast<size_t>(sqlite3_column_bytes(s, i)))
           : std::string();
}

int64_t FileSize(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : 0;
}

// Cursor: "<derived_at>.<seq>" of the last row of the page (keyset pagination on the time index).
std::string MakeCursor(int64_t derived_at, int64_t seq) {
  return std::to_string(derived_at) + "." + std::to_string(seq);
}
bool ParseCursor(const std::string& c, int64_t* derived_at, int64_t* seq) {
  size_t dot = c.find('.');
  if (dot == std::string::npos) return false;
  char* end = nullptr;
  errno = 0;
  *derived_at = std::strtoll(c.c_str(), &end, 10);
  if (end != c.c_str() + dot || errno) return false;
  *seq = std::strtoll(c.c_str() + dot + 1, &end, 10);
  return *end == '\0' && errno == 0 && dot + 1 < c.size();
}

}  // namespace

Result<std::unique_ptr<Store>> OpenStore(const std::string& url, const StoreOptions& options) {
  if (url.rfind("clickhouse://", 0) == 0) {  // scale-out (store/clickhouse_store.h)
    Result<ClickHouseUrl> ch = ParseClickHouseUrl(url);
    if (!ch.ok()) return ch.status();
    return ClickHouseStore::Open(ch.value());
  }
  const std::string prefix = "sqlite:";
  if (url.compare(0, prefix.size(), prefix) != 0 || url.size() == prefix.size()) {
    return Status::InvalidArgument(
        "store: unsupported URL \"" + url +
        "\" (expected sqlite:<path> or clickhouse://user:password@host:port/database)");
  }
  return SqliteStore::Open(url.substr(prefix.size()), options);
}

Result<std::unique_ptr<Store>> SqliteStore::Open(const std::string& path,
                                                 const StoreOptions& options) {
  std::error_code ec;
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  std::unique_ptr<SqliteStore> store(new SqliteStore(path));
  Status s = store->Init(options);
  if (!s.ok()) return s;
  return std::unique_ptr<Store>(std::move(store));
}

Status SqliteStore::Init(const StoreOptions& options) {
  // SQLite's allocation statistics take a global mutex on every malloc and free (about 3% of
  // the append path's instructions under callgrind); nothing here reads them. Only possible
  // before SQLite initializes; later calls fail harmlessly with SQLITE_MISUSE.
  static std::once_flag memstatus_off;
  std::call_once(memstatus_off, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
  const int page_size = options.page_size;
  if (page_size < 512 || page_size > 65536 || (page_size & (page_size - 1)) != 0) {
    return Status::InvalidArgument("store: page size " + std::to_string(page_size) +
                                   " is not a power of two from 512 to 65536");
  }
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(path_.c_str(), &writer_, flags, nullptr) != SQLITE_OK) {
    return SqlError(writer_, "store: cannot open " + path_);
  }
  sqlite3_busy_timeout(writer_, 5000);
  // WAL: readers never block the writer. With sync_every_commit an acknowledged event survives
  // power loss too: SyncAppended fdatasyncs the WAL after each group commit, what
  // synchronous=FULL does inside COMMIT, but without holding the write lock, so the Writer
  // commits the next group meanwhile. synchronous=NORMAL still syncs around checkpoints and when
  // the WAL starts over, as FULL does.
  sync_every_commit_ = options.sync_every_commit;
  // Takes effect only while the file is new and empty (before the WAL exists); an existing file
  // keeps the page size it was created with.
  Status s = Exec(writer_, ("PRAGMA page_size=" + std::to_string(page_size)).c_str());
  if (!s.ok()) return s;
  s = Exec(writer_, "PRAGMA journal_mode=WAL");
  if (!s.ok()) return s;
  s = Exec(writer_, "PRAGMA synchronous=NORMAL");
  if (!s.ok()) return s;
  s = Exec(writer_, "PRAGMA cache_size=-65536;");
  if (!s.ok()) return s;
  s = Exec(writer_, kSchema);
  if (!s.ok()) return s;
  s = AddUserBuckets(writer_);
  if (!s.ok()) return s;
  if (sync_every_commit_) {
    // The WAL exists once the schema statement ran. Its directory entry is made durable once
    // (SQLite does the same on its first sync of a new WAL).
    const std::string wal = sqlite3_filename_wal(sqlite3_db_filename(writer_, "main"));
    wal_fd_ = open(wal.c_str(), O_RDONLY | O_CLOEXEC);
    if (wal_fd_ < 0) {
      return Status::Internal("store: cannot open " + wal + " to sync it: " + strerror(errno));
    }
    const std::string dir = std::filesystem::path(wal).parent_path().string();
    int dir_fd = open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0 || fsync(dir_fd) != 0) {
      std::string why = strerror(errno);
      if (dir_fd >= 0) close(dir_fd);
      return Status::Internal("store: cannot sync the directory of " + wal + ": " + why);
    }
    close(dir_fd);
  }
  // No autocheckpoint inside the writer's commits (a 16 MB checkpoint there held every queued
  // request for 60-75 ms): the checkpoint thread does it on its own connection. The hook replaces
  // SQLite's autocheckpoint hook on this connection.
  checkpoint_pages_ = std::max(1, options.wal_checkpoint_pages);
  wal_limit_pages_ = 4 * checkpoint_pages_;
  sqlite3_wal_hook(writer_, &SqliteStore::OnWalCommit, this);
  if (sqlite3_open_v2(path_.c_str(), &checkpointer_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    return SqlError(checkpointer_, "store: cannot open checkpointer on " + path_);
  }
  sqlite3_busy_timeout(checkpointer_, 5000);
  // A checkpoint syncs the WAL before copying it and the database after, as the writer would.
  s = Exec(checkpointer_,
           options.sync_every_commit ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
  if (!s.ok()) return s;
  checkpoint_thread_ = std::thread([this] { CheckpointLoop(); });
  NameThread(checkpoint_thread_, "tally-ckpt");

  const char* insert_sql =
      "INSERT OR IGNORE INTO events (workspace_id, event_id, type, name, user_id, anonymous_id, "
      "session_id, created_at, sent_at, received_at, derived_at, time_flags, properties, context, "
      "user_bucket) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)";
  if (sqlite3_prepare_v3(writer_, insert_sql, -1, SQLITE_PREPARE_PERSISTENT, &insert_event_,
                         nullptr) != SQLITE_OK ||
      sqlite3_prepare_v3(writer_,
                         "SELECT seen_at FROM fingerprints WHERE workspace_id=?1 AND "
                         "fingerprint=?2",
                         -1, SQLITE_PREPARE_PERSISTENT, &select_fingerprint_,
                         nullptr) != SQLITE_OK ||
      sqlite3_prepare_v3(writer_,
                         "INSERT INTO fingerprints (workspace_id, fingerprint, seen_at) "
                         "VALUES (?1, ?2, ?3) ON CONFLICT DO UPDATE SET seen_at=excluded.seen_at",
                         -1, SQLITE_PREPARE_PERSISTENT, &upsert_fingerprint_,
                         nullptr) != SQLITE_OK) {
    return SqlError(writer_, "store: prepare");
  }
  std::string rows_sql =
      "INSERT OR IGNORE INTO events (workspace_id, event_id, type, name, user_id, anonymous_id, "
      "session_id, created_at, sent_at, received_at, derived_at, time_flags, properties, context, "
      "user_bucket) VALUES ";
  std::string tuple = "(?";  // kEventParams parameters, BindEvent's
  for (int p = 1; p < kEventParams; ++p) tuple += ",?";
  tuple += ")";
  for (int r = 0; r < kRowsPerInsert; ++r) rows_sql += (r ? "," : "") + tuple;
  if (sqlite3_prepare_v3(writer_, rows_sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &insert_events_,
                         nullptr) != SQLITE_OK ||
      sqlite3_prepare_v3(writer_, "SELECT seq FROM events WHERE workspace_id=?1 AND event_id=?2",
                         -1, SQLITE_PREPARE_PERSISTENT, &select_seq_, nullptr) != SQLITE_OK ||
      sqlite3_prepare_v3(writer_, "SELECT max(seq) FROM events", -1, SQLITE_PREPARE_PERSISTENT,
                         &max_seq_, nullptr) != SQLITE_OK) {
    return SqlError(writer_, "store: prepare");
  }

  if (sqlite3_open_v2(path_.c_str(), &reader_, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    return SqlError(reader_, "store: cannot open reader on " + path_);
  }
  sqlite3_busy_timeout(reader_, 5000);

  std::vector<WorkspaceRecord> all;
  Stmt st(writer_, "SELECT id, name, fingerprint_dedup, fingerprint_window_ms FROM workspaces");
  while (sqlite3_step(st.get()) == SQLITE_ROW) {
    WorkspaceInfo info{sqlite3_column_int64(st.get(), 0), sqlite3_column_int(st.get(), 2) != 0,
                       sqlite3_column_int64(st.get(), 3)};
    workspaces_[ColumnText(st.get(), 1)] = info;
  }
  return Status::Ok();
}

SqliteStore::~SqliteStore() {
  {
    std::lock_guard<std::mutex> lock(wake_mu_);
    stopping_ = true;
  }
  wake_cv_.notify_all();
  if (checkpoint_thread_.joinable()) checkpoint_thread_.join();
  sqlite3_close_v2(checkpointer_);
  sqlite3_finalize(insert_event_);
  sqlite3_finalize(insert_events_);
  sqlite3_finalize(select_seq_);
  sqlite3_finalize(max_seq_);
  sqlite3_finalize(select_fingerprint_);
  sqlite3_finalize(upsert_fingerprint_);
  sqlite3_close_v2(reader_);
  sqlite3_close_v2(writer_);
  if (wal_fd_ >= 0) close(wal_fd_);
}

Status SqliteStore::PutWorkspace(const WorkspaceRecord& w) {
  {
    std::lock_guard<WriteGate> lock(write_mu_);
    Stmt st(writer_,
            "INSERT INTO workspaces (name, fingerprint_dedup, fingerprint_window_ms) "
            "VALUES (?1, ?2, ?3) ON CONFLICT(name) DO UPDATE SET "
            "fingerprint_dedup=excluded.fingerprint_dedup, "
            "fingerprint_window_ms=excluded.fingerprint_window_ms RETURNING id");
    BindText(st.get(), 1, w.name);
    sqlite3_bind_int(st.get(), 2, w.fingerprint_dedup ? 1 : 0);
    sqlite3_bind_int64(st.get(), 3, w.fingerprint_window_ms);
    if (sqlite3_step(st.get()) != SQLITE_ROW) return SqlError(writer_, "store: put workspace");
    workspaces_[w.name] = WorkspaceInfo{sqlite3_column_int64(st.get(), 0), w.fingerprint_dedup,
                                        w.fingerprint_window_ms};
  }
  return SyncAppended();  // durable as an Append is
}

Status SqliteStore::ListWorkspaces(std::vector<WorkspaceRecord>* out) {
  std::lock_guard<WriteGate> lock(write_mu_);
  out->clear();
  Stmt st(writer_,
          "SELECT name, fingerprint_dedup, fingerprint_window_ms FROM workspaces ORDER BY name");
  while (sqlite3_step(st.get()) == SQLITE_ROW) {
    out->push_back(WorkspaceRecord{ColumnText(st.get(), 0), sqlite3_column_int(st.get(), 1) != 0,
                                   sqlite3_column_int64(st.get(), 2)});
  }
  return Status::Ok();
}

Result<SqliteStore::WorkspaceInfo> SqliteStore::WorkspaceForWrite(const std::string& name) {
  auto it = workspaces_.find(name);
  if (it != workspaces_.end()) return it->second;
  Stmt st(writer_,
          "INSERT INTO workspaces (name) VALUES (?1) ON CONFLICT(name) DO UPDATE SET name=name "
          "RETURNING id, fingerprint_dedup, fingerprint_window_ms");
  BindText(st.get(), 1, name);
  if (sqlite3_step(st.get()) != SQLITE_ROW) return SqlError(writer_, "store: workspace");
  WorkspaceInfo info{sqlite3_column_int64(st.get(), 0), sqlite3_column_int(st.get(), 1) != 0,
                     sqlite3_column_int64(st.get(), 2)};
  workspaces_[name] = info;
  return info;
}

Status SqliteStore::Append(const std::vector<AppendBatch*>& group, int64_t now_ms) {
  Status s = AppendNoSync(group, now_ms);
  return s.ok() ? SyncAppended() : s;
}

Status SqliteStore::SyncAppended() {
  if (!sync_every_commit_) return Status::Ok();
  std::lock_guard<std::mutex> lock(sync_mu_);
  if (sync_failed_.load()) return Status::Internal("store: an earlier WAL sync failed");
  int rc;
  do {
    rc = fdatasync(wal_fd_);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    sync_failed_.store(true);
    return Status::Internal(std::string("store: syncing the WAL failed: ") + strerror(errno) +
                            "; refusing further appends until the collector restarts");
  }
  return Status::Ok();
}

Status SqliteStore::AppendNoSync(const std::vector<AppendBatch*>& group, int64_t now_ms) {
  if (sync_failed_.load()) {
    return Status::Internal(
        "store: an earlier WAL sync failed; refusing appends until the collector restarts");
  }
  std::lock_guard<WriteGate> lock(write_mu_);
  Status s = Exec(writer_, "BEGIN IMMEDIATE");
  if (!s.ok()) return s;
  s = AppendLocked(group, now_ms);
  if (s.ok()) s = Exec(writer_, "COMMIT");
  if (!s.ok()) {
    Exec(writer_, "ROLLBACK");
    // A rolled-back transaction may have created workspaces that no longer exist.
    workspaces_.clear();
    Stmt st(writer_, "SELECT id, name, fingerprint_dedup, fingerprint_window_ms FROM workspaces");
    while (sqlite3_step(st.get()) == SQLITE_ROW) {
      workspaces_[ColumnText(st.get(), 1)] =
          WorkspaceInfo{sqlite3_column_int64(st.get(), 0), sqlite3_column_int(st.get(), 2) != 0,
                        sqlite3_column_int64(st.get(), 3)};
    }
  }
  return s;
}

Status SqliteStore::AppendLocked(const std::vector<AppendBatch*>& group, int64_t now_ms) {
  if (sqlite3_step(max_seq_) != SQLITE_ROW) {
    sqlite3_reset(max_seq_);
    return SqlError(writer_, "store: max seq");
  }
  max_seq_seen_ = sqlite3_column_int64(max_seq_, 0);
  sqlite3_reset(max_seq_);
  // Rows of workspaces without the content rule wait here for multi-row INSERTs, across the
  // requests of the group, in order.
  std::vector<PendingRow> rows;
  for (AppendBatch* batch : group) {
    Result<WorkspaceInfo> ws = WorkspaceForWrite(batch->workspace);
    if (!ws.ok()) return ws.status();
    const WorkspaceInfo& info = ws.value();
    batch->outcomes.assign(batch->events.size(), AppendOutcome::kStored);
    if (!info.fingerprint_dedup) {
      for (size_t i = 0; i < batch->events.size(); ++i) {
        rows.push_back(PendingRow{info.id, &batch->events[i], &batch->outcomes[i]});
      }
      continue;
    }
    Status s = FlushRows(&rows);  // keep insertion (seq) order the group's order
    if (!s.ok()) return s;
    for (size_t i = 0; i < batch->events.size(); ++i) {
      const StoredEvent& e = batch->events[i];
      const bool by_content = !e.fingerprint.empty();
      if (by_content) {
        sqlite3_stmt* q = select_fingerprint_;
        sqlite3_bind_int64(q, 1, info.id);
        BindText(q, 2, e.fingerprint);
        int rc = sqlite3_step(q);
        bool recent =
            rc == SQLITE_ROW && sqlite3_column_int64(q, 0) > now_ms - info.fingerprint_window_ms;
        sqlite3_reset(q);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) return SqlError(writer_, "store: fingerprint");
        if (recent) {
          batch->outcomes[i] = AppendOutcome::kDuplicateContent;
          continue;
        }
      }
      s = InsertOne(info.id, e, &batch->outcomes[i]);
      if (!s.ok()) return s;
      if (by_content && batch->outcomes[i] == AppendOutcome::kStored) {
        sqlite3_stmt* u = upsert_fingerprint_;
        sqlite3_bind_int64(u, 1, info.id);
        BindText(u, 2, e.fingerprint);
        sqlite3_bind_int64(u, 3, now_ms);
        int rc = sqlite3_step(u);
        sqlite3_reset(u);
        if (rc != SQLITE_DONE) return SqlError(writer_, "store: fingerprint");
      }
    }
  }
  return FlushRows(&rows);
}

Status SqliteStore::InsertOne(int64_t workspace_id, const StoredEvent& e, AppendOutcome* outcome) {
  sqlite3_stmt* ins = insert_event_;
  BindEvent(ins, 0, workspace_id, e);
  int rc = sqlite3_step(ins);
  sqlite3_reset(ins);
  if (rc != SQLITE_DONE) return SqlError(writer_, "store: insert");
  if (sqlite3_changes(writer_) == 0) {
    // The unique index (workspace_id, event_id) refused it: stored before, forever.
    *outcome = AppendOutcome::kDuplicateId;
  } else {
    max_seq_seen_ = sqlite3_last_insert_rowid(writer_);
  }
  return Status::Ok();
}

Status SqliteStore::InsertRows(const std::vector<PendingRow>& rows, size_t begin) {
  sqlite3_stmt* ins = insert_events_;
  for (int r = 0; r < kRowsPerInsert; ++r) {
    const PendingRow& row = rows[begin + static_cast<size_t>(r)];
    BindEvent(ins, r * kEventParams, row.workspace_id, *row.event);
  }
  const int64_t before = max_seq_seen_;
  int rc = sqlite3_step(ins);
  sqlite3_reset(ins);
  if (rc != SQLITE_DONE) return SqlError(writer_, "store: insert");
  const int inserted = sqlite3_changes(writer_);
  if (inserted > 0) max_seq_seen_ = sqlite3_last_insert_rowid(writer_);
  if (inserted == kRowsPerInsert) return Status::Ok();
  // Some rows were ignored by the unique index. A row is ours when its id's seq is newer than
  // the statement, and then only for the first row carrying that id (a batch may repeat one).
  std::vector<std::pair<int64_t, const std::string*>> claimed;
  for (int r = 0; r < kRowsPerInsert; ++r) {
    const PendingRow& row = rows[begin + static_cast<size_t>(r)];
    sqlite3_bind_int64(select_seq_, 1, row.workspace_id);
    BindText(select_seq_, 2, row.event->event_id);
    rc = sqlite3_step(select_seq_);
    const int64_t seq = rc == SQLITE_ROW ? sqlite3_column_int64(select_seq_, 0) : 0;
    sqlite3_reset(select_seq_);
    if (rc != SQLITE_ROW) return SqlError(writer_, "store: insert lookup");
    bool mine = seq > before;
    for (const auto& [ws, id] : claimed) {
      if (mine && ws == row.workspace_id && *id == row.event->event_id) mine = false;
    }
    if (mine) {
      claimed.emplace_back(row.workspace_id, &row.event->event_id);
    } else {
      *row.outcome = AppendOutcome::kDuplicateId;
    }
  }
  return Status::Ok();
}

Status SqliteStore::FlushRows(std::vector<PendingRow>* rows) {
  size_t i = 0;
  for (; i + kRowsPerInsert <= rows->size(); i += kRowsPerInsert) {
    Status s = InsertRows(*rows, i);
    if (!s.ok()) return s;
  }
  for (; i < rows->size(); ++i) {
    const PendingRow& row = (*rows)[i];
    Status s = InsertOne(row.workspace_id, *row.event, row.outcome);
    if (!s.ok()) return s;
  }
  rows->clear();
  return Status::Ok();
}

int64_t SqliteStore::WorkspaceIdForRead(const std::string& name) {
  Stmt st(reader_, "SELECT id FROM workspaces WHERE name=?1");
  BindText(st.get(), 1, name);
  return sqlite3_step(st.get()) == SQLITE_ROW ? sqlite3_column_int64(st.get(), 0) : 0;
}

Status SqliteStore::Query(const EventQuery& q, EventPage* page) {
  std::lock_guard<std::mutex> lock(read_mu_);
  page->events.clear();
  page->next_cursor.clear();
  int64_t ws = WorkspaceIdForRead(q.workspace);
  if (ws == 0) return Status::Ok();
  int64_t cursor_time = 0, cursor_seq = 0;
  const bool has_cursor = !q.cursor.empty();
  if (has_cursor && !ParseCursor(q.cursor, &cursor_time, &cursor_seq)) {
    return Status::InvalidArgument("cursor: not a cursor this server issued");
  }
  // A user's rows through the user index, whatever SQLite guesses without statistics.
  std::string sql = std::string("SELECT ") + kEventColumns + " FROM events" +
                    (q.user_id.empty() ? "" : " INDEXED BY events_by_user_bucket") +
                    " WHERE workspace_id=?1";
  if (q.from_ms) sql += " AND derived_at >= ?2";
  if (q.to_ms) sql += " AND derived_at < ?3";
  if (!q.name.empty()) sql += " AND name = ?4";
  if (!q.user_id.empty()) sql += " AND user_bucket = ?11 AND user_id = ?5";
  if (!q.anonymous_id.empty()) sql += " AND anonymous_id = ?6";
  if (!q.session_id.empty()) sql += " AND session_id = ?7";
  if (has_cursor) sql += " AND (derived_at, seq) > (?8, ?9)";
  sql += " ORDER BY derived_at, seq LIMIT ?10";
  Stmt st(reader_, sql);
  if (!st.ok()) return SqlError(reader_, "store: query");
  sqlite3_bind_int64(st.get(), 1, ws);
  if (q.from_ms) sqlite3_bind_int64(st.get(), 2, *q.from_ms);
  if (q.to_ms) sqlite3_bind_int64(st.get(), 3, *q.to_ms);
  if (!q.name.empty()) BindText(st.get(), 4, q.name);
  if (!q.user_id.empty()) {
    BindText(st.get(), 5, q.user_id);
    sqlite3_bind_int64(st.get(), 11, UserBucket(q.user_id));
  }
  if (!q.anonymous_id.empty()) BindText(st.get(), 6, q.anonymous_id);
  if (!q.session_id.empty()) BindText(st.get(), 7, q.session_id);
  sqlite3_bind_int64(st.get(), 8, cursor_time);
  sqlite3_bind_int64(st.get(), 9, cursor_seq);
  size_t limit = q.limit == 0 ? 100 : q.limit;
  sqlite3_bind_int64(st.get(), 10,
                     static_cast<int64_t>(limit) + 1);  // one more: is there a next page?
  int64_t last_time = 0, last_seq = 0;
  int rc;
  while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
    if (page->events.size() == limit) {
      page->next_cursor = MakeCursor(last_time, last_seq);
      break;
    }
    sqlite3_stmt* s = st.get();
    StoredEvent e;
    e.event_id = ColumnText(s, 0);
    e.type = ColumnText(s, 1);
    e.name = ColumnText(s, 2);
    e.user_id = ColumnText(s, 3);
    e.anonymous_id = ColumnText(s, 4);
    e.session_id = ColumnText(s, 5);
    e.created_at_ms = sqlite3_column_int64(s, 6);
    e.sent_at_ms = sqlite3_column_int64(s, 7);
    e.received_at_ms = sqlite3_column_int64(s, 8);
    e.derived_at_ms = sqlite3_column_int64(s, 9);
    e.time_flags = static_cast<uint32_t>(sqlite3_column_int64(s, 10));
    e.properties_json = ColumnText(s, 11);
    e.context_json = ColumnText(s, 12);
    last_time = e.derived_at_ms;
    last_seq = sqlite3_column_int64(s, 13);
    page->events.push_back(std::move(e));
  }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return SqlError(reader_, "store: query");
  return Status::Ok();
}

Status SqliteStore::Aggregate(const AggregateQuery& q, std::vector<AggregateRow>* rows) {
  std::lock_guard<std::mutex> lock(read_mu_);
  rows->clear();
  int64_t ws = WorkspaceIdForRead(q.workspace);
  if (ws == 0) return Status::Ok();
  if (Status s = CheckAggregate(q); !s.ok()) return s;
  std::string bucket = q.bucket_ms > 0 ? "((derived_at - ?2) / ?4) * ?4 + ?2" : "?2";
  const std::string group = AggregateGroupColumn(q.group_by, "COALESCE(user_id, '')");
  std::string value =
      q.distinct_users ? "COUNT(DISTINCT COALESCE(user_id, anonymous_id))" : "COUNT(*)";
  std::string sql = "SELECT " + bucket + " AS b, " + group + " AS g, " + value +
                    " FROM events WHERE workspace_id=?1 AND derived_at >= ?2 AND derived_at < ?3";
  if (!q.name.empty()) sql += " AND name = ?5";
  sql += " GROUP BY b, g ORDER BY b, g";
  Stmt st(reader_, sql);
  if (!st.ok()) return SqlError(reader_, "store: aggregate");
  sqlite3_bind_int64(st.get(), 1, ws);
  sqlite3_bind_int64(st.get(), 2, q.from_ms);
  sqlite3_bind_int64(st.get(), 3, q.to_ms);
  if (q.bucket_ms > 0) sqlite3_bind_int64(st.get(), 4, q.bucket_ms);
  if (!q.name.empty()) BindText(st.get(), 5, q.name);
  int rc;
  while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
    rows->push_back(AggregateRow{sqlite3_column_int64(st.get(), 0), ColumnText(st.get(), 1),
                                 sqlite3_column_int64(st.get(), 2)});
  }
  if (rc != SQLITE_DONE) return SqlError(reader_, "store: aggregate");
  return Status::Ok();
}

Status SqliteStore::CountEvents(const std::string& workspace, int64_t* count) {
  std::lock_guard<std::mutex> lock(read_mu_);
  *count = 0;
  if (workspace.empty()) {
    Stmt st(reader_, "SELECT COUNT(*) FROM events");
    if (sqlite3_step(st.get()) == SQLITE_ROW) *count = sqlite3_column_int64(st.get(), 0);
    return Status::Ok();
  }
  int64_t ws = WorkspaceIdForRead(workspace);
  if (ws == 0) return Status::Ok();
  Stmt st(reader_, "SELECT COUNT(*) FROM events WHERE workspace_id=?1");
  sqlite3_bind_int64(st.get(), 1, ws);
  if (sqlite3_step(st.get()) == SQLITE_ROW) *count = sqlite3_column_int64(st.get(), 0);
  return Status::Ok();
}

Status SqliteStore::PurgeBefore(int64_t cutoff_ms, int64_t* purged) {
  *purged = 0;
  std::vector<int64_t> ids;
  {
    std::lock_guard<WriteGate> lock(write_mu_);
    for (const auto& [name, info] : workspaces_) ids.push_back(info.id);
  }
  // Small transactions, releasing the writer between them, so a large purge never stalls
  // ingest for long.
  for (int64_t ws : ids) {
    for (;;) {
      std::lock_guard<WriteGate> lock(write_mu_);
      Stmt st(writer_,
              "DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE workspace_id=?1 "
              "AND derived_at < ?2 LIMIT 5000)");
      sqlite3_bind_int64(st.get(), 1, ws);
      sqlite3_bind_int64(st.get(), 2, cutoff_ms);
      if (sqlite3_step(st.get()) != SQLITE_DONE) return SqlError(writer_, "store: purge");
      int n = sqlite3_changes(writer_);
      *purged += n;
      if (n < 5000) break;
    }
  }
  {
    std::lock_guard<WriteGate> lock(write_mu_);
    Stmt st(writer_, "DELETE FROM fingerprints WHERE seen_at < ?1");
    sqlite3_bind_int64(st.get(), 1, cutoff_ms);
    if (sqlite3_step(st.get()) != SQLITE_DONE) return SqlError(writer_, "store: purge");
  }
  return SyncAppended();
}

Status SqliteStore::PutKey(const KeyRecord& k) {
  {
    std::lock_guard<WriteGate> lock(write_mu_);
    Stmt st(writer_,
            "INSERT OR REPLACE INTO keys (key, kind, workspace, source, origins, created_at, "
            "revoked_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    BindText(st.get(), 1, k.key);
    std::string kind = KeyKindName(k.kind);
    BindText(st.get(), 2, kind);
    BindText(st.get(), 3, k.workspace);
    BindText(st.get(), 4, k.source);
    std::string origins = JoinOrigins(k.origins);
    BindText(st.get(), 5, origins);
    sqlite3_bind_int64(st.get(), 6, k.created_at_ms);
    sqlite3_bind_int64(st.get(), 7, k.revoked_at_ms);
    if (sqlite3_step(st.get()) != SQLITE_DONE) return SqlError(writer_, "store: put key");
  }
  return SyncAppended();  // durable as an Append is
}

Status SqliteStore::RevokeKey(const std::string& key, int64_t now_ms) {
  {
    std::lock_guard<WriteGate> lock(write_mu_);
    Stmt st(writer_, "UPDATE keys SET revoked_at=?2 WHERE key=?1 AND revoked_at=0");
    BindText(st.get(), 1, key);
    sqlite3_bind_int64(st.get(), 2, now_ms);
    if (sqlite3_step(st.get()) != SQLITE_DONE) return SqlError(writer_, "store: revoke key");
    if (sqlite3_changes(writer_) == 0) {
      return Status::NotFound("key: no live key \"" + key + "\"");
    }
  }
  return SyncAppended();  // durable as an Append is
}

Status SqliteStore::DeleteKey(const std::string& key) {
  {
    std::lock_guard<WriteGate> lock(write_mu_);
    Stmt st(writer_, "DELETE FROM keys WHERE key=?1");
    BindText(st.get(), 1, key);
    if (sqlite3_step(st.get()) != SQLITE_DONE) return SqlError(writer_, "store: delete key");
  }
  return SyncAppended();  // durable as an Append is
}

Status SqliteStore::ListKeys(std::vector<KeyRecord>* out) {
  std::lock_guard<WriteGate> lock(write_mu_);
  out->clear();
  Stmt st(writer_,
          "SELECT key, kind, workspace, source, origins, created_at, revoked_at FROM keys "
          "ORDER BY workspace, kind, key");
  while (sqlite3_step(st.get()) == SQLITE_ROW) {
    KeyRecord k;
    k.key = ColumnText(st.get(), 0);
    ParseKeyKind(ColumnText(st.get(), 1), &k.kind);
    k.workspace = ColumnText(st.get(), 2);
    k.source = ColumnText(st.get(), 3);
    k.origins = SplitOrigins(ColumnText(st.get(), 4));
    k.created_at_ms = sqlite3_column_int64(st.get(), 5);
    k.revoked_at_ms = sqlite3_column_int64(st.get(), 6);
    out->push_back(std::move(k));
  }
  return Status::Ok();
}

int64_t SqliteStore::SizeBytes() { return FileSize(path_) + FileSize(path_ + "-wal"); }

int SqliteStore::OnWalCommit(void* self, sqlite3* db, const char* name, int pages) {
  auto* store = static_cast<SqliteStore*>(self);
  store->wal_pages_.store(pages, std::memory_order_relaxed);
  if (pages >= store->wal_limit_pages_) {
    // The checkpoint thread fell behind (or readers keep old frames in use): checkpoint here,
    // between two transactions, as SQLite's autocheckpoint would. While the checkpoint thread
    // is copying, PASSIVE answers SQLITE_BUSY at once; that copy needs no lock this thread
    // holds (its second step waits for write_mu_, held here), so wait for it and go again. The
    // writer's own checkpoint then backfills everything readers allow, and its next
    // transaction starts the WAL over.
    for (int attempt = 0; attempt < 5000; ++attempt) {
      if (sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr) !=
          SQLITE_BUSY) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  } else if (pages >= store->checkpoint_pages_) {
    std::lock_guard<std::mutex> lock(store->wake_mu_);
    store->checkpoint_wanted_ = true;
    store->wake_cv_.notify_one();
  }
  return SQLITE_OK;
}

void SqliteStore::CheckpointLoop() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(wake_mu_);
      wake_cv_.wait(lock, [this] { return stopping_ || checkpoint_wanted_; });
      if (stopping_) return;
      checkpoint_wanted_ = false;
    }
    std::lock_guard<std::mutex> one(checkpoint_mu_);
    // The bulk of the copy (and its fsyncs) while the writer goes on committing; PASSIVE never
    // blocks the writer or the readers. Each round copies what the writer committed during the
    // previous one, so the rounds shrink; a few are enough.
    int tail = 0;
    for (int round = 0; round < 4; ++round) {
      int log = 0, done = 0;
      if (sqlite3_wal_checkpoint_v2(checkpointer_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log,
                                    &done) != SQLITE_OK) {
        tail = -1;
        break;
      }
      tail = wal_pages_.load(std::memory_order_relaxed) - done;
      if (tail < kCheckpointTailPages) break;
    }
    // Then, between two of the writer's transactions, the last few frames (the writer waits
    // briefly). With the whole WAL in the database, the writer's next transaction starts the
    // WAL over from its beginning; a checkpoint that always trailed the writer would leave the
    // WAL growing to wal_limit_pages_. When the rounds did not catch up (a slow disk), the
    // writer is not held for a long copy: the next commit wakes this thread again.
    if (tail < 0 || tail > 2 * kCheckpointTailPages) continue;
    std::lock_guard<WriteGate> lock(write_mu_);
    sqlite3_wal_checkpoint_v2(checkpointer_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  }
}

Status SqliteStore::Checkpoint() {
  std::lock_guard<std::mutex> one(checkpoint_mu_);
  std::lock_guard<WriteGate> lock(write_mu_);
  if (sqlite3_wal_checkpoint_v2(writer_, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr) !=
      SQLITE_OK) {
    return SqlError(writer_, "store: checkpoint");
  }
  return Status::Ok();
}

}  // namespace tally::collector
