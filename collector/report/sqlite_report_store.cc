// ReportStore over the collector's SQLite file (docs/SCHEMA.md). It opens its own read-only
// connections: WAL lets them read while the collector's single writer commits, and nothing here
// ever takes the write lock after start-up.
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <variant>

#include "report/json_members.h"
#include "report/report_store.h"
#include "report/rollup.h"
#include "store/clickhouse_store.h"
#include "store/user_bucket.h"
#include "thread_name.h"

namespace tally::collector::report {
namespace {

// Report indexes (docs/SCHEMA.md, "Report indexes", says why each is worth its ingest cost).
constexpr const char* kReportIndexes = R"sql(
CREATE INDEX IF NOT EXISTS events_by_name_user
  ON events(workspace_id, name, derived_at, user_id, anonymous_id);
CREATE INDEX IF NOT EXISTS events_by_time_user
  ON events(workspace_id, derived_at, user_id, anonymous_id, session_id);
)sql";

constexpr const char* kEventColumns =
    "event_id, type, name, user_id, anonymous_id, session_id, created_at, sent_at, received_at, "
    "derived_at, time_flags, properties, context";

// A top-level JSON field as text, the way filters compare it: strings as they are, numbers as
// SQLite prints them, booleans as true/false, objects and arrays as JSON text.
std::string FieldText(const char* column, int path_param) {
  std::string p = "?" + std::to_string(path_param);
  std::string col(column);
  return "(CASE json_type(" + col + ", " + p + ") WHEN 'true' THEN 'true' WHEN 'false' THEN " +
         "'false' ELSE CAST(json_extract(" + col + ", " + p + ") AS TEXT) END)";
}

// The JSON path of a top-level key. Keys are quoted so dots and brackets are literal; callers
// reject keys holding a double quote (parameters.cc), which SQLite paths cannot escape.
std::string KeyPath(const std::string& key) { return "$.\"" + key + "\""; }

// The JSON text of a top-level member of a stored object, as SQLite's `->` returns it (scalars
// exactly as stored, objects and arrays without whitespace; json_members.h). The key is compared
// with the member's name as stored, as SQLite does, and the first such member wins. A text it
// cannot follow counts as not having the member. Returns false when the member is absent.
bool MemberText(std::string_view json, std::string_view key, std::string* out) {
  bool found = false;
  WalkMembers(json, [&](std::string_view name, std::string_view value) {
    if (name != key) return true;
    out->clear();
    AppendMinified(value, out);
    found = true;
    return false;
  });
  return found;
}

using Value = std::variant<int64_t, std::string>;

// A WHERE clause with its numbered parameters.
class Where {
 public:
  int Add(Value v) {
    values_.push_back(std::move(v));
    return static_cast<int>(values_.size());
  }
  void And(const std::string& condition) {
    sql_ += sql_.empty() ? " WHERE " : " AND ";
    sql_ += condition;
  }
  std::string P(Value v) { return "?" + std::to_string(Add(std::move(v))); }
  const std::string& sql() const { return sql_; }
  void Bind(sqlite3_stmt* st) const {
    for (size_t i = 0; i < values_.size(); ++i) {
      int idx = static_cast<int>(i + 1);
      if (const auto* n = std::get_if<int64_t>(&values_[i])) {
        sqlite3_bind_int64(st, idx, *n);
      } else {
        const std::string& s = std::get<std::string>(values_[i]);
        sqlite3_bind_text(st, idx, s.data(), static_cast<int>(s.size()), SQLITE_STATIC);
      }
    }
  }

 private:
  std::string sql_;
  std::vector<Value> values_;
};

// Builds the conditions of a filter; `names` false leaves the name list to the caller.
void AddFilter(const EventFilter& f, int64_t workspace_id, bool names, Where* w) {
  w->And("workspace_id = " + w->P(workspace_id));
  w->And("derived_at >= " + w->P(f.from_ms));
  w->And("derived_at < " + w->P(f.to_ms));
  if (names && !f.names.empty()) {
    std::string in;
    for (const auto& n : f.names) in += (in.empty() ? "" : ", ") + w->P(n);
    w->And("name IN (" + in + ")");
  }
  if (!f.type.empty()) w->And("type = " + w->P(f.type));
  if (!f.user_id.empty()) {
    w->And("user_bucket = " + w->P(UserBucket(f.user_id)));
    w->And("user_id = " + w->P(f.user_id));
  }
  if (!f.anonymous_id.empty()) w->And("anonymous_id = " + w->P(f.anonymous_id));
  if (!f.session_id.empty()) w->And("session_id = " + w->P(f.session_id));
  for (const auto& [key, value] : f.properties) {
    int path = w->Add(KeyPath(key));
    w->And(FieldText("properties", path) + " = " + w->P(value));
  }
  for (const auto& [key, value] : f.context) {
    int path = w->Add(KeyPath(key));
    w->And(FieldText("context", path) + " = " + w->P(value));
  }
}

// True when the filter narrows only by workspace, time and names: the per-name counts can then
// come from the events_by_name_user index alone.
bool OnlyTimeAndNames(const EventFilter& f) {
  return f.type.empty() && f.user_id.empty() && f.anonymous_id.empty() && f.session_id.empty() &&
         f.properties.empty() && f.context.empty();
}

// The table of a filtered query. A user filter is by far the most selective, but without
// ANALYZE statistics SQLite may prefer an index that avoids a sort (GROUP BY name) over the user
// index (its user bucket's range in time, store/user_bucket.h).
std::string From(const EventFilter& f) {
  return f.user_id.empty() ? " FROM events" : " FROM events INDEXED BY events_by_user_bucket";
}

std::string ColumnText(sqlite3_stmt* s, int i) {
  const unsigned char* p = sqlite3_column_text(s, i);
  return p ? std::string(reinterpret_cast<const char*>(p),
                         static_cast<size_t>(sqlite3_column_bytes(s, i)))
           : std::string();
}

// A 64-bit hash of a text column, for distinct counts (HashText, rollup.h: the rollups store the
// same hashes, so both paths count alike). False for SQL NULL.
inline bool HashColumn(sqlite3_stmt* s, int i, uint64_t* h) {
  const char* p = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
  if (p == nullptr) return false;
  *h = HashText(p, static_cast<size_t>(sqlite3_column_bytes(s, i)));
  return true;
}
uint64_t HashColumn(sqlite3_stmt* s, int i) {
  uint64_t h = 0;
  HashColumn(s, i, &h);
  return h;
}

// Distinct counting over millions of rows: an open-addressing set of 64-bit hashes, hand-written
// because std::unordered_set allocates a node per insert and was the cost of unique-user reports.
// Past the CPU caches (3.3M sessions: a 64 MB table) every insert was a cache miss, most of the
// overview's time; inserts now wait in a small batch whose slots are prefetched first, so the
// misses overlap instead of following one another.
class HashSet {
 public:
  HashSet() : slots_(1024, 0) {}
  void Insert(uint64_t h) {
    if (h == 0) h = 1;  // 0 marks an empty slot
    __builtin_prefetch(&slots_[Home(h, slots_.size() - 1)]);
    pending_[pending_size_++] = h;
    if (pending_size_ == kBatch) Flush();
  }
  size_t size() {
    Flush();
    return size_;
  }
  void Clear() {
    pending_size_ = 0;
    std::fill(slots_.begin(), slots_.end(), 0);
    size_ = 0;
  }

