#include "store/clickhouse_store.h"

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <sstream>
#include <thread>
#include <unordered_set>

namespace tally::collector {
namespace {

// docs/DEPLOY.md explains the choices: the ReplacingMergeTree key is exactly the identity of an
// event, (workspace, event_id), so two copies of one event (a retry through two collectors at the
// same moment) collapse into one, and every read says FINAL so a copy not yet merged is never
// counted. Times are ms as Int64 (18.16 has no DateTime64); partitions are months of derived_at,
// so retention drops whole months and time ranges skip months.
constexpr const char* kEventsDdl = R"sql(
CREATE TABLE IF NOT EXISTS %db%.events (
  workspace String,
  event_id String,
  type String,
  name String,
  user_id String,
  anonymous_id String,
  session_id String,
  created_at Int64,
  sent_at Int64,
  received_at Int64,
  derived_at Int64,
  time_flags UInt32,
  properties String,
  context String
) ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(toDateTime(intDiv(derived_at, 1000)))
ORDER BY (workspace, event_id)
)sql";

// Settings and keys change rarely and from any collector: the newest `version` wins (FINAL).
constexpr const char* kWorkspacesDdl = R"sql(
CREATE TABLE IF NOT EXISTS %db%.workspaces (
  name String,
  fingerprint_dedup UInt8,
  fingerprint_window_ms Int64,
  version UInt64
) ENGINE = ReplacingMergeTree(version) ORDER BY name
)sql";

constexpr const char* kKeysDdl = R"sql(
CREATE TABLE IF NOT EXISTS %db%.keys (
  key String,
  kind String,
  workspace String,
  source String,
  origins String,
  created_at Int64,
  revoked_at Int64,
  version UInt64
) ENGINE = ReplacingMergeTree(version) ORDER BY key
)sql";

// The content rule (lesson 2): the newest sighting of a fingerprint wins.
constexpr const char* kFingerprintsDdl = R"sql(
CREATE TABLE IF NOT EXISTS %db%.fingerprints (
  workspace String,
  fingerprint String,
  seen_at Int64
) ENGINE = ReplacingMergeTree(seen_at) ORDER BY (workspace, fingerprint)
)sql";

std::string WithDb(const char* ddl, const std::string& db) {
  std::string s = ddl;
  const std::string token = "%db%";
  for (size_t at = s.find(token); at != std::string::npos; at = s.find(token, at)) {
    s.replace(at, token.size(), db);
  }
  return s;
}

std::string PercentEncode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// A version for settings rows: wall-clock µs, strictly increasing within the process, so the
// last write wins across collectors as far as their clocks agree.
uint64_t NextVersion() {
  static std::atomic<uint64_t> last{0};
  uint64_t now = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                           std::chrono::system_clock::now().time_since_epoch())
                                           .count());
  uint64_t prev = last.load();
  uint64_t next;
  do {
    next = std::max(now, prev + 1);
  } while (!last.compare_exchange_weak(prev, next));
  return next;
}

// Stored kind names are written by KeyKindName; anything else reads as a write key, the kind
// with the least power.
KeyKind KindFromName(const std::string& name) {
  KeyKind kind = KeyKind::kWrite;
  ParseKeyKind(name, &kind);
  return kind;
}

int64_t ToInt(const std::string& s) { return std::strtoll(s.c_str(), nullptr, 10); }

// Cursor: "<derived_at>.<event_id>" of the last row of the page.
bool ParseCursor(const std::string& c, int64_t* derived_at, std::string* event_id) {
  size_t dot = c.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 >= c.size()) return false;
  char* end = nullptr;
  errno = 0;
  *derived_at = std::strtoll(c.c_str(), &end, 10);
  if (end != c.c_str() + dot || errno) return false;
  *event_id = c.substr(dot + 1);
  for (char ch : *event_id) {
    if (!std::isxdigit(static_cast<unsigned char>(ch)) && ch != '-') return false;
  }
  return true;
}

}  // namespace

const char* const kChEventColumns =
    "event_id, type, name, user_id, anonymous_id, session_id, created_at, sent_at, received_at, "
    "derived_at, time_flags, properties, context";

