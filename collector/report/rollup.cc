// The rollup job (rollup.h). Each chunk is read in a read transaction, aggregated in memory, and
// written in one short write transaction that first checks that no delete ran in between (a
// counter the delete trigger bumps); if one did, the chunk is read again.
#include "report/rollup.h"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <utility>
#include <vector>

#include "report/json_members.h"

namespace tally::collector::report {
namespace {

// docs/SCHEMA.md, "Report rollups", describes each table.
constexpr const char* kRollupSchema = R"sql(
CREATE TABLE IF NOT EXISTS rollup_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  watermark INTEGER NOT NULL,
  deletes INTEGER NOT NULL
);
INSERT OR IGNORE INTO rollup_state (id, watermark, deletes) VALUES (1, 0, 0);
CREATE TABLE IF NOT EXISTS rollup_hours (
  workspace_id INTEGER NOT NULL,
  hour INTEGER NOT NULL,
  events INTEGER NOT NULL,
  keys INTEGER NOT NULL,
  keys_full INTEGER NOT NULL,
  users BLOB NOT NULL,
  sessions BLOB NOT NULL,
  PRIMARY KEY (workspace_id, hour)
);
CREATE TABLE IF NOT EXISTS rollup_names (
  workspace_id INTEGER NOT NULL,
  hour INTEGER NOT NULL,
  name TEXT NOT NULL,
  type TEXT NOT NULL,
  events INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, hour, name, type)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rollup_keys (
  workspace_id INTEGER NOT NULL,
  key TEXT NOT NULL,
  hour INTEGER NOT NULL,
  pairs INTEGER NOT NULL,
  overflow INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, key, hour)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rollup_props (
  workspace_id INTEGER NOT NULL,
  key TEXT NOT NULL,
  hour INTEGER NOT NULL,
  name TEXT NOT NULL,
  value TEXT NOT NULL,
  events INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, key, hour, name, value)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rollup_dirty (
  workspace_id INTEGER NOT NULL,
  hour INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, hour)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS rollup_after_delete AFTER DELETE ON events BEGIN
  INSERT OR IGNORE INTO rollup_dirty (workspace_id, hour)
    SELECT old.workspace_id,
           old.derived_at - ((old.derived_at % 3600000) + 3600000) % 3600000
    FROM rollup_state WHERE id = 1 AND old.seq <= watermark;
  UPDATE rollup_state SET deletes = deletes + 1,
    watermark = min(watermark, (SELECT ifnull(max(seq), 0) FROM events)) WHERE id = 1;
END;
)sql";

class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Status status() const { return rc_ == SQLITE_OK ? Status::Ok() : Error(); }
  sqlite3_stmt* get() { return stmt_; }
  Stmt& Int(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Stmt& Text(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Blob(int i, const std::vector<uint64_t>& v) {
    sqlite3_bind_blob(stmt_, i, v.empty() ? "" : static_cast<const void*>(v.data()),
                      static_cast<int>(v.size() * 8), SQLITE_TRANSIENT);
    return *this;
  }
  // SQLITE_ROW → true; SQLITE_DONE → false with ok status; errors → false with *status set.
  bool Step(Status* status) {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc != SQLITE_DONE) *status = Error();
    return false;
  }
  // Runs a statement that returns no row, then resets it for reuse.
  Status Run() {
    Status s;
    Step(&s);
    sqlite3_reset(stmt_);
    return s;
  }

 private:
  Status Error() const { return Status::Internal(std::string("rollup: ") + sqlite3_errmsg(db_)); }
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = SQLITE_OK;
};

Status Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  std::string msg = err ? err : "";
  sqlite3_free(err);
  return rc == SQLITE_OK ? Status::Ok() : Status::Internal("rollup: " + msg);
}

std::string_view ColumnView(sqlite3_stmt* s, int i) {
  const char* p = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
  return p ? std::string_view(p, static_cast<size_t>(sqlite3_column_bytes(s, i)))
           : std::string_view();
}

std::vector<uint64_t> ColumnHashes(sqlite3_stmt* s, int i) {
  std::vector<uint64_t> out(static_cast<size_t>(sqlite3_column_bytes(s, i)) / 8);
  if (!out.empty()) std::memcpy(out.data(), sqlite3_column_blob(s, i), out.size() * 8);
  return out;
}

// Sorted distinct union of a sorted distinct vector and any vector.
std::vector<uint64_t> Union(std::vector<uint64_t> have, std::vector<uint64_t> add) {
  std::sort(add.begin(), add.end());
  add.erase(std::unique(add.begin(), add.end()), add.end());
  if (have.empty()) return add;
  std::vector<uint64_t> out;
  out.reserve(have.size() + add.size());
  std::set_union(have.begin(), have.end(), add.begin(), add.end(), std::back_inserter(out));
  return out;
}