 private:
  static constexpr size_t kBatch = 16;
  static size_t Home(uint64_t h, size_t mask) {
    return static_cast<size_t>((h * 0x9E3779B97F4A7C15ULL) >> 20) & mask;
  }
  void Flush() {
    for (size_t k = 0; k < pending_size_; ++k) {
      if ((size_ + 1) * 2 > slots_.size()) Grow();
      if (Place(&slots_, pending_[k])) ++size_;
    }
    pending_size_ = 0;
  }
  static bool Place(std::vector<uint64_t>* slots, uint64_t h) {
    size_t mask = slots->size() - 1;
    for (size_t i = Home(h, mask);; i = (i + 1) & mask) {
      if ((*slots)[i] == h) return false;
      if ((*slots)[i] == 0) {
        (*slots)[i] = h;
        return true;
      }
    }
  }
  void Grow() {
    std::vector<uint64_t> bigger(slots_.size() * 2, 0);
    for (uint64_t h : slots_) {
      if (h != 0) Place(&bigger, h);
    }
    slots_.swap(bigger);
  }
  std::vector<uint64_t> slots_;
  size_t size_ = 0;
  uint64_t pending_[kBatch];
  size_t pending_size_ = 0;
};

// Per-user state keyed by a 64-bit hash, open addressing like HashSet with the values beside the
// keys: std::unordered_map chased a node per lookup and was over half of a funnel's CPU.
template <typename V>
class HashMap {
 public:
  HashMap() : keys_(1024, 0), values_(1024) {}
  // The value stored for h, or nullptr.
  V* Find(uint64_t h) {
    if (h == 0) h = 1;  // 0 marks an empty slot
    const size_t mask = keys_.size() - 1;
    for (size_t i = Home(h, mask);; i = (i + 1) & mask) {
      if (keys_[i] == h) return &values_[i];
      if (keys_[i] == 0) return nullptr;
    }
  }
  // h must not be present.
  void Insert(uint64_t h, V v) {
    if (h == 0) h = 1;
    if ((size_ + 1) * 2 > keys_.size()) Grow();
    Place(h, std::move(v));
    ++size_;
  }

 private:
  static size_t Home(uint64_t h, size_t mask) {
    return static_cast<size_t>((h * 0x9E3779B97F4A7C15ULL) >> 20) & mask;
  }
  void Place(uint64_t h, V v) {
    const size_t mask = keys_.size() - 1;
    size_t i = Home(h, mask);
    while (keys_[i] != 0) i = (i + 1) & mask;
    keys_[i] = h;
    values_[i] = std::move(v);
  }
  void Grow() {
    std::vector<uint64_t> keys(keys_.size() * 2, 0);
    std::vector<V> values(keys.size());
    keys.swap(keys_);
    values.swap(values_);
    for (size_t i = 0; i < keys.size(); ++i) {
      if (keys[i] != 0) Place(keys[i], std::move(values[i]));
    }
  }
  std::vector<uint64_t> keys_;
  std::vector<V> values_;
  size_t size_ = 0;
};

void ReadEvent(sqlite3_stmt* s, StoredEvent* e) {
  e->event_id = ColumnText(s, 0);
  e->type = ColumnText(s, 1);
  e->name = ColumnText(s, 2);
  e->user_id = ColumnText(s, 3);
  e->anonymous_id = ColumnText(s, 4);
  e->session_id = ColumnText(s, 5);
  e->created_at_ms = sqlite3_column_int64(s, 6);
  e->sent_at_ms = sqlite3_column_int64(s, 7);
  e->received_at_ms = sqlite3_column_int64(s, 8);
  e->derived_at_ms = sqlite3_column_int64(s, 9);
  e->time_flags = static_cast<uint32_t>(sqlite3_column_int64(s, 10));
  e->properties_json = ColumnText(s, 11);
  e->context_json = ColumnText(s, 12);
}

class Stmt {
 public:
  Stmt(sqlite3* db, const std::string& sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql.c_str(), static_cast<int>(sql.size()), &stmt_, nullptr);
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Status status() const {
    return rc_ == SQLITE_OK ? Status::Ok()
                            : Status::Internal(std::string("report: ") + sqlite3_errmsg(db_));
  }
  sqlite3_stmt* get() { return stmt_; }
  // SQLITE_ROW → true; SQLITE_DONE → false with ok status; errors → false with *status set.
  bool Step(Status* status) {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc != SQLITE_DONE)
      *status = Status::Internal(std::string("report: ") + sqlite3_errmsg(db_));
    return false;
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = SQLITE_OK;
};

// The display value and type of a breakdown group from the field's text (JSON text when
// `json_text`, else a plain column's text).
void DescribeGroup(const std::string& text, bool json_text, BreakdownRow* row) {
  if (!json_text) {
    row->value = text;
    row->value_type = "string";
  } else if (text[0] == '"') {
    row->value_type = "string";
    nlohmann::json decoded = text.find('\\') == std::string::npos
                                 ? nlohmann::json(text.substr(1, text.size() - 2))
                                 : nlohmann::json::parse(text, nullptr, false);
    row->value = decoded.is_string() ? decoded.get<std::string>() : text;
  } else {
    row->value = text;
    row->value_type = text == "true" || text == "false" ? "bool"
                      : text[0] == '{'                  ? "object"
                      : text[0] == '['                  ? "array"
                                                        : "number";
  }
}

// The top `limit` groups by count, then by value, and the rest summed.
void TopRows(std::vector<BreakdownRow> rows, const BreakdownRequest& r, Breakdown* out) {
  std::sort(rows.begin(), rows.end(), [](const BreakdownRow& a, const BreakdownRow& b) {
    if (a.count != b.count) return a.count > b.count;
    return a.value < b.value;  // nullopt first among equals
  });
  for (size_t i = 0; i < rows.size(); ++i) {
    if (r.metric == Metric::kEvents) out->total += rows[i].count;
    if (i < r.limit) {
      out->rows.push_back(rows[i]);
    } else {
      out->other += rows[i].count;
    }
  }
}

// Rollup use (docs/SCHEMA.md, "Report rollups"): how a query's range splits between rollup hours
// and raw rows. Every event matching the filter is counted exactly once: from the rollups when
// its hour is in `hours` and its seq <= watermark, else from its row (rows in `raw` ranges, and
// rows past the watermark anywhere else).
struct Plan {
  int64_t watermark = 0;
  std::vector<int64_t> hours;                    // rolled-up hours used, ascending
  std::vector<std::pair<int64_t, int64_t>> raw;  // [from, to) read raw in full, ascending
  bool Rolled(int64_t hour) const { return std::binary_search(hours.begin(), hours.end(), hour); }
  bool InRaw(int64_t t) const {
    auto it = std::upper_bound(raw.begin(), raw.end(), std::make_pair(t, INT64_MAX));
    return it != raw.begin() && t < std::prev(it)->second;
  }
};

bool NoHourBlocked(int64_t) { return false; }

// HourStart that cannot overflow at the bottom of the range (a `from` of any value is valid).
int64_t FloorHour(int64_t t) { return t < INT64_MIN + kRollupHourMs ? INT64_MIN : HourStart(t); }

// A read transaction around one rollup query: the rollup tables, the watermark and the raw rows
// past it are read from one snapshot.
class ReadTx {
 public:
  explicit ReadTx(sqlite3* db) : db_(db) {
    ok_ = sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr) == SQLITE_OK;
  }
  ~ReadTx() {
    if (ok_) sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
  }
  bool ok() const { return ok_; }