StoredEvent ChEventFromRow(const std::vector<std::string>& f) {
  StoredEvent e;
  if (f.size() < 13) return e;
  e.event_id = f[0];
  e.type = f[1];
  e.name = f[2];
  e.user_id = f[3];
  e.anonymous_id = f[4];
  e.session_id = f[5];
  e.created_at_ms = ToInt(f[6]);
  e.sent_at_ms = ToInt(f[7]);
  e.received_at_ms = ToInt(f[8]);
  e.derived_at_ms = ToInt(f[9]);
  e.time_flags = static_cast<uint32_t>(ToInt(f[10]));
  e.properties_json = f[11];
  e.context_json = f[12];
  return e;
}

Result<ClickHouseUrl> ParseClickHouseUrl(const std::string& url) {
  const std::string scheme = "clickhouse://";
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("store: " + why + " in \"" + url +
                                   "\" (expected clickhouse://user:password@host:port/database)");
  };
  if (url.compare(0, scheme.size(), scheme) != 0) return bad("not a clickhouse:// URL");
  ClickHouseUrl out;
  std::string rest = url.substr(scheme.size());
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  if (slash != std::string::npos && slash + 1 < rest.size()) out.database = rest.substr(slash + 1);
  size_t at = authority.rfind('@');
  if (at != std::string::npos) {
    std::string userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    size_t colon = userinfo.find(':');
    out.user = userinfo.substr(0, colon);
    if (colon != std::string::npos) out.password = userinfo.substr(colon + 1);
    if (out.user.empty()) return bad("empty user");
  }
  size_t colon = authority.rfind(':');
  out.host = authority.substr(0, colon);
  if (colon != std::string::npos) {
    char* end = nullptr;
    long port = std::strtol(authority.c_str() + colon + 1, &end, 10);
    if (*end != '\0' || port <= 0 || port > 65535) return bad("bad port");
    out.port = static_cast<int>(port);
  }
  if (out.host.empty()) return bad("no host");
  for (char c : out.database) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') {
      return bad("database name must be letters, digits and _");
    }
  }
  return out;
}

std::string ChQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\\' || c == '\'') out += '\\';
    out += c;
  }
  return out + "'";
}

void TsvAppend(const std::string& s, std::string* out) {
  for (char c : s) {
    switch (c) {
      case '\\':
        *out += "\\\\";
        break;
      case '\t':
        *out += "\\t";
        break;
      case '\n':
        *out += "\\n";
        break;
      default:
        *out += c;
    }
  }
}

std::vector<std::string> TsvSplit(std::string_view line) {
  std::vector<std::string> fields(1);
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (c == '\t') {
      fields.emplace_back();
    } else if (c == '\\' && i + 1 < line.size()) {
      char n = line[++i];
      switch (n) {
        case 'b':
          fields.back() += '\b';
          break;
        case 'f':
          fields.back() += '\f';
          break;
        case 'r':
          fields.back() += '\r';
          break;
        case 'n':
          fields.back() += '\n';
          break;
        case 't':
          fields.back() += '\t';
          break;
        case '0':
          fields.back() += '\0';
          break;
        default:
          fields.back() += n;
      }
    } else {
      fields.back() += c;
    }
  }
  return fields;
}

// --- ClickHouseClient ---------------------------------------------------------------------------

ClickHouseClient::ClickHouseClient(ClickHouseUrl url) : url_(std::move(url)) {}
ClickHouseClient::~ClickHouseClient() = default;

std::unique_ptr<httplib::Client> ClickHouseClient::Borrow() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return c;
    }
  }
  auto c = std::make_unique<httplib::Client>(url_.host, url_.port);
  c->set_keep_alive(true);
  c->set_connection_timeout(2, 0);
  // An insert of a whole group or a report over many months may take a while; a server that
  // stops answering fails the group (503) instead of holding every request forever.
  c->set_read_timeout(60, 0);
  c->set_write_timeout(30, 0);
  c->set_basic_auth(url_.user, url_.password);
  return c;
}

void ClickHouseClient::Return(std::unique_ptr<httplib::Client> client) {
  std::lock_guard<std::mutex> lock(mu_);
  if (idle_.size() < 16) idle_.push_back(std::move(client));
}

std::string ClickHouseClient::Path(const std::string& extra_params) const {
  // max_query_size: the dedup lookup lists up to a group's worth of ids in one IN (...).
  // Every statement names its tables with the database, so none is selected here (the first
  // statement creates it).
  return "/?max_query_size=67108864" + extra_params;
}