// Two texts as a map key, found by views of them: a row's columns and members are counted
// without copying them into strings first (only a new pair is copied).
using TextPair = std::pair<std::string, std::string>;
using ViewPair = std::pair<std::string_view, std::string_view>;
struct PairLess {
  using is_transparent = void;
  static ViewPair View(const TextPair& p) { return {p.first, p.second}; }
  static const ViewPair& View(const ViewPair& p) { return p; }
  template <typename A, typename B>
  bool operator()(const A& a, const B& b) const {
    return View(a) < View(b);
  }
};
using PairCounts = std::map<TextPair, int64_t, PairLess>;

void Bump(PairCounts* counts, std::string_view a, std::string_view b) {
  auto it = counts->find(ViewPair(a, b));
  if (it == counts->end()) it = counts->emplace(TextPair(a, b), 0).first;
  ++it->second;
}

// What a chunk of events adds to the rollups, per (workspace, hour).
struct KeyAgg {
  bool overflow = false;
  PairCounts pairs;  // (name, value) → events
};
struct HourAgg {
  int64_t events = 0;
  std::vector<uint64_t> users, sessions;
  PairCounts names;  // (name, type) → events
  std::map<std::string, KeyAgg, std::less<>> keys;
};

class Aggregate {
 public:
  explicit Aggregate(const RollupOptions& options) : options_(options) {}

  // Columns: workspace_id, derived_at, name, type, user key, session_id, properties.
  void Add(sqlite3_stmt* s, int first) {
    int64_t ws = sqlite3_column_int64(s, first);
    int64_t hour = HourStart(sqlite3_column_int64(s, first + 1));
    if (last_ == nullptr || ws != last_ws_ || hour != last_hour_) {
      last_ = &hours_[{ws, hour}];
      last_ws_ = ws;
      last_hour_ = hour;
    }
    HourAgg& h = *last_;
    ++h.events;
    const std::string_view name = ColumnView(s, first + 2);
    Bump(&h.names, name, ColumnView(s, first + 3));
    if (sqlite3_column_type(s, first + 4) != SQLITE_NULL) {
      std::string_view u = ColumnView(s, first + 4);
      h.users.push_back(HashText(u.data(), u.size()));
    }
    if (sqlite3_column_type(s, first + 5) != SQLITE_NULL) {
      std::string_view u = ColumnView(s, first + 5);
      h.sessions.push_back(HashText(u.data(), u.size()));
    }
    ForEachMember(ColumnView(s, first + 6), &scratch_,
                  [&](std::string_view key, std::string_view value) {
                    if (value == "null") return;  // JSON null counts as absent, as in breakdowns
                    auto it = h.keys.find(key);
                    if (it == h.keys.end()) it = h.keys.emplace(std::string(key), KeyAgg()).first;
                    KeyAgg& k = it->second;
                    if (k.overflow) return;
                    if (value.size() > options_.max_value_bytes) {
                      k.overflow = true;
                      k.pairs.clear();
                      return;
                    }
                    Bump(&k.pairs, name, value);
                    if (k.pairs.size() > options_.max_pairs_per_key_hour) {
                      k.overflow = true;
                      k.pairs.clear();
                    }
                  });
  }

  bool empty() const { return hours_.empty(); }