 private:
  sqlite3* db_;
  bool ok_ = false;
};

// Calls fn(stmt, derived_at) for each event matching `f` that `plan` leaves to raw rows. `cols`
// are the selected columns; derived_at is appended after them.
template <typename Fn>
Status ScanRaw(sqlite3* db, int64_t ws, const EventFilter& f, const std::string& cols, int ncols,
               const Plan& plan, Fn&& fn) {
  Status s;
  for (const auto& [a, b] : plan.raw) {
    EventFilter part = f;
    part.from_ms = a;
    part.to_ms = b;
    Where w;
    AddFilter(part, ws, true, &w);
    Stmt st(db, "SELECT " + cols + ", derived_at" + From(f) + w.sql());
    if (!st.status().ok()) return st.status();
    w.Bind(st.get());
    while (st.Step(&s)) fn(st.get(), sqlite3_column_int64(st.get(), ncols));
    if (!s.ok()) return s;
  }
  // Rows past the watermark, found by seq (the rowid: a range of the table's own B-tree).
  Where w;
  AddFilter(f, ws, true, &w);
  w.And("seq > " + w.P(plan.watermark));
  Stmt st(db, "SELECT " + cols + ", derived_at FROM events NOT INDEXED" + w.sql());
  if (!st.status().ok()) return st.status();
  w.Bind(st.get());
  while (st.Step(&s)) {
    int64_t t = sqlite3_column_int64(st.get(), ncols);
    if (!plan.InRaw(t)) fn(st.get(), t);
  }
  return s;
}

// Appends `IN (...)` of the filter's names to `w` for the column `col`, when it names any.
void AddNames(const EventFilter& f, const char* col, Where* w) {
  if (f.names.empty()) return;
  std::string in;
  for (const auto& n : f.names) in += (in.empty() ? "" : ", ") + w->P(n);
  w->And(std::string(col) + " IN (" + in + ")");
}

class SqliteReportStore final : public ReportStore {
 public:
  SqliteReportStore(std::string path, ReportStoreOptions options)
      : path_(std::move(path)), options_(options) {}
  ~SqliteReportStore() override {
    if (rollup_thread_.joinable()) {
      {
        std::lock_guard<std::mutex> lock(rollup_mu_);
        rollup_stop_ = true;
      }
      rollup_cv_.notify_all();
      rollup_thread_.join();
    }
    for (sqlite3* db : idle_) sqlite3_close(db);
  }

  Status Init() {
    // Report indexes are created once, on a short-lived read-write connection, before any read
    // connection exists. IF NOT EXISTS makes every later start a no-op.
    sqlite3* rw = nullptr;
    if (sqlite3_open_v2(path_.c_str(), &rw, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
      std::string msg = rw ? sqlite3_errmsg(rw) : "cannot open";
      sqlite3_close(rw);
      return Status::Internal("report: cannot open " + path_ + ": " + msg);
    }
    sqlite3_busy_timeout(rw, 30000);
    char* err = nullptr;
    int rc = sqlite3_exec(rw, kReportIndexes, nullptr, nullptr, &err);
    std::string msg = err ? err : "";
    sqlite3_free(err);
    Status schema = rc == SQLITE_OK ? EnsureRollupSchema(rw) : Status::Ok();
    sqlite3_close(rw);
    if (rc != SQLITE_OK) return Status::Internal("report: creating indexes: " + msg);
    if (!schema.ok()) return schema;
    for (size_t i = 0; i < std::max<size_t>(1, options_.read_connections); ++i) {
      sqlite3* db = nullptr;
      if (sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
                          nullptr) != SQLITE_OK) {
        sqlite3_close(db);
        return Status::Internal("report: cannot open " + path_ + " read-only");
      }
      sqlite3_busy_timeout(db, 5000);
      sqlite3_exec(db, "PRAGMA cache_size=-32768", nullptr, nullptr, nullptr);
      idle_.push_back(db);
    }
    if (options_.use_rollups && options_.rollup_interval_ms > 0) {
      Result<std::unique_ptr<Rollup>> rollup = Rollup::Open(path_, options_.rollup);
      if (!rollup.ok()) return rollup.status();
      rollup_ = std::move(rollup).value();
      rollup_thread_ = std::thread([this] { RollupLoop(); });
      NameThread(rollup_thread_, "tally-rollup");
    }
    return Status::Ok();
  }

  // The rollup job's progress: how many rows it has not folded in yet (queries read those raw,
  // and read every row once there are more than rollup_max_tail_rows), what it folded, how often
  // it failed.
  void AppendMetrics(std::string* out) override {
    if (!rollup_) return;
    int64_t lag = -1;
    {
      Conn c(this);
      Stmt st(c.db,
              "SELECT (SELECT ifnull(max(seq), 0) FROM events) - watermark FROM rollup_state "
              "WHERE id = 1");
      Status s;
      if (st.status().ok() && st.Step(&s)) lag = sqlite3_column_int64(st.get(), 0);
    }
    *out += "# HELP tally_rollup_lag_rows Stored events the report rollups do not hold yet.\n";
    *out += "# TYPE tally_rollup_lag_rows gauge\n";
    *out += "tally_rollup_lag_rows " + std::to_string(lag) + "\n";
    *out += "# HELP tally_rollup_rows_total Events folded into the report rollups.\n";
    *out += "# TYPE tally_rollup_rows_total counter\n";
    *out += "tally_rollup_rows_total " + std::to_string(rollup_rows_.load()) + "\n";
    *out += "# HELP tally_rollup_failures_total Failed rollup job steps (logged).\n";
    *out += "# TYPE tally_rollup_failures_total counter\n";
    *out += "tally_rollup_failures_total " + std::to_string(rollup_failures_.load()) + "\n";
  }

  Status Events(const EventsRequest& r, EventsPage* page) override {
    page->events.clear();
    page->next.reset();
    Conn c(this);
    int64_t ws = 0;
    if (!WorkspaceId(c.db, r.filter.workspace, &ws)) return Status::Ok();
    // The cursor narrows the time range itself rather than adding a second bound: SQLite uses
    // one lower (or upper) bound for the index range, and a cursor that only filtered would make
    // every page rescan the range from its start (quadratic exports).
    EventFilter f = r.filter;
    if (r.after && !r.descending) f.from_ms = std::max(f.from_ms, r.after->derived_at_ms);
    if (r.after && r.descending) f.to_ms = std::min(f.to_ms, r.after->derived_at_ms + 1);
    Where w;
    AddFilter(f, ws, true, &w);
    const char* cmp = r.descending ? "<" : ">";
    if (r.after) {
      w.And(std::string("(derived_at ") + cmp + " " + w.P(r.after->derived_at_ms) +
            " OR event_id " + cmp + " " + w.P(r.after->event_id) + ")");
    }
    const char* dir = r.descending ? " DESC" : "";
    // One extra row says whether another page follows.
    std::string sql = std::string("SELECT ") + kEventColumns + From(r.filter) + w.sql() +
                      " ORDER BY derived_at" + dir + ", event_id" + dir + " LIMIT " +
                      std::to_string(r.limit + 1);
    Stmt st(c.db, sql);
    if (!st.status().ok()) return st.status();
    w.Bind(st.get());
    Status s;
    while (st.Step(&s)) {
      if (page->events.size() == r.limit) {
        const StoredEvent& last = page->events.back();
        page->next = Cursor{last.derived_at_ms, last.event_id};
        break;
      }
      page->events.emplace_back();
      ReadEvent(st.get(), &page->events.back());
    }
    return s;
  }