namespace {
Status HttpError(const httplib::Result& r, const std::string& what) {
  if (!r) {
    return Status::Internal("clickhouse: " + what + ": " + httplib::to_string(r.error()));
  }
  std::string msg = r->body.substr(0, 400);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  return Status::Internal("clickhouse: " + what + ": HTTP " + std::to_string(r->status) + ": " +
                          msg);
}
}  // namespace

Status ClickHouseClient::Query(const std::string& sql, std::string* out) {
  auto c = Borrow();
  auto r = c->Post(Path(""), sql, "text/plain");
  if (!r || r->status != 200) return HttpError(r, "query");
  if (out) *out = std::move(r->body);
  Return(std::move(c));
  return Status::Ok();
}

Status ClickHouseClient::QueryWithTable(const std::string& sql, const std::string& name,
                                        const std::string& structure, const std::string& tsv,
                                        std::string* out) {
  auto c = Borrow();
  std::string path =
      Path("&query=" + PercentEncode(sql) + "&" + name + "_structure=" + PercentEncode(structure) +
           "&" + name + "_format=TabSeparated");
  httplib::MultipartFormDataItems items = {{name, tsv, name, "text/plain"}};
  auto r = c->Post(path, items);
  if (!r || r->status != 200) return HttpError(r, "query");
  if (out) *out = std::move(r->body);
  Return(std::move(c));
  return Status::Ok();
}

Status ClickHouseClient::Insert(const std::string& table_and_format, const std::string& data) {
  auto c = Borrow();
  std::string path = Path("&query=" + PercentEncode("INSERT INTO " + table_and_format));
  auto r = c->Post(path, data, "text/plain");
  if (!r || r->status != 200) return HttpError(r, "insert");
  Return(std::move(c));
  return Status::Ok();
}

Status ClickHouseClient::Stream(const std::string& sql,
                                const std::function<bool(std::string_view)>& line) {
  auto c = Borrow();
  std::string pending;
  bool stopped = false;
  int status = 0;
  std::string error_body;
  auto r = c->Get(
      Path("&query=" + PercentEncode(sql)), httplib::Headers{},
      [&](const httplib::Response& res) {
        status = res.status;
        return true;
      },
      [&](const char* data, size_t n) {
        if (status != 200) {
          error_body.append(data, std::min<size_t>(n, 400));
          return true;
        }
        pending.append(data, n);
        size_t start = 0;
        for (size_t nl = pending.find('\n'); nl != std::string::npos;
             nl = pending.find('\n', start)) {
          if (!line(std::string_view(pending).substr(start, nl - start))) {
            stopped = true;
            return false;
          }
          start = nl + 1;
        }
        pending.erase(0, start);
        return true;
      });
  if (stopped) return Status::Ok();  // the connection is dropped with the client
  if (!r) return Status::Internal("clickhouse: stream: " + httplib::to_string(r.error()));
  if (status != 200) {
    return Status::Internal("clickhouse: stream: HTTP " + std::to_string(status) + ": " +
                            error_body);
  }
  // ClickHouse reports an error that happens after the first bytes inside the body.
  if (pending.find("DB::Exception") != std::string::npos) {
    return Status::Internal("clickhouse: stream: " + pending.substr(0, 400));
  }
  Return(std::move(c));
  return Status::Ok();
}

// --- ClickHouseStore ----------------------------------------------------------------------------

Result<std::unique_ptr<Store>> ClickHouseStore::Open(const ClickHouseUrl& url) {
  std::unique_ptr<ClickHouseStore> store(new ClickHouseStore(url));
  Status s = store->Init();
  if (!s.ok()) return s;
  return std::unique_ptr<Store>(std::move(store));
}

std::string ClickHouseStore::Table(const char* name) const { return db_ + "." + name; }

Status ClickHouseStore::Init() {
  Status s = client_.Query("CREATE DATABASE IF NOT EXISTS " + db_);
  for (const char* ddl : {kEventsDdl, kWorkspacesDdl, kKeysDdl, kFingerprintsDdl}) {
    if (!s.ok()) return s;
    s = client_.Query(WithDb(ddl, db_));
  }
  return s;
}