  // Adds everything to the rollup tables (inside the caller's write transaction).
  Status Write(sqlite3* db) {
    Stmt get_hour(db,
                  "SELECT events, users, sessions, keys, keys_full FROM rollup_hours "
                  "WHERE workspace_id = ?1 AND hour = ?2");
    Stmt put_hour(db,
                  "INSERT OR REPLACE INTO rollup_hours (workspace_id, hour, events, users, "
                  "sessions, keys, keys_full) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    Stmt add_name(
        db,
        "INSERT INTO rollup_names (workspace_id, hour, name, type, events) VALUES "
        "(?1, ?2, ?3, ?4, ?5) ON CONFLICT DO UPDATE SET events = events + excluded.events");
    Stmt get_key(db,
                 "SELECT pairs, overflow FROM rollup_keys WHERE workspace_id = ?1 AND key = ?2 "
                 "AND hour = ?3");
    Stmt put_key(db,
                 "INSERT OR REPLACE INTO rollup_keys (workspace_id, key, hour, pairs, overflow) "
                 "VALUES (?1, ?2, ?3, ?4, ?5)");
    Stmt new_pair(db,
                  "INSERT OR IGNORE INTO rollup_props (workspace_id, key, hour, name, value, "
                  "events) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    Stmt add_pair(db,
                  "UPDATE rollup_props SET events = events + ?6 WHERE workspace_id = ?1 AND "
                  "key = ?2 AND hour = ?3 AND name = ?4 AND value = ?5");
    Stmt drop_pairs(db,
                    "DELETE FROM rollup_props WHERE workspace_id = ?1 AND key = ?2 AND hour = ?3");
    for (Stmt* st :
         {&get_hour, &put_hour, &add_name, &get_key, &put_key, &new_pair, &add_pair, &drop_pairs}) {
      if (!st->status().ok()) return st->status();
    }
    Status s;
    for (auto& [at, h] : hours_) {
      const auto [ws, hour] = at;
      int64_t events = 0, keys = 0, keys_full = 0;
      std::vector<uint64_t> users, sessions;
      get_hour.Int(1, ws).Int(2, hour);
      if (get_hour.Step(&s)) {
        events = sqlite3_column_int64(get_hour.get(), 0);
        users = ColumnHashes(get_hour.get(), 1);
        sessions = ColumnHashes(get_hour.get(), 2);
        keys = sqlite3_column_int64(get_hour.get(), 3);
        keys_full = sqlite3_column_int64(get_hour.get(), 4);
      }
      sqlite3_reset(get_hour.get());
      if (!s.ok()) return s;
      for (auto& [key, k] : h.keys) {
        int64_t pairs = 0, overflow = 0;
        get_key.Int(1, ws).Text(2, key).Int(3, hour);
        const bool tracked = get_key.Step(&s);
        if (tracked) {
          pairs = sqlite3_column_int64(get_key.get(), 0);
          overflow = sqlite3_column_int64(get_key.get(), 1);
        }
        sqlite3_reset(get_key.get());
        if (!s.ok()) return s;
        if (!tracked) {
          if (static_cast<size_t>(keys) >= options_.max_keys_per_hour) {
            keys_full = 1;
            continue;
          }
          ++keys;
        }
        if (overflow) continue;
        overflow = k.overflow ? 1 : 0;
        for (auto& [pair, n] : k.pairs) {
          if (overflow) break;
          new_pair.Int(1, ws).Text(2, key).Int(3, hour).Text(4, pair.first).Text(5, pair.second);
          new_pair.Int(6, n);
          if (!(s = new_pair.Run()).ok()) return s;
          if (sqlite3_changes(db) == 1) {
            if (static_cast<size_t>(++pairs) > options_.max_pairs_per_key_hour) overflow = 1;
          } else {
            add_pair.Int(1, ws).Text(2, key).Int(3, hour).Text(4, pair.first).Text(5, pair.second);
            add_pair.Int(6, n);
            if (!(s = add_pair.Run()).ok()) return s;
          }
        }
        if (overflow) {
          pairs = 0;
          drop_pairs.Int(1, ws).Text(2, key).Int(3, hour);
          if (!(s = drop_pairs.Run()).ok()) return s;
        }
        put_key.Int(1, ws).Text(2, key).Int(3, hour).Int(4, pairs).Int(5, overflow);
        if (!(s = put_key.Run()).ok()) return s;
      }
      users = Union(std::move(users), std::move(h.users));
      sessions = Union(std::move(sessions), std::move(h.sessions));
      put_hour.Int(1, ws).Int(2, hour).Int(3, events + h.events).Blob(4, users).Blob(5, sessions);
      put_hour.Int(6, keys).Int(7, keys_full);
      if (!(s = put_hour.Run()).ok()) return s;
      for (auto& [nt, n] : h.names) {
        add_name.Int(1, ws).Int(2, hour).Text(3, nt.first).Text(4, nt.second).Int(5, n);
        if (!(s = add_name.Run()).ok()) return s;
      }
    }
    return s;
  }

 private:
  const RollupOptions& options_;
  std::map<std::pair<int64_t, int64_t>, HourAgg> hours_;
  HourAgg* last_ = nullptr;
  int64_t last_ws_ = 0, last_hour_ = 0;
  MemberScratch scratch_;
};

constexpr const char* kRowColumns =
    "workspace_id, derived_at, name, type, COALESCE(user_id, anonymous_id), session_id, "
    "properties";

// Ends a transaction left open by an early return.
class Tx {
 public:
  // `held_s`, when given, gets the longest time this transaction was open.
  Tx(sqlite3* db, const char* begin, double* held_s = nullptr) : db_(db), held_s_(held_s) {
    status_ = Exec(db, begin);
    start_ = std::chrono::steady_clock::now();
  }
  ~Tx() {
    if (status_.ok() && !done_) Exec(db_, "ROLLBACK");
    if (held_s_ != nullptr) {
      double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
      *held_s_ = std::max(*held_s_, s);
    }
  }
  const Status& status() const { return status_; }
  Status Commit() {
    done_ = true;
    return Exec(db_, "COMMIT");
  }