  Status HasUserId(const std::string& workspace, const std::string& user_id, bool* found) override {
    *found = false;
    Conn c(this);
    int64_t ws = 0;
    if (!WorkspaceId(c.db, workspace, &ws)) return Status::Ok();
    Stmt st(c.db,
            "SELECT 1 FROM events INDEXED BY events_by_user_bucket WHERE workspace_id = ?1 AND "
            "user_bucket = ?3 AND user_id = ?2 LIMIT 1");
    if (!st.status().ok()) return st.status();
    sqlite3_bind_int64(st.get(), 1, ws);
    sqlite3_bind_int64(st.get(), 3, UserBucket(user_id));
    sqlite3_bind_text(st.get(), 2, user_id.data(), static_cast<int>(user_id.size()), SQLITE_STATIC);
    Status s;
    *found = st.Step(&s);
    return s;
  }

  Status Summary(const EventFilter& f, std::vector<NameSummary>* out) override {
    out->clear();
    Conn c(this);
    int64_t ws = 0;
    if (!WorkspaceId(c.db, f.workspace, &ws)) return Status::Ok();
    Where w;
    AddFilter(f, ws, true, &w);
    Stmt st(c.db, "SELECT name, count(*), min(derived_at), max(derived_at)" + From(f) + w.sql() +
                      " GROUP BY name ORDER BY 2 DESC, 1");
    if (!st.status().ok()) return st.status();
    w.Bind(st.get());
    Status s;
    while (st.Step(&s)) {
      out->push_back(NameSummary{ColumnText(st.get(), 0), sqlite3_column_int64(st.get(), 1),
                                 sqlite3_column_int64(st.get(), 2),
                                 sqlite3_column_int64(st.get(), 3)});
    }
    return s;
  }

  Status Timeseries(const TimeseriesRequest& r, std::vector<int64_t>* values) override {
    values->clear();
    if (r.bounds.size() < 2) return Status::Ok();
    values->assign(r.bounds.size() - 1, 0);
    Conn c(this);
    int64_t ws = 0;
    if (!WorkspaceId(c.db, r.filter.workspace, &ws)) return Status::Ok();
    EventFilter f = r.filter;
    f.from_ms = std::max(f.from_ms, r.bounds.front());
    f.to_ms = std::min(f.to_ms, r.bounds.back());
    Where w;
    AddFilter(f, ws, true, &w);
    const bool users = r.metric == Metric::kUsers;
    if (options_.use_rollups && RollupFilter(f) &&
        (!users || (f.names.empty() && f.type.empty()))) {
      ReadTx tx(c.db);
      Plan plan;
      if (tx.ok() && BuildPlan(c.db, ws, f.from_ms, f.to_ms, r.bounds, NoHourBlocked, &plan)) {
        return TimeseriesFromRollups(c.db, ws, f, r, plan, values);
      }
    }
    // Time-ordered rows are bucketed here rather than in SQL: the bucket edges come from the
    // time zone (DST gives 23- and 25-hour days), which SQLite does not know. Counting events
    // reads only the (workspace_id, derived_at) index.
    Stmt st(c.db, std::string("SELECT derived_at") +
                      (users ? ", COALESCE(user_id, anonymous_id)" : "") + From(f) + w.sql() +
                      " ORDER BY derived_at");
    if (!st.status().ok()) return st.status();
    w.Bind(st.get());
    size_t bucket = 0;
    HashSet seen;
    Status s;
    while (st.Step(&s)) {
      int64_t t = sqlite3_column_int64(st.get(), 0);
      while (bucket + 1 < r.bounds.size() && t >= r.bounds[bucket + 1]) {
        if (users) (*values)[bucket] = static_cast<int64_t>(seen.size());
        ++bucket;
        seen.Clear();
      }
      if (bucket + 1 >= r.bounds.size() || t < r.bounds[bucket]) continue;
      if (!users) {
        ++(*values)[bucket];
      } else if (uint64_t u; HashColumn(st.get(), 1, &u)) {
        seen.Insert(u);
      }
    }
    if (users && bucket + 1 < r.bounds.size())
      (*values)[bucket] = static_cast<int64_t>(seen.size());
    return s;
  }

  Status GetBreakdown(const BreakdownRequest& r, Breakdown* out) override {
    *out = Breakdown();
    Conn c(this);
    int64_t ws = 0;
    if (!WorkspaceId(c.db, r.filter.workspace, &ws)) return Status::Ok();
    if (options_.use_rollups && r.metric == Metric::kEvents && RollupFilter(r.filter) &&
        (r.by.kind == GroupKey::Kind::kName || r.by.kind == GroupKey::Kind::kType ||
         (r.by.kind == GroupKey::Kind::kProperty && r.filter.type.empty()))) {
      ReadTx tx(c.db);
      Plan plan;
      std::unordered_map<int64_t, bool> tracked;  // hour → over the cap
      std::vector<int64_t> full;
      Status s;
      if (r.by.kind == GroupKey::Kind::kProperty) {
        s = BlockedHours(c.db, ws, r.by.key, r.filter.from_ms, r.filter.to_ms, &tracked, &full);
      }
      auto blocked = [&](int64_t hour) {
        if (r.by.kind != GroupKey::Kind::kProperty) return false;
        auto it = tracked.find(hour);
        return it != tracked.end() ? it->second
                                   : std::binary_search(full.begin(), full.end(), hour);
      };
      if (tx.ok() && s.ok() &&
          BuildPlan(c.db, ws, r.filter.from_ms, r.filter.to_ms, {}, blocked, &plan)) {
        return BreakdownFromRollups(c.db, ws, r, plan, out);
      }
    }
    if (r.by.kind == GroupKey::Kind::kName && r.metric == Metric::kEvents &&
        OnlyTimeAndNames(r.filter)) {
      std::vector<std::pair<std::string, int64_t>> counts;
      Status s = CountPerName(c.db, ws, r.filter, &counts);
      if (!s.ok()) return s;
      for (size_t i = 0; i < counts.size(); ++i) {
        out->total += counts[i].second;
        if (i < r.limit) {
          out->rows.push_back(BreakdownRow{counts[i].first, "string", counts[i].second});
        } else {
          out->other += counts[i].second;
        }
      }
      return Status::Ok();
    }
    Where w;
    std::string type_expr, value_expr;
    switch (r.by.kind) {
      case GroupKey::Kind::kName:
        type_expr = "'string'", value_expr = "name";
        break;
      case GroupKey::Kind::kType:
        type_expr = "'string'", value_expr = "type";
        break;
      case GroupKey::Kind::kUserId:
        type_expr = "'string'", value_expr = "user_id";
        break;
      case GroupKey::Kind::kProperty:
      case GroupKey::Kind::kContext: {
        const char* col = r.by.kind == GroupKey::Kind::kProperty ? "properties" : "context";
        // The field's JSON text (which says its type too) is cut from the stored text here
        // (MemberText), as `->` would return it.
        type_expr = "'json'";
        value_expr = col;
        break;
      }
    }
    AddFilter(r.filter, ws, true, &w);
    const bool users = r.metric == Metric::kUsers;
    // Grouped here with a hash map rather than by SQLite's GROUP BY, which sorts every row in a
    // temporary B-tree first.
    Stmt st(c.db, "SELECT " + type_expr + ", " + value_expr +
                      (users ? ", COALESCE(user_id, anonymous_id)" : "") + From(r.filter) +
                      w.sql());
    if (!st.status().ok()) return st.status();
    w.Bind(st.get());
    struct Group {
      BreakdownRow row;
      HashSet users;
    };
    std::unordered_map<std::string, Group> groups;
    HashSet all_users;
    std::string key, member;
    std::vector<std::pair<std::pair<bool, std::string_view>, Group*>> recent;
    Status s;
    const bool json_text = type_expr == "'json'";
    while (st.Step(&s)) {
      // Rows group by the field's text as stored; its type and display value are worked out once
      // per group.
      bool absent = sqlite3_column_type(st.get(), 1) == SQLITE_NULL;
      std::string_view field;
      if (!absent) {
        field = std::string_view(reinterpret_cast<const char*>(sqlite3_column_text(st.get(), 1)),
                                 static_cast<size_t>(sqlite3_column_bytes(st.get(), 1)));
      }
      if (!absent && json_text) {
        absent = !MemberText(field, r.by.key, &member);
        field = member;
      }
      if (json_text && field == "null") absent = true;  // JSON null groups with absent
      if (absent) field = std::string_view();
      // The first groups met are found by a linear scan of their keys, cheaper per row than
      // building a key string and hashing it when there are few groups (a property of a few
      // values, the common case).
      Group* found = nullptr;
      for (auto& [k, gp] : recent) {
        if (k.first == absent && k.second == field) {
          found = gp;
          break;
        }
      }
      bool fresh = false;
      if (found == nullptr) {
        key.assign(absent ? "" : "=");
        if (!absent) key.append(field.data(), field.size());
        auto emplaced = groups.try_emplace(key);
        found = &emplaced.first->second;
        fresh = emplaced.second;
        if (recent.size() < 16) {
          // The map's key outlives the loop (node-based map), so the view stays valid.
          const std::string& stored = emplaced.first->first;
          recent.push_back({{absent, std::string_view(stored).substr(absent ? 0 : 1)}, found});
        }
      }
      Group& g = *found;
      if (fresh && !absent) DescribeGroup(key.substr(1), json_text, &g.row);
      if (!users) {
        ++g.row.count;
      } else if (uint64_t u; HashColumn(st.get(), 2, &u)) {
        g.users.Insert(u);
        all_users.Insert(u);
      }
    }
    std::vector<BreakdownRow> rows;
    for (auto& [k, g] : groups) {
      if (users) g.row.count = static_cast<int64_t>(g.users.size());
      rows.push_back(std::move(g.row));
    }
    if (!s.ok()) return s;
    TopRows(std::move(rows), r, out);
    if (users) out->total = static_cast<int64_t>(all_users.size());
    return s;
  }