Status ClickHouseStore::PutWorkspace(const WorkspaceRecord& w) {
  std::string row;
  TsvAppend(w.name, &row);
  row += "\t" + std::to_string(w.fingerprint_dedup ? 1 : 0) + "\t" +
         std::to_string(w.fingerprint_window_ms) + "\t" + std::to_string(NextVersion()) + "\n";
  Status s = client_.Insert(Table("workspaces") + " FORMAT TabSeparated", row);
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> lock(cache_mu_);
  workspaces_[w.name] = w;
  return Status::Ok();
}

Status ClickHouseStore::ListWorkspaces(std::vector<WorkspaceRecord>* out) {
  out->clear();
  std::string body;
  Status s = client_.Query("SELECT name, fingerprint_dedup, fingerprint_window_ms FROM " +
                               Table("workspaces") + " FINAL ORDER BY name FORMAT TabSeparated",
                           &body);
  if (!s.ok()) return s;
  std::istringstream in(body);
  std::string line;
  std::lock_guard<std::mutex> lock(cache_mu_);
  while (std::getline(in, line)) {
    auto f = TsvSplit(line);
    if (f.size() < 3) continue;
    WorkspaceRecord w{f[0], f[1] == "1", ToInt(f[2])};
    workspaces_[w.name] = w;
    out->push_back(std::move(w));
  }
  return Status::Ok();
}

Status ClickHouseStore::WorkspaceSettings(const std::vector<std::string>& names,
                                          std::unordered_map<std::string, WorkspaceRecord>* out) {
  std::vector<std::string> unknown;
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    for (const auto& n : names) {
      auto it = workspaces_.find(n);
      if (it != workspaces_.end()) {
        (*out)[n] = it->second;
      } else {
        unknown.push_back(n);
      }
    }
  }
  if (unknown.empty()) return Status::Ok();
  std::vector<WorkspaceRecord> all;
  Status s = ListWorkspaces(&all);  // another collector may have created them
  if (!s.ok()) return s;
  std::string rows;
  std::lock_guard<std::mutex> lock(cache_mu_);
  for (const auto& n : unknown) {
    auto it = workspaces_.find(n);
    if (it == workspaces_.end()) {
      // Version 0: any explicit PutWorkspace, from any collector, wins over this default row.
      WorkspaceRecord w{n};
      TsvAppend(n, &rows);
      rows += "\t0\t" + std::to_string(w.fingerprint_window_ms) + "\t0\n";
      it = workspaces_.emplace(n, w).first;
    }
    (*out)[n] = it->second;
  }
  if (rows.empty()) return Status::Ok();
  return client_.Insert(Table("workspaces") + " FORMAT TabSeparated", rows);
}