 private:
  sqlite3* db_;
  double* held_s_;
  Status status_;
  bool done_ = false;
  std::chrono::steady_clock::time_point start_;
};

Status ReadState(sqlite3* db, int64_t* watermark, int64_t* deletes) {
  Stmt st(db, "SELECT watermark, deletes FROM rollup_state WHERE id = 1");
  if (!st.status().ok()) return st.status();
  Status s;
  if (!st.Step(&s)) return s.ok() ? Status::Internal("rollup: no rollup_state row") : s;
  *watermark = sqlite3_column_int64(st.get(), 0);
  *deletes = sqlite3_column_int64(st.get(), 1);
  return Status::Ok();
}

}  // namespace

Status EnsureRollupSchema(sqlite3* db) { return Exec(db, kRollupSchema); }

Result<std::unique_ptr<Rollup>> Rollup::Open(const std::string& path,
                                             const RollupOptions& options) {
  sqlite3* db = nullptr;
  // One caller at a time (class comment), so SQLite need not lock the connection around every
  // call: the job reads ~10 columns per event, and each sqlite3_column_* took a mutex.
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) !=
      SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "cannot open";
    sqlite3_close(db);
    return Status::Internal("rollup: cannot open " + path + ": " + msg);
  }
  // The ingest writer may hold the write lock for one group commit; wait for it.
  sqlite3_busy_timeout(db, 30000);
  Exec(db, "PRAGMA cache_size=-16384");
  // Rollups are derived data: a commit lost on power loss takes its watermark with it (one
  // transaction), and the job redoes it; so no fsync per job commit. Checkpoints stay with the
  // ingest writer (every 4000 pages) unless ingest is idle while the job catches up, when the
  // job checkpoints past 16000 pages (64 MB) so the WAL stays bounded. With SQLite's defaults
  // (an fsync per job commit, a checkpoint every 1000 pages on the job's thread) the HTTP ingest
  // bench saw client read errors in 4 of 6 runs; with these, none in 6 (docs/BENCHMARKS.md).
  Exec(db, "PRAGMA synchronous=NORMAL");
  Exec(db, "PRAGMA wal_autocheckpoint=16000");
  std::unique_ptr<Rollup> r(new Rollup(db, options));
  Status s = EnsureRollupSchema(db);
  if (!s.ok()) return s;
  return r;
}

Rollup::~Rollup() { sqlite3_close(db_); }