  Status Funnel(const FunnelRequest& r, std::vector<int64_t>* users) override {
    users->assign(r.steps.size(), 0);
    if (r.steps.empty()) return Status::Ok();
    Conn c(this);
    int64_t ws = 0;
    if (!WorkspaceId(c.db, r.filter.workspace, &ws)) return Status::Ok();
    EventFilter f = r.filter;
    f.names.clear();
    for (const auto& step : r.steps) {
      if (std::find(f.names.begin(), f.names.end(), step) == f.names.end()) f.names.push_back(step);
    }
    const int64_t first_to = f.to_ms;
    f.to_ms = f.to_ms > INT64_MAX - r.window_ms ? INT64_MAX : f.to_ms + r.window_ms;
    // One pass in time order. A user enters at their first first-step event in [from, to)
    // and advances one step at a time on the next step's name, while within the window.
    struct Progress {
      int64_t start_ms = 0;
      size_t reached = 0;  // steps done
    };
    HashMap<Progress> progress;
    auto visit = [&](const std::string& name, uint64_t user, int64_t t) {
      Progress* found = progress.Find(user);
      if (found == nullptr) {
        if (name == r.steps[0] && t < first_to) {
          progress.Insert(user, Progress{t, 1});
          ++(*users)[0];
        }
        return;
      }
      Progress& p = *found;
      if (p.reached < r.steps.size() && name == r.steps[p.reached] &&
          t - p.start_ms <= r.window_ms) {
        ++(*users)[p.reached];
        ++p.reached;
      }
    };
    Status s;
    if (OnlyTimeAndNames(f)) {
      // Each step's events come in time order from its own range of events_by_name_user (which
      // holds the user columns, so no table row is read); merging the streams replaces a sort.
      std::vector<std::unique_ptr<Stmt>> streams;
      for (const std::string& name : f.names) {
        auto st = std::make_unique<Stmt>(
            c.db,
            "SELECT derived_at, COALESCE(user_id, anonymous_id) FROM events INDEXED BY "
            "events_by_name_user WHERE workspace_id = ?1 AND name = ?2 AND derived_at >= ?3 "
            "AND derived_at < ?4 AND COALESCE(user_id, anonymous_id) IS NOT NULL "
            "ORDER BY derived_at");
        if (!st->status().ok()) return st->status();
        sqlite3_bind_int64(st->get(), 1, ws);
        sqlite3_bind_text(st->get(), 2, name.data(), static_cast<int>(name.size()), SQLITE_STATIC);
        sqlite3_bind_int64(st->get(), 3, f.from_ms);
        sqlite3_bind_int64(st->get(), 4, f.to_ms);
        streams.push_back(std::move(st));
      }
      std::vector<bool> live(streams.size());
      for (size_t i = 0; i < streams.size(); ++i) live[i] = streams[i]->Step(&s);
      for (;;) {
        size_t best = streams.size();
        for (size_t i = 0; i < streams.size(); ++i) {
          if (live[i] &&
              (best == streams.size() || sqlite3_column_int64(streams[i]->get(), 0) <
                                             sqlite3_column_int64(streams[best]->get(), 0))) {
            best = i;
          }
        }
        if (best == streams.size() || !s.ok()) break;
        sqlite3_stmt* row = streams[best]->get();
        visit(f.names[best], HashColumn(row, 1), sqlite3_column_int64(row, 0));
        live[best] = streams[best]->Step(&s);
      }
      return s;
    }
    Where w;
    AddFilter(f, ws, true, &w);
    Stmt st(c.db, "SELECT name, COALESCE(user_id, anonymous_id), derived_at" + From(f) + w.sql() +
                      " AND COALESCE(user_id, anonymous_id) IS NOT NULL" + " ORDER BY derived_at");
    if (!st.status().ok()) return st.status();
    w.Bind(st.get());
    while (st.Step(&s)) {
      visit(ColumnText(st.get(), 0), HashColumn(st.get(), 1), sqlite3_column_int64(st.get(), 2));
    }
    return s;
  }