Status ClickHouseStore::Append(const std::vector<AppendBatch*>& group, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(append_mu_);
  // Per workspace: the ids (and fingerprints) of the group, to ask which are already stored.
  struct Lookup {
    std::string ids;           // one per line, sent as an external table
    std::string fingerprints;  // likewise
    std::unordered_set<std::string> existing_ids;
    std::unordered_map<std::string, int64_t> seen;  // fingerprint -> newest seen_at
  };
  std::unordered_map<std::string, Lookup> by_ws;
  std::vector<std::string> names;
  for (AppendBatch* b : group) {
    if (!by_ws.count(b->workspace)) names.push_back(b->workspace);
    Lookup& l = by_ws[b->workspace];
    for (const StoredEvent& e : b->events) {
      TsvAppend(e.event_id, &l.ids);
      l.ids += '\n';
    }
  }
  std::unordered_map<std::string, WorkspaceRecord> settings;
  Status s = WorkspaceSettings(names, &settings);
  if (!s.ok()) return s;
  for (AppendBatch* b : group) {
    if (!settings[b->workspace].fingerprint_dedup) continue;
    Lookup& l = by_ws[b->workspace];
    for (const StoredEvent& e : b->events) {
      if (e.fingerprint.empty()) continue;
      TsvAppend(e.fingerprint, &l.fingerprints);
      l.fingerprints += '\n';
    }
  }

  // Which ids are stored already: the primary key (workspace, event_id) answers the IN without
  // reading other rows; the ids travel as an external table. No FINAL: any copy means "stored".
  for (auto& [ws, l] : by_ws) {
    if (l.ids.empty()) continue;
    std::string sql = "SELECT event_id FROM " + Table("events") +
                      " WHERE workspace = " + ChQuote(ws) +
                      " AND event_id IN ids FORMAT TabSeparated";
    std::string body;
    s = client_.QueryWithTable(sql, "ids", "id String", l.ids, &body);
    if (!s.ok()) return s;
    std::istringstream in(body);
    std::string line;
    while (std::getline(in, line)) l.existing_ids.insert(TsvSplit(line)[0]);
    if (l.fingerprints.empty()) continue;
    sql = "SELECT fingerprint, max(seen_at) FROM " + Table("fingerprints") +
          " WHERE workspace = " + ChQuote(ws) +
          " AND fingerprint IN fps GROUP BY fingerprint FORMAT TabSeparated";
    s = client_.QueryWithTable(sql, "fps", "fp String", l.fingerprints, &body);
    if (!s.ok()) return s;
    std::istringstream fin(body);
    while (std::getline(fin, line)) {
      auto f = TsvSplit(line);
      if (f.size() >= 2) l.seen[f[0]] = ToInt(f[1]);
    }
  }

  // One INSERT for every new event of the group: one part, acknowledged by ClickHouse only when
  // it is written. TabSeparated: the cheapest text format for both sides (docs/BENCHMARKS.md).
  std::string rows, fp_rows;
  for (AppendBatch* b : group) {
    Lookup& l = by_ws[b->workspace];
    const WorkspaceRecord& ws = settings[b->workspace];
    b->outcomes.assign(b->events.size(), AppendOutcome::kStored);
    for (size_t i = 0; i < b->events.size(); ++i) {
      const StoredEvent& e = b->events[i];
      if (!l.existing_ids.insert(e.event_id).second) {
        b->outcomes[i] = AppendOutcome::kDuplicateId;
        continue;
      }
      const bool by_content = ws.fingerprint_dedup && !e.fingerprint.empty();
      if (by_content) {
        auto it = l.seen.find(e.fingerprint);
        if (it != l.seen.end() && it->second > now_ms - ws.fingerprint_window_ms) {
          b->outcomes[i] = AppendOutcome::kDuplicateContent;
          l.existing_ids.erase(e.event_id);  // not stored: a later copy of the id may store
          continue;
        }
        l.seen[e.fingerprint] = now_ms;
        TsvAppend(b->workspace, &fp_rows);
        fp_rows += '\t';
        TsvAppend(e.fingerprint, &fp_rows);
        fp_rows += '\t' + std::to_string(now_ms) + '\n';
      }
      TsvAppend(b->workspace, &rows);
      for (const std::string* f :
           {&e.event_id, &e.type, &e.name, &e.user_id, &e.anonymous_id, &e.session_id}) {
        rows += '\t';
        TsvAppend(*f, &rows);
      }
      for (int64_t v : {e.created_at_ms, e.sent_at_ms, e.received_at_ms, e.derived_at_ms,
                        static_cast<int64_t>(e.time_flags)}) {
        rows += '\t';
        rows += std::to_string(v);
      }
      rows += '\t';
      TsvAppend(e.properties_json, &rows);
      rows += '\t';
      TsvAppend(e.context_json, &rows);
      rows += '\n';
    }
  }
  if (!rows.empty()) {
    s = client_.Insert(Table("events") +
                           " (workspace, event_id, type, name, user_id, anonymous_id, session_id, "
                           "created_at, sent_at, received_at, derived_at, time_flags, properties, "
                           "context) FORMAT TabSeparated",
                       rows);
    if (!s.ok()) return s;
  }
  // After the events: if this insert fails the group is answered 503 and its retry finds the
  // events stored (duplicates), so nothing is counted twice; the fingerprints are then missing,
  // which only weakens the optional content rule for those events.
  if (!fp_rows.empty()) {
    s = client_.Insert(Table("fingerprints") + " FORMAT TabSeparated", fp_rows);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Status ClickHouseStore::Query(const EventQuery& q, EventPage* page) {
  page->events.clear();
  page->next_cursor.clear();
  int64_t cursor_time = 0;
  std::string cursor_id;
  if (!q.cursor.empty() && !ParseCursor(q.cursor, &cursor_time, &cursor_id)) {
    return Status::InvalidArgument("cursor: not a cursor this server issued");
  }
  std::string sql = std::string("SELECT ") + kChEventColumns + " FROM " + Table("events") +
                    " FINAL WHERE workspace = " + ChQuote(q.workspace);
  if (q.from_ms) sql += " AND derived_at >= " + std::to_string(*q.from_ms);
  if (q.to_ms) sql += " AND derived_at < " + std::to_string(*q.to_ms);
  if (!q.name.empty()) sql += " AND name = " + ChQuote(q.name);
  if (!q.user_id.empty()) sql += " AND user_id = " + ChQuote(q.user_id);
  if (!q.anonymous_id.empty()) sql += " AND anonymous_id = " + ChQuote(q.anonymous_id);
  if (!q.session_id.empty()) sql += " AND session_id = " + ChQuote(q.session_id);
  if (!q.cursor.empty()) {
    sql += " AND (derived_at > " + std::to_string(cursor_time) +
           " OR (derived_at = " + std::to_string(cursor_time) + " AND event_id > " +
           ChQuote(cursor_id) + "))";
  }
  size_t limit = q.limit == 0 ? 100 : q.limit;
  sql +=
      " ORDER BY derived_at, event_id LIMIT " + std::to_string(limit + 1) + " FORMAT TabSeparated";
  std::string body;
  Status s = client_.Query(sql, &body);
  if (!s.ok()) return s;
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line)) {
    if (page->events.size() == limit) {
      const StoredEvent& last = page->events.back();
      page->next_cursor = std::to_string(last.derived_at_ms) + "." + last.event_id;
      break;
    }
    page->events.push_back(ChEventFromRow(TsvSplit(line)));
  }
  return Status::Ok();
}