Status Rollup::RunOnce(RollupStats* stats) {
  stats->caught_up = false;
  // Hours a delete touched: rebuilt from the rows left, read inside the write transaction (an
  // hour is ~1/720 of a month, so this stays short).
  bool any_dirty = false;
  {
    Stmt st(db_, "SELECT 1 FROM rollup_dirty LIMIT 1");
    Status s;
    if (!st.status().ok()) return st.status();
    any_dirty = st.Step(&s);
    if (!s.ok()) return s;
  }
  if (any_dirty) {
    Tx tx(db_, "BEGIN IMMEDIATE", &stats->longest_write_s);
    if (!tx.status().ok()) return tx.status();
    int64_t watermark = 0, deletes = 0;
    Status s = ReadState(db_, &watermark, &deletes);
    if (!s.ok()) return s;
    std::vector<std::pair<int64_t, int64_t>> dirty;
    {
      Stmt st(db_, "SELECT workspace_id, hour FROM rollup_dirty LIMIT 64");
      if (!st.status().ok()) return st.status();
      while (st.Step(&s)) {
        dirty.emplace_back(sqlite3_column_int64(st.get(), 0), sqlite3_column_int64(st.get(), 1));
      }
      if (!s.ok()) return s;
    }
    if (!dirty.empty()) {
      Aggregate agg(options_);
      Stmt keys(db_, "SELECT key FROM rollup_keys WHERE workspace_id = ?1 AND hour = ?2");
      Stmt drop_props(
          db_, "DELETE FROM rollup_props WHERE workspace_id = ?1 AND key = ?2 AND hour = ?3");
      Stmt drop_keys(db_, "DELETE FROM rollup_keys WHERE workspace_id = ?1 AND hour = ?2");
      Stmt drop_names(db_, "DELETE FROM rollup_names WHERE workspace_id = ?1 AND hour = ?2");
      Stmt drop_hour(db_, "DELETE FROM rollup_hours WHERE workspace_id = ?1 AND hour = ?2");
      Stmt drop_dirty(db_, "DELETE FROM rollup_dirty WHERE workspace_id = ?1 AND hour = ?2");
      Stmt rows(db_, (std::string("SELECT ") + kRowColumns +
                      " FROM events WHERE workspace_id = ?1 AND "
                      "derived_at >= ?2 AND derived_at < ?3 AND seq <= ?4")
                         .c_str());
      for (Stmt* st :
           {&keys, &drop_props, &drop_keys, &drop_names, &drop_hour, &drop_dirty, &rows}) {
        if (!st->status().ok()) return st->status();
      }
      int64_t read = 0;
      for (const auto& [ws, hour] : dirty) {
        if (read >= static_cast<int64_t>(options_.chunk_rows)) break;
        std::vector<std::string> names;
        keys.Int(1, ws).Int(2, hour);
        while (keys.Step(&s)) names.emplace_back(ColumnView(keys.get(), 0));
        sqlite3_reset(keys.get());
        if (!s.ok()) return s;
        for (const std::string& key : names) {
          drop_props.Int(1, ws).Text(2, key).Int(3, hour);
          if (!(s = drop_props.Run()).ok()) return s;
        }
        for (Stmt* st : {&drop_keys, &drop_names, &drop_hour, &drop_dirty}) {
          st->Int(1, ws).Int(2, hour);
          if (!(s = st->Run()).ok()) return s;
        }
        rows.Int(1, ws).Int(2, hour).Int(3, hour + kRollupHourMs).Int(4, watermark);
        while (rows.Step(&s)) {
          agg.Add(rows.get(), 0);
          ++read;
        }
        sqlite3_reset(rows.get());
        if (!s.ok()) return s;
        ++stats->rebuilt_hours;
      }
      if (!(s = agg.Write(db_)).ok()) return s;
      if (!(s = tx.Commit()).ok()) return s;
      return Status::Ok();  // one transaction per call; the caller comes back for the rest
    }
  }
  // New events: read and aggregated outside the write lock.
  int64_t watermark = 0, deletes = 0, last = 0, n = 0;
  Aggregate agg(options_);
  {
    Tx tx(db_, "BEGIN");
    if (!tx.status().ok()) return tx.status();
    Status s = ReadState(db_, &watermark, &deletes);
    if (!s.ok()) return s;
    Stmt rows(db_, (std::string("SELECT seq, ") + kRowColumns +
                    " FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2")
                       .c_str());
    if (!rows.status().ok()) return rows.status();
    rows.Int(1, watermark).Int(2, static_cast<int64_t>(options_.chunk_rows));
    while (rows.Step(&s)) {
      last = sqlite3_column_int64(rows.get(), 0);
      agg.Add(rows.get(), 1);
      ++n;
    }
    if (!s.ok()) return s;
    if (!(s = tx.Commit()).ok()) return s;
  }
  stats->watermark = watermark;
  if (n == 0) {
    stats->caught_up = true;
    return Status::Ok();
  }
  if (options_.after_read_for_test) options_.after_read_for_test();
  Tx tx(db_, "BEGIN IMMEDIATE", &stats->longest_write_s);
  if (!tx.status().ok()) return tx.status();
  int64_t watermark_now = 0, deletes_now = 0;
  Status s = ReadState(db_, &watermark_now, &deletes_now);
  if (!s.ok()) return s;
  if (watermark_now != watermark || deletes_now != deletes) {
    // A delete ran since the read (some rows read may be gone, and their seq values may have been
    // given out again): read the chunk again.
    ++stats->retries;
    return Status::Ok();
  }
  if (!(s = agg.Write(db_)).ok()) return s;
  Stmt advance(db_, "UPDATE rollup_state SET watermark = ?1 WHERE id = 1");
  if (!advance.status().ok()) return advance.status();
  if (!(s = advance.Int(1, last).Run()).ok()) return s;
  if (!(s = tx.Commit()).ok()) return s;
  stats->rows += n;
  stats->watermark = last;
  return Status::Ok();
}

Status Rollup::CatchUp(RollupStats* stats) {
  RollupStats total;
  for (;;) {
    RollupStats one;
    Status s = RunOnce(&one);
    total.rows += one.rows;
    total.rebuilt_hours += one.rebuilt_hours;
    total.retries += one.retries;
    total.watermark = one.watermark;
    total.longest_write_s = std::max(total.longest_write_s, one.longest_write_s);
    if (!s.ok()) {
      *stats = total;
      return s;
    }
    if (one.caught_up) break;
  }
  total.caught_up = true;
  *stats = total;
  return Status::Ok();
}

}  // namespace tally::collector::report