  Status GetOverview(const EventFilter& f, Overview* out) override {
    *out = Overview();
    Conn c(this);
    int64_t ws = 0;
    if (!WorkspaceId(c.db, f.workspace, &ws)) return Status::Ok();
    if (options_.use_rollups && f.names.empty() && OnlyTimeAndNames(f)) {
      ReadTx tx(c.db);
      Plan plan;
      if (tx.ok() && BuildPlan(c.db, ws, f.from_ms, f.to_ms, {}, NoHourBlocked, &plan)) {
        return OverviewFromRollups(c.db, ws, f, plan, out);
      }
    }
    Where w;
    AddFilter(f, ws, true, &w);
    // Distinct users and sessions are counted here with hashes: SQLite's count(DISTINCT) sorts
    // every value in a temporary B-tree, several times slower over millions of rows.
    Stmt st(c.db, "SELECT COALESCE(user_id, anonymous_id), session_id" + From(f) + w.sql());
    if (!st.status().ok()) return st.status();
    w.Bind(st.get());
    HashSet users, sessions;
    Status s;
    while (st.Step(&s)) {
      ++out->events;
      uint64_t h;
      if (HashColumn(st.get(), 0, &h)) users.Insert(h);
      if (HashColumn(st.get(), 1, &h)) sessions.Insert(h);
    }
    out->users = static_cast<int64_t>(users.size());
    out->sessions = static_cast<int64_t>(sessions.size());
    if (!s.ok()) return s;
    if (OnlyTimeAndNames(f)) {
      std::vector<std::pair<std::string, int64_t>> counts;
      if (!(s = CountPerName(c.db, ws, f, &counts)).ok()) return s;
      if (counts.size() > 10) counts.resize(10);
      out->top_events = std::move(counts);
      return s;
    }
    Stmt top(c.db, "SELECT name, count(*)" + From(f) + w.sql() +
                       " GROUP BY name ORDER BY 2 DESC, 1 LIMIT 10");
    if (!top.status().ok()) return top.status();
    w.Bind(top.get());
    while (top.Step(&s)) {
      out->top_events.emplace_back(ColumnText(top.get(), 0), sqlite3_column_int64(top.get(), 1));
    }
    return s;
  }

  Status Export(const EventFilter& filter,
                const std::function<bool(const StoredEvent&)>& row) override {
    EventsRequest r;
    r.filter = filter;
    r.limit = std::max<size_t>(1, options_.export_chunk_rows);
    // Keyset chunks: constant memory, and each chunk a short read transaction.
    for (;;) {
      EventsPage page;
      Status s = Events(r, &page);
      if (!s.ok()) return s;
      for (const StoredEvent& e : page.events) {
        if (!row(e)) return Status::Ok();
      }
      if (!page.next) return Status::Ok();
      r.after = page.next;
    }
  }

 private:
  // A read connection borrowed for one call.
  struct Conn {
    explicit Conn(SqliteReportStore* store) : owner(store) {
      std::unique_lock<std::mutex> lock(owner->mu_);
      owner->cv_.wait(lock, [&] { return !owner->idle_.empty(); });
      db = owner->idle_.back();
      owner->idle_.pop_back();
    }
    ~Conn() {
      {
        std::lock_guard<std::mutex> lock(owner->mu_);
        owner->idle_.push_back(db);
      }
      owner->cv_.notify_one();
    }
    SqliteReportStore* owner;
    sqlite3* db = nullptr;
  };