Status ClickHouseStore::Aggregate(const AggregateQuery& q, std::vector<AggregateRow>* rows) {
  rows->clear();
  if (Status s = CheckAggregate(q); !s.ok()) return s;
  const std::string from = std::to_string(q.from_ms);
  std::string bucket = q.bucket_ms > 0
                           ? "intDiv(derived_at - " + from + ", " + std::to_string(q.bucket_ms) +
                                 ") * " + std::to_string(q.bucket_ms) + " + " + from
                           : from;
  const std::string group = AggregateGroupColumn(q.group_by, "user_id");
  // SQLite counts COUNT(DISTINCT COALESCE(user_id, anonymous_id)): events with neither id are
  // not a user.
  std::string value = q.distinct_users ? "uniqExactIf(if(user_id != '', user_id, anonymous_id), "
                                         "user_id != '' OR anonymous_id != '')"
                                       : "count()";
  std::string sql = "SELECT toInt64(" + bucket + ") AS b, " + group + " AS g, " + value + " FROM " +
                    Table("events") + " FINAL WHERE workspace = " + ChQuote(q.workspace) +
                    " AND derived_at >= " + from + " AND derived_at < " + std::to_string(q.to_ms);
  if (!q.name.empty()) sql += " AND name = " + ChQuote(q.name);
  sql += " GROUP BY b, g ORDER BY b, g FORMAT TabSeparated";
  std::string body;
  Status s = client_.Query(sql, &body);
  if (!s.ok()) return s;
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line)) {
    auto f = TsvSplit(line);
    if (f.size() < 3) continue;
    rows->push_back(AggregateRow{ToInt(f[0]), f[1], ToInt(f[2])});
  }
  return Status::Ok();
}

Status ClickHouseStore::CountEvents(const std::string& workspace, int64_t* count) {
  *count = 0;
  std::string sql = "SELECT count() FROM " + Table("events") + " FINAL";
  if (!workspace.empty()) sql += " WHERE workspace = " + ChQuote(workspace);
  std::string body;
  Status s = client_.Query(sql + " FORMAT TabSeparated", &body);
  if (!s.ok()) return s;
  *count = ToInt(body);
  return Status::Ok();
}

Status ClickHouseStore::WaitMutations(const std::string& table) {
  for (int i = 0; i < 6000; ++i) {
    std::string body;
    Status s =
        client_.Query("SELECT count() FROM system.mutations WHERE database = " + ChQuote(db_) +
                          " AND table = " + ChQuote(table) + " AND is_done = 0 FORMAT TabSeparated",
                      &body);
    if (!s.ok()) return s;
    if (ToInt(body) == 0) return Status::Ok();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Status::Internal("clickhouse: purge: mutations on " + table + " still running");
}

Status ClickHouseStore::PurgeBefore(int64_t cutoff_ms, int64_t* purged) {
  *purged = 0;
  std::string body;
  const std::string cutoff = std::to_string(cutoff_ms);
  Status s = client_.Query("SELECT count() FROM " + Table("events") + " FINAL WHERE derived_at < " +
                               cutoff + " FORMAT TabSeparated",
                           &body);
  if (!s.ok()) return s;
  *purged = ToInt(body);
  if (*purged == 0) return Status::Ok();
  // Whole months before the cutoff go as partitions (instant); the rest by a mutation that
  // rewrites only the parts holding matching rows.
  // Partition ids are YYYYMM of derived_at: a month before the cutoff's month is all older.
  s = client_.Query("SELECT DISTINCT partition_id FROM system.parts WHERE database = " +
                        ChQuote(db_) + " AND table = 'events' AND active AND " +
                        "toUInt32(partition_id) < toYYYYMM(toDateTime(intDiv(" + cutoff +
                        ", 1000))) FORMAT TabSeparated",
                    &body);
  if (!s.ok()) return s;
  std::istringstream in(body);
  std::string partition;
  while (std::getline(in, partition)) {
    s = client_.Query("ALTER TABLE " + Table("events") + " DROP PARTITION " + partition);
    if (!s.ok()) return s;
  }
  s = client_.Query("ALTER TABLE " + Table("events") + " DELETE WHERE derived_at < " + cutoff);
  if (s.ok()) s = WaitMutations("events");
  if (s.ok()) {
    s = client_.Query("ALTER TABLE " + Table("fingerprints") + " DELETE WHERE seen_at < " + cutoff);
  }
  if (s.ok()) s = WaitMutations("fingerprints");
  return s;
}

Status ClickHouseStore::PutKey(const KeyRecord& k) {
  std::string row;
  TsvAppend(k.key, &row);
  row += '\t';
  row += KeyKindName(k.kind);
  row += '\t';
  TsvAppend(k.workspace, &row);
  row += '\t';
  TsvAppend(k.source, &row);
  row += '\t';
  TsvAppend(JoinOrigins(k.origins), &row);
  row += "\t" + std::to_string(k.created_at_ms) + "\t" + std::to_string(k.revoked_at_ms) + "\t" +
         std::to_string(NextVersion()) + "\n";
  return client_.Insert(Table("keys") + " FORMAT TabSeparated", row);
}

Status ClickHouseStore::RevokeKey(const std::string& key, int64_t now_ms) {
  std::vector<KeyRecord> all;
  Status s = ListKeys(&all);
  if (!s.ok()) return s;
  for (KeyRecord& k : all) {
    if (k.key != key || k.revoked_at_ms != 0) continue;
    k.revoked_at_ms = now_ms;
    return PutKey(k);
  }
  return Status::NotFound("key: no live key \"" + key + "\"");
}

Status ClickHouseStore::DeleteKey(const std::string& key) {
  // A mutation: ClickHouse rewrites the (small) keys table's parts in the background, and
  // mutations_sync does not exist in 18.16, so ListKeys may show the row for a moment longer.
  return client_.Query("ALTER TABLE " + Table("keys") + " DELETE WHERE key = " + ChQuote(key),
                       nullptr);
}

Status ClickHouseStore::ListKeys(std::vector<KeyRecord>* out) {
  out->clear();
  std::string body;
  Status s =
      client_.Query("SELECT key, kind, workspace, source, origins, created_at, revoked_at FROM " +
                        Table("keys") + " FINAL ORDER BY workspace, kind, key FORMAT TabSeparated",
                    &body);
  if (!s.ok()) return s;
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line)) {
    auto f = TsvSplit(line);
    if (f.size() < 7) continue;
    KeyRecord k;
    k.key = f[0];
    k.kind = KindFromName(f[1]);
    k.workspace = f[2];
    k.source = f[3];
    k.origins = SplitOrigins(f[4]);
    k.created_at_ms = ToInt(f[5]);
    k.revoked_at_ms = ToInt(f[6]);
    out->push_back(std::move(k));
  }
  return Status::Ok();
}

int64_t ClickHouseStore::SizeBytes() {
  std::string body;
  Status s =
      client_.Query("SELECT sum(bytes_on_disk) FROM system.parts WHERE database = " + ChQuote(db_) +
                        " AND active FORMAT TabSeparated",
                    &body);
  return s.ok() ? ToInt(body) : 0;
}

Status ClickHouseStore::Checkpoint() { return Status::Ok(); }

}  // namespace tally::collector