  // Events per name in [from, to), by count descending then name. A loose index scan: the next
  // name is one seek in events_by_name_user, and each name's count reads only its own range of
  // that index, so the cost is the matching index entries, never a sort or a table row.
  Status CountPerName(sqlite3* db, int64_t ws, const EventFilter& f,
                      std::vector<std::pair<std::string, int64_t>>* out) {
    out->clear();
    std::vector<std::string> names = f.names;
    Status s;
    if (names.empty()) {
      Stmt next(db,
                "SELECT name FROM events INDEXED BY events_by_name_user WHERE "
                "workspace_id = ?1 AND name > ?2 ORDER BY name LIMIT 1");
      if (!next.status().ok()) return next.status();
      std::string after;
      sqlite3_bind_int64(next.get(), 1, ws);
      for (;;) {
        sqlite3_bind_text(next.get(), 2, after.data(), static_cast<int>(after.size()),
                          SQLITE_TRANSIENT);
        if (!next.Step(&s)) break;
        after = ColumnText(next.get(), 0);
        names.push_back(after);
        sqlite3_reset(next.get());
      }
      if (!s.ok()) return s;
    }
    Stmt count(db,
               "SELECT count(*) FROM events INDEXED BY events_by_name_user WHERE "
               "workspace_id = ?1 AND name = ?2 AND derived_at >= ?3 AND derived_at < ?4");
    if (!count.status().ok()) return count.status();
    for (const std::string& name : names) {
      sqlite3_reset(count.get());
      sqlite3_bind_int64(count.get(), 1, ws);
      sqlite3_bind_text(count.get(), 2, name.data(), static_cast<int>(name.size()), SQLITE_STATIC);
      sqlite3_bind_int64(count.get(), 3, f.from_ms);
      sqlite3_bind_int64(count.get(), 4, f.to_ms);
      if (count.Step(&s) && sqlite3_column_int64(count.get(), 0) > 0) {
        out->emplace_back(name, sqlite3_column_int64(count.get(), 0));
      }
      if (!s.ok()) return s;
    }
    std::sort(out->begin(), out->end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    return s;
  }

  // Fills `plan` for [from, to) of workspace `ws` (inside the caller's ReadTx). An hour is read
  // from the rollups when it lies whole in the range, whole in one bucket of `bounds` (when
  // given: a zone whose offset is not a whole hour only loses the hours its bucket edges cut),
  // is not waiting to be rebuilt after a delete, and `blocked(hour)` is false. False when the
  // rollups do not help: none in the range, or too many rows past the watermark.
  template <typename Blocked>
  bool BuildPlan(sqlite3* db, int64_t ws, int64_t from, int64_t to,
                 const std::vector<int64_t>& bounds, Blocked&& blocked, Plan* plan) {
    if (from >= to) return false;
    Status s;
    {
      Stmt st(db,
              "SELECT watermark, (SELECT ifnull(max(seq), 0) FROM events) FROM rollup_state "
              "WHERE id = 1");
      if (!st.status().ok() || !st.Step(&s)) return false;
      plan->watermark = sqlite3_column_int64(st.get(), 0);
      if (sqlite3_column_int64(st.get(), 1) - plan->watermark > options_.rollup_max_tail_rows) {
        return false;
      }
    }
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    {
      Stmt st(db,
              "SELECT min(hour), max(hour) FROM rollup_hours WHERE workspace_id = ?1 UNION ALL "
              "SELECT min(hour), max(hour) FROM rollup_dirty WHERE workspace_id = ?1");
      if (!st.status().ok()) return false;
      sqlite3_bind_int64(st.get(), 1, ws);
      while (st.Step(&s)) {
        if (sqlite3_column_type(st.get(), 0) == SQLITE_NULL) continue;
        lo = std::min<int64_t>(lo, sqlite3_column_int64(st.get(), 0));
        hi = std::max<int64_t>(hi, sqlite3_column_int64(st.get(), 1));
      }
      if (!s.ok() || lo > hi) return false;
    }
    std::vector<int64_t> dirty;
    {
      Stmt st(db, "SELECT hour FROM rollup_dirty WHERE workspace_id = ?1 ORDER BY hour");
      if (!st.status().ok()) return false;
      sqlite3_bind_int64(st.get(), 1, ws);
      while (st.Step(&s)) dirty.push_back(sqlite3_column_int64(st.get(), 0));
      if (!s.ok()) return false;
    }
    // Hours outside [lo, hi] hold no row at or below the watermark: their rows are all past it.
    const int64_t last = std::min(hi, to - 1);
    for (int64_t h = from <= lo ? lo : HourStart(from); h <= last; h += kRollupHourMs) {
      bool raw = h < from || h > to - kRollupHourMs ||
                 std::binary_search(dirty.begin(), dirty.end(), h) || blocked(h);
      if (!raw && !bounds.empty()) {
        auto it = std::upper_bound(bounds.begin(), bounds.end(), h);
        raw = it == bounds.begin() || it == bounds.end() || h + kRollupHourMs > *it;
      }
      if (!raw) {
        plan->hours.push_back(h);
        continue;
      }
      const int64_t a = std::max(h, from), b = std::min(h + kRollupHourMs, to);
      if (!plan->raw.empty() && plan->raw.back().second == a) {
        plan->raw.back().second = b;
      } else {
        plan->raw.emplace_back(a, b);
      }
    }
    return !plan->hours.empty();
  }

  // Filters the rollups can answer: time, names and (for rollup_names) type.
  static bool RollupFilter(const EventFilter& f) {
    return f.user_id.empty() && f.anonymous_id.empty() && f.session_id.empty() &&
           f.properties.empty() && f.context.empty();
  }

  // The rollup rows of one table for `ws` over the plan's hours: "WHERE workspace_id = .. AND
  // hour >= .. AND hour < ..".
  static void HourRange(int64_t ws, const Plan& plan, Where* w) {
    w->And("workspace_id = " + w->P(ws));
    w->And("hour >= " + w->P(plan.hours.front()));
    w->And("hour < " + w->P(plan.hours.back() + kRollupHourMs));
  }

  // Events per rolled-up hour matching the filter's names and type (fn(hour, count)).
  template <typename Fn>
  Status EventsPerHour(sqlite3* db, int64_t ws, const EventFilter& f, const Plan& plan, Fn&& fn) {
    Where w;
    HourRange(ws, plan, &w);
    std::string sql;
    if (f.names.empty() && f.type.empty()) {
      sql = "SELECT hour, events FROM rollup_hours" + w.sql();
    } else {
      AddNames(f, "name", &w);
      if (!f.type.empty()) w.And("type = " + w.P(f.type));
      sql = "SELECT hour, events FROM rollup_names" + w.sql();
    }
    Stmt st(db, sql);
    if (!st.status().ok()) return st.status();
    w.Bind(st.get());
    Status s;
    while (st.Step(&s)) {
      int64_t hour = sqlite3_column_int64(st.get(), 0);
      if (plan.Rolled(hour)) fn(hour, sqlite3_column_int64(st.get(), 1));
    }
    return s;
  }

  Status TimeseriesFromRollups(sqlite3* db, int64_t ws, const EventFilter& f,
                               const TimeseriesRequest& r, const Plan& plan,
                               std::vector<int64_t>* values) {
    auto bucket_of = [&](int64_t t) {
      return static_cast<size_t>(std::upper_bound(r.bounds.begin(), r.bounds.end(), t) -
                                 r.bounds.begin()) -
             1;
    };
    Status s;
    if (r.metric == Metric::kEvents) {
      s = EventsPerHour(db, ws, f, plan,
                        [&](int64_t hour, int64_t n) { (*values)[bucket_of(hour)] += n; });
      if (!s.ok()) return s;
      return ScanRaw(db, ws, f, "1", 1, plan,
                     [&](sqlite3_stmt*, int64_t t) { ++(*values)[bucket_of(t)]; });
    }
    std::vector<std::vector<uint64_t>> raw(values->size());
    s = ScanRaw(db, ws, f, "COALESCE(user_id, anonymous_id)", 1, plan,
                [&](sqlite3_stmt* st, int64_t t) {
                  if (uint64_t u; HashColumn(st, 0, &u)) raw[bucket_of(t)].push_back(u);
                });
    if (!s.ok()) return s;
    Where w;
    HourRange(ws, plan, &w);
    Stmt st(db, "SELECT hour, users FROM rollup_hours" + w.sql() + " ORDER BY hour");
    if (!st.status().ok()) return st.status();
    w.Bind(st.get());
    HashSet seen;
    bool have = st.Step(&s);
    for (size_t b = 0; b < values->size(); ++b) {
      seen.Clear();
      for (uint64_t u : raw[b]) seen.Insert(u);
      for (; have && sqlite3_column_int64(st.get(), 0) < r.bounds[b + 1]; have = st.Step(&s)) {
        if (plan.Rolled(sqlite3_column_int64(st.get(), 0))) InsertBlob(st.get(), 1, &seen);
      }
      (*values)[b] = static_cast<int64_t>(seen.size());
    }
    return s;
  }

  static void InsertBlob(sqlite3_stmt* st, int col, HashSet* set) {
    const auto* p = static_cast<const unsigned char*>(sqlite3_column_blob(st, col));
    const size_t n = static_cast<size_t>(sqlite3_column_bytes(st, col)) / 8;
    for (size_t i = 0; i < n; ++i) {
      uint64_t h;
      std::memcpy(&h, p + i * 8, 8);
      set->Insert(h);
    }
  }

  Status OverviewFromRollups(sqlite3* db, int64_t ws, const EventFilter& f, const Plan& plan,
                             Overview* out) {
    HashSet users, sessions;
    std::unordered_map<std::string, int64_t> counts;
    Status s;
    {
      Where w;
      HourRange(ws, plan, &w);
      Stmt st(db, "SELECT hour, events, users, sessions FROM rollup_hours" + w.sql());
      if (!st.status().ok()) return st.status();
      w.Bind(st.get());
      while (st.Step(&s)) {
        if (!plan.Rolled(sqlite3_column_int64(st.get(), 0))) continue;
        out->events += sqlite3_column_int64(st.get(), 1);
        InsertBlob(st.get(), 2, &users);
        InsertBlob(st.get(), 3, &sessions);
      }
      if (!s.ok()) return s;
    }
    {
      Where w;
      HourRange(ws, plan, &w);
      Stmt st(db, "SELECT hour, name, events FROM rollup_names" + w.sql());
      if (!st.status().ok()) return st.status();
      w.Bind(st.get());
      while (st.Step(&s)) {
        if (plan.Rolled(sqlite3_column_int64(st.get(), 0))) {
          counts[ColumnText(st.get(), 1)] += sqlite3_column_int64(st.get(), 2);
        }
      }
      if (!s.ok()) return s;
    }
    s = ScanRaw(db, ws, f, "COALESCE(user_id, anonymous_id), session_id, name", 3, plan,
                [&](sqlite3_stmt* st, int64_t) {
                  ++out->events;
                  uint64_t h;
                  if (HashColumn(st, 0, &h)) users.Insert(h);
                  if (HashColumn(st, 1, &h)) sessions.Insert(h);
                  ++counts[ColumnText(st, 2)];
                });
    if (!s.ok()) return s;
    out->users = static_cast<int64_t>(users.size());
    out->sessions = static_cast<int64_t>(sessions.size());
    out->top_events.assign(counts.begin(), counts.end());
    std::sort(out->top_events.begin(), out->top_events.end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    if (out->top_events.size() > 10) out->top_events.resize(10);
    return s;
  }

  // Breakdowns of events by name, type or a property from the rollups.
  Status BreakdownFromRollups(sqlite3* db, int64_t ws, const BreakdownRequest& r, const Plan& plan,
                              Breakdown* out) {
    const EventFilter& f = r.filter;
    const bool property = r.by.kind == GroupKey::Kind::kProperty;
    std::unordered_map<std::string, BreakdownRow> groups;
    std::string key;
    auto add = [&](bool absent, std::string_view text, int64_t n) {
      key.assign(absent ? "" : "=");
      if (!absent) key.append(text.data(), text.size());
      auto [it, fresh] = groups.try_emplace(key);
      if (fresh && !absent) DescribeGroup(key.substr(1), property, &it->second);
      it->second.count += n;
    };
    auto view = [](sqlite3_stmt* st, int i) {
      return std::string_view(reinterpret_cast<const char*>(sqlite3_column_text(st, i)),
                              static_cast<size_t>(sqlite3_column_bytes(st, i)));
    };
    Status s;
    if (!property) {
      const char* col = r.by.kind == GroupKey::Kind::kName ? "name" : "type";
      Where w;
      HourRange(ws, plan, &w);
      AddNames(f, "name", &w);
      if (!f.type.empty()) w.And("type = " + w.P(f.type));
      Stmt st(db, std::string("SELECT hour, ") + col + ", events FROM rollup_names" + w.sql());
      if (!st.status().ok()) return st.status();
      w.Bind(st.get());
      while (st.Step(&s)) {
        if (plan.Rolled(sqlite3_column_int64(st.get(), 0))) {
          add(false, view(st.get(), 1), sqlite3_column_int64(st.get(), 2));
        }
      }
      if (!s.ok()) return s;
      s = ScanRaw(db, ws, f, col, 1, plan,
                  [&](sqlite3_stmt* row, int64_t) { add(false, view(row, 0), 1); });
      if (!s.ok()) return s;
    } else {
      int64_t events = 0, present = 0;
      s = EventsPerHour(db, ws, f, plan, [&](int64_t, int64_t n) { events += n; });
      if (!s.ok()) return s;
      Where w;
      HourRange(ws, plan, &w);
      w.And("key = " + w.P(r.by.key));
      AddNames(f, "name", &w);
      Stmt st(db, "SELECT hour, value, events FROM rollup_props" + w.sql());
      if (!st.status().ok()) return st.status();
      w.Bind(st.get());
      while (st.Step(&s)) {
        if (plan.Rolled(sqlite3_column_int64(st.get(), 0))) {
          int64_t n = sqlite3_column_int64(st.get(), 2);
          add(false, view(st.get(), 1), n);
          present += n;
        }
      }
      if (!s.ok()) return s;
      if (events > present) add(true, {}, events - present);
      std::string member;
      s = ScanRaw(db, ws, f, "properties", 1, plan, [&](sqlite3_stmt* row, int64_t) {
        bool absent = !MemberText(view(row, 0), r.by.key, &member) || member == "null";
        add(absent, member, 1);
      });
      if (!s.ok()) return s;
    }
    std::vector<BreakdownRow> rows;
    rows.reserve(groups.size());
    for (auto& [k, row] : groups) rows.push_back(std::move(row));
    TopRows(std::move(rows), r, out);
    return s;
  }

  // Hours in [from, to) a property breakdown cannot read from the rollups: the key went over
  // the cap that hour, or the hour had too many keys to track this one.
  Status BlockedHours(sqlite3* db, int64_t ws, const std::string& key, int64_t from, int64_t to,
                      std::unordered_map<int64_t, bool>* tracked, std::vector<int64_t>* full) {
    Status s;
    {
      Stmt st(db,
              "SELECT hour, overflow FROM rollup_keys WHERE workspace_id = ?1 AND key = ?2 "
              "AND hour >= ?3 AND hour < ?4");
      if (!st.status().ok()) return st.status();
      sqlite3_bind_int64(st.get(), 1, ws);
      sqlite3_bind_text(st.get(), 2, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
      sqlite3_bind_int64(st.get(), 3, FloorHour(from));
      sqlite3_bind_int64(st.get(), 4, to);
      while (st.Step(&s)) {
        (*tracked)[sqlite3_column_int64(st.get(), 0)] = sqlite3_column_int64(st.get(), 1) != 0;
      }
      if (!s.ok()) return s;
    }
    Stmt st(db,
            "SELECT hour FROM rollup_hours WHERE workspace_id = ?1 AND hour >= ?2 AND hour < ?3 "
            "AND keys_full = 1 ORDER BY hour");
    if (!st.status().ok()) return st.status();
    sqlite3_bind_int64(st.get(), 1, ws);
    sqlite3_bind_int64(st.get(), 2, FloorHour(from));
    sqlite3_bind_int64(st.get(), 3, to);
    while (st.Step(&s)) full->push_back(sqlite3_column_int64(st.get(), 0));
    return s;
  }

  void RollupLoop() {
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(rollup_mu_);
        rollup_cv_.wait_for(lock, std::chrono::milliseconds(options_.rollup_interval_ms),
                            [&] { return rollup_stop_; });
        if (rollup_stop_) return;
      }
      // One chunk per step, so a stop request waits for one transaction at most.
      for (;;) {
        RollupStats stats;
        Status s = rollup_->RunOnce(&stats);
        rollup_rows_ += stats.rows;
        if (!s.ok()) {
          // Queries stay exact (they read past the watermark, and fall back to rows when the job
          // is far behind); the failure is counted and logged once per change of message.
          ++rollup_failures_;
          std::lock_guard<std::mutex> lock(rollup_mu_);
          if (s.message() != rollup_last_error_) {
            rollup_last_error_ = s.message();
            std::fprintf(stderr,
                         "{\"level\":\"error\",\"msg\":\"rollup job failed\",\"error\":%s}\n",
                         nlohmann::json(s.message()).dump().c_str());
          }
        }
        std::lock_guard<std::mutex> lock(rollup_mu_);
        if (!s.ok() || stats.caught_up || rollup_stop_) break;
      }
    }
  }

  // False when the workspace has never stored anything (so nothing can match).
  bool WorkspaceId(sqlite3* db, const std::string& name, int64_t* id) {
    Stmt st(db, "SELECT id FROM workspaces WHERE name = ?1");
    if (!st.status().ok()) return false;
    sqlite3_bind_text(st.get(), 1, name.data(), static_cast<int>(name.size()), SQLITE_STATIC);
    Status s;
    if (!st.Step(&s)) return false;
    *id = sqlite3_column_int64(st.get(), 0);
    return true;
  }

  std::string path_;
  ReportStoreOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<sqlite3*> idle_;
  std::unique_ptr<Rollup> rollup_;  // the background job's own connection
  std::thread rollup_thread_;
  std::mutex rollup_mu_;
  std::condition_variable rollup_cv_;
  bool rollup_stop_ = false;
  std::atomic<int64_t> rollup_rows_{0};
  std::atomic<int64_t> rollup_failures_{0};
  std::string rollup_last_error_;  // guarded by rollup_mu_
};

}  // namespace

Result<std::unique_ptr<ReportStore>> OpenReportStore(const std::string& url,
                                                     const ReportStoreOptions& options) {
  if (url.rfind("clickhouse://", 0) == 0) {  // scale-out: store/clickhouse_store.h
    Result<ClickHouseUrl> ch = ParseClickHouseUrl(url);
    if (!ch.ok()) return ch.status();
    return OpenClickHouseReportStore(ch.value());
  }
  const std::string prefix = "sqlite:";
  if (url.compare(0, prefix.size(), prefix) != 0 || url.size() == prefix.size()) {
    return Status::InvalidArgument("store: unsupported URL \"" + url +
                                   "\" for reports (expected sqlite:<path>)");
  }
  auto store = std::make_unique<SqliteReportStore>(url.substr(prefix.size()), options);
  Status s = store->Init();
  if (!s.ok()) return s;
  return std::unique_ptr<ReportStore>(std::move(store));
}

}  // namespace tally::collector::report
