// SqliteStore specifics on a real file: its multi-row INSERT path (outcomes per event, purges,
// large groups) and DeriveTime. The contract every store shares (dedup, cursor queries,
// aggregates, purge, keys) runs against SQLite and ClickHouse in store_conformance_test.cc.
#include "store/store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "collector_test_util.h"
#include "ingest/ingest.h"
#include "store/user_bucket.h"
#include "store/write_gate.h"

namespace tally::collector {
namespace {

using testing::EventMaker;
using testing::TempDir;

constexpr int64_t kT = 1731681120000;

StoredEvent Row(EventMaker& ids, int64_t at, const std::string& name = "click",
                const std::string& user = "C-1") {
  StoredEvent e;
  e.event_id = ids.Id(at);
  e.type = "track";
  e.name = name;
  e.user_id = user;
  e.created_at_ms = e.received_at_ms = e.derived_at_ms = at;
  return e;
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = OpenStore(dir_.db_url());
    ASSERT_TRUE(opened.ok()) << opened.status().message();
    store_ = std::move(opened).value();
  }
  std::vector<AppendOutcome> Append(std::vector<StoredEvent> events, int64_t now = kT,
                                    const std::string& ws = "acme") {
    AppendBatch b{ws, std::move(events), {}};
    Status s = store_->Append({&b}, now);
    EXPECT_TRUE(s.ok()) << s.message();
    return b.outcomes;
  }
  TempDir dir_;
  EventMaker ids_;
  std::unique_ptr<Store> store_;
};

// Appends go through multi-row INSERTs (32 rows a statement) across the requests of a group;
// each event still gets its own outcome, wherever its duplicate sits.
TEST_F(SqliteStoreTest, MultiRowInsertsReportEachOutcomeInAMixedGroup) {
  std::vector<StoredEvent> old_rows;
  for (int i = 0; i < 40; ++i) old_rows.push_back(Row(ids_, kT));
  Append(old_rows);
  AppendBatch x{"acme", {}, {}}, y{"acme", {}, {}}, z{"other", {}, {}};
  std::vector<AppendOutcome> want_x, want_y, want_z;
  for (int i = 0; i < 100; ++i) {
    if (i % 7 == 3) {  // stored by an earlier group
      x.events.push_back(old_rows[static_cast<size_t>(i % 40)]);
      want_x.push_back(AppendOutcome::kDuplicateId);
    } else if (i % 11 == 5 && i > 20) {  // repeats an id earlier in the same request
      x.events.push_back(x.events[static_cast<size_t>(i - 20)]);
      want_x.push_back(want_x[static_cast<size_t>(i - 20)] == AppendOutcome::kStored
                           ? AppendOutcome::kDuplicateId
                           : want_x[static_cast<size_t>(i - 20)]);
    } else {
      x.events.push_back(Row(ids_, kT));
      want_x.push_back(AppendOutcome::kStored);
    }
  }
  for (int i = 0; i < 70; ++i) {
    if (i % 9 == 0 && want_x[static_cast<size_t>(i)] == AppendOutcome::kStored) {
      y.events.push_back(x.events[static_cast<size_t>(i)]);  // in the previous request
      want_y.push_back(AppendOutcome::kDuplicateId);
    } else {
      y.events.push_back(Row(ids_, kT));
      want_y.push_back(AppendOutcome::kStored);
    }
  }
  for (int i = 0; i < 40; ++i) {  // the same ids in another workspace are other events
    z.events.push_back(i < 20 ? x.events[static_cast<size_t>(i)] : Row(ids_, kT));
    want_z.push_back(AppendOutcome::kStored);
  }
  z.events.push_back(z.events[0]);
  want_z.push_back(AppendOutcome::kDuplicateId);
  ASSERT_TRUE(store_->Append({&x, &y, &z}, kT).ok());
  EXPECT_EQ(x.outcomes, want_x);
  EXPECT_EQ(y.outcomes, want_y);
  EXPECT_EQ(z.outcomes, want_z);
  size_t stored = 0;
  for (const auto* out : {&want_x, &want_y, &want_z}) {
    for (AppendOutcome o : *out) stored += o == AppendOutcome::kStored;
  }
  int64_t n = 0;
  ASSERT_TRUE(store_->CountEvents("", &n).ok());
  EXPECT_EQ(n, static_cast<int64_t>(40 + stored));
}

// After the newest rows are purged, SQLite reuses their seq values; duplicates must still be
// told from new rows.
TEST_F(SqliteStoreTest, MultiRowInsertsTellDuplicatesAfterTheNewestRowsArePurged) {
  std::vector<StoredEvent> first;
  for (int i = 0; i < 40; ++i) first.push_back(Row(ids_, kT - 10000));
  Append(first);
  std::vector<StoredEvent> second;
  for (int i = 0; i < 40; ++i) second.push_back(Row(ids_, kT));
  Append(second);
  int64_t purged = 0;
  ASSERT_TRUE(store_->PurgeBefore(kT + 1, &purged).ok());  // everything: max(seq) restarts
  ASSERT_EQ(purged, 80);
  std::vector<StoredEvent> again;
  for (int i = 0; i < 64; ++i) again.push_back(Row(ids_, kT + 5));
  auto out = Append(again);
  EXPECT_EQ(out, std::vector<AppendOutcome>(64, AppendOutcome::kStored));
  again.push_back(Row(ids_, kT + 5));
  out = Append(again);
  std::vector<AppendOutcome> want(64, AppendOutcome::kDuplicateId);
  want.push_back(AppendOutcome::kStored);
  EXPECT_EQ(out, want);
}

// A group far larger than one statement commits whole, in the group's order.
TEST_F(SqliteStoreTest, LargeGroupCommitsEveryRequestInOrder) {
  std::vector<AppendBatch> batches(25);
  std::vector<AppendBatch*> group;
  int64_t at = kT;
  for (auto& b : batches) {
    b.workspace = "acme";
    for (int i = 0; i < 101; ++i) b.events.push_back(Row(ids_, at));
    ++at;
    group.push_back(&b);
  }
  ASSERT_TRUE(store_->Append(group, kT + 100).ok());
  for (auto& b : batches) {
    EXPECT_EQ(b.outcomes, std::vector<AppendOutcome>(101, AppendOutcome::kStored));
  }
  EventQuery q;
  q.workspace = "acme";
  q.limit = 5000;
  EventPage page;
  ASSERT_TRUE(store_->Query(q, &page).ok());
  ASSERT_EQ(page.events.size(), 25u * 101u);
  size_t k = 0;
  for (auto& b : batches) {
    for (auto& e : b.events) EXPECT_EQ(page.events[k++].event_id, e.event_id);
  }
}

TEST_F(SqliteStoreTest, OneGroupCommitsSeveralBatches) {
  AppendBatch x{"acme", {Row(ids_, kT)}, {}}, y{"beta", {Row(ids_, kT), Row(ids_, kT)}, {}};
  ASSERT_TRUE(store_->Append({&x, &y}, kT).ok());
  EXPECT_EQ(x.outcomes.size(), 1u);
  EXPECT_EQ(y.outcomes.size(), 2u);
  int64_t n = 0;
  ASSERT_TRUE(store_->CountEvents("", &n).ok());
  EXPECT_EQ(n, 3);
}

// Requests arriving while the writer lingers join one group: with linger_ms long and a group
// bound of three events, three requests sent 50 ms apart commit in one Append (without lingering
// the first commits alone, long before the second arrives).
TEST_F(SqliteStoreTest, WriterLingersForMoreRequestsUntilTheGroupIsFull) {
  testing::AtomicFakeClock clock{kT};
  WriterOptions o;
  o.max_group_events = 3;
  o.linger_ms = 1000;
  Writer writer(store_.get(), &clock, o);
  std::vector<AppendBatch> batches;
  for (int i = 0; i < 3; ++i) batches.push_back(AppendBatch{"acme", {Row(ids_, kT)}, {}});
  std::vector<std::thread> senders;
  std::vector<Status> results(3);
  for (int i = 0; i < 3; ++i) {
    senders.emplace_back([&, i] { results[i] = writer.Submit(&batches[i]); });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // arrival gaps, not a timer
  }
  for (auto& t : senders) t.join();
  for (const Status& r : results) EXPECT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(writer.commits(), 1u);
  for (const AppendBatch& b : batches) EXPECT_EQ(b.outcomes[0], AppendOutcome::kStored);
  // A small SQLite commit is cheap: the collector lingers only where the store asks for it.
  EXPECT_EQ(store_->GroupLingerMs(), 0);
}

// A real SqliteStore whose SyncAppended waits at a gate the test opens (the disk's fsync is the
// one step a test cannot slow down or fail on demand), and which counts what the Writer calls.
class GatedStore final : public Store {
 public:
  explicit GatedStore(Store* inner) : inner_(inner) {}
  Status AppendNoSync(const std::vector<AppendBatch*>& group, int64_t now_ms) override {
    Status s = inner_->AppendNoSync(group, now_ms);
    std::lock_guard<std::mutex> lock(mu_);
    ++appends_;
    cv_.notify_all();
    return s;
  }
  Status SyncAppended() override {
    std::unique_lock<std::mutex> lock(mu_);
    ++syncs_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return open_; });
    return sync_result_.ok() ? inner_->SyncAppended() : sync_result_;
  }
  // Waits (up to 10 s) until `pred` holds under the lock; false if it never does.
  template <typename Pred>
  bool WaitFor(Pred pred) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return pred(*this); });
  }
  void Open(Status result = Status::Ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    sync_result_ = result;
    cv_.notify_all();
  }
  int appends_ = 0, syncs_ = 0;  // guarded by mu_ (read inside WaitFor)

  Status Append(const std::vector<AppendBatch*>& g, int64_t now) override {
    return inner_->Append(g, now);
  }
  Status PutWorkspace(const WorkspaceRecord& w) override { return inner_->PutWorkspace(w); }
  Status ListWorkspaces(std::vector<WorkspaceRecord>* out) override {
    return inner_->ListWorkspaces(out);
  }
  Status Query(const EventQuery& q, EventPage* page) override { return inner_->Query(q, page); }
  Status Aggregate(const AggregateQuery& q, std::vector<AggregateRow>* rows) override {
    return inner_->Aggregate(q, rows);
  }
  Status CountEvents(const std::string& ws, int64_t* n) override {
    return inner_->CountEvents(ws, n);
  }
  Status PurgeBefore(int64_t cutoff, int64_t* n) override { return inner_->PurgeBefore(cutoff, n); }
  Status PutKey(const KeyRecord& k) override { return inner_->PutKey(k); }
  Status RevokeKey(const std::string& k, int64_t now) override { return inner_->RevokeKey(k, now); }
  Status ListKeys(std::vector<KeyRecord>* out) override { return inner_->ListKeys(out); }
  Status DeleteKey(const std::string& k) override { return inner_->DeleteKey(k); }
  int64_t SizeBytes() override { return inner_->SizeBytes(); }
  Status Checkpoint() override { return inner_->Checkpoint(); }

 private:
  Store* inner_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
  Status sync_result_ = Status::Ok();
};

std::multiset<std::string> ThreadNames() {
  std::multiset<std::string> names;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    if (std::getline(comm, name)) names.insert(name);
  }
  return names;
}

// The collector's own threads carry names (`top -H`, /proc/<pid>/task/*/comm), so an operator
// and bench/ingest/threads.sh can see which one is busy: the store's checkpointer, the writer and
// its sync thread here.
TEST_F(SqliteStoreTest, ThreadsAreNamedForWhatTheyDo) {
  testing::AtomicFakeClock clock{kT};
  std::multiset<std::string> names = ThreadNames();
  EXPECT_EQ(names.count("tally-ckpt"), 1u);
  EXPECT_EQ(names.count("tally-writer"), 0u);
  {
    Writer writer(store_.get(), &clock, WriterOptions{});
    names = ThreadNames();
    EXPECT_EQ(names.count("tally-writer"), 1u);
    EXPECT_EQ(names.count("tally-sync"), 1u);
  }
  EXPECT_EQ(ThreadNames().count("tally-writer"), 0u);
}

// A request is answered once its group is durable, not when the transaction commits: while the
// sync waits, the committed events are already stored but Submit has not returned.
TEST_F(SqliteStoreTest, WriterAnswersOnlyAfterTheGroupIsSynced) {
  testing::AtomicFakeClock clock{kT};
  GatedStore gated(store_.get());
  Writer writer(&gated, &clock, WriterOptions{});
  AppendBatch batch{"acme", {Row(ids_, kT)}, {}};
  std::atomic<bool> answered{false};
  Status result = Status::Internal("not answered");
  std::thread sender([&] {
    result = writer.Submit(&batch);
    answered = true;
  });
  ASSERT_TRUE(gated.WaitFor([](const GatedStore& g) { return g.syncs_ == 1; }));
  int64_t n = 0;
  ASSERT_TRUE(store_->CountEvents("", &n).ok());
  EXPECT_EQ(n, 1);  // committed
  // Room for a writer that answers before the sync to do so (a wrong one; no timing is measured).
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(answered.load());
  gated.Open();
  sender.join();
  EXPECT_TRUE(result.ok()) << result.message();
  EXPECT_EQ(batch.outcomes, std::vector<AppendOutcome>{AppendOutcome::kStored});
  EXPECT_EQ(writer.commits(), 1u);
}

// The writer thread commits the next group while the previous group's sync waits for the disk;
// one sync then covers every group committed before it started.
TEST_F(SqliteStoreTest, WriterCommitsTheNextGroupWhileASyncWaits) {
  testing::AtomicFakeClock clock{kT};
  GatedStore gated(store_.get());
  Writer writer(&gated, &clock, WriterOptions{});
  AppendBatch first{"acme", {Row(ids_, kT)}, {}};
  AppendBatch second{"acme", {Row(ids_, kT)}, {}};
  Status r1 = Status::Internal("not answered"), r2 = r1;
  std::thread a([&] { r1 = writer.Submit(&first); });
  ASSERT_TRUE(gated.WaitFor([](const GatedStore& g) { return g.syncs_ == 1; }));
  std::thread b([&] { r2 = writer.Submit(&second); });
  // Without the pipeline the second Append would wait for the first sync, which waits for us.
  EXPECT_TRUE(gated.WaitFor([](const GatedStore& g) { return g.appends_ == 2; }));
  gated.Open();
  a.join();
  b.join();
  EXPECT_TRUE(r1.ok()) << r1.message();
  EXPECT_TRUE(r2.ok()) << r2.message();
  EXPECT_EQ(writer.commits(), 2u);
  int64_t n = 0;
  ASSERT_TRUE(store_->CountEvents("", &n).ok());
  EXPECT_EQ(n, 2);
}

// A failed sync fails every request of the groups it covered (503 for the client, which sends
// again; the events are already stored, so the retry finds them as duplicates).
TEST_F(SqliteStoreTest, WriterAnswersAFailedSyncWithItsError) {
  testing::AtomicFakeClock clock{kT};
  GatedStore gated(store_.get());
  Writer writer(&gated, &clock, WriterOptions{});
  gated.Open(Status::Internal("store: syncing the WAL failed: Input/output error"));
  AppendBatch batch{"acme", {Row(ids_, kT)}, {}};
  Status s = writer.Submit(&batch);
  EXPECT_EQ(s.code(), Code::kInternal);
  EXPECT_EQ(s.message(), "store: syncing the WAL failed: Input/output error");
  EXPECT_EQ(writer.failed_commits(), 1u);
  EXPECT_EQ(writer.commits(), 0u);
}

// With sync_every_commit the store syncs on its own descriptor of the WAL; Append is durable
// (AppendNoSync + SyncAppended), keys and workspaces too, and all of it is there after reopening.
TEST(SqliteStoreSync, AppendAndKeysAreStoredThroughTheWalSync) {
  TempDir dir;
  EventMaker ids;
  {
    auto opened = OpenStore(dir.db_url());
    ASSERT_TRUE(opened.ok()) << opened.status().message();
    std::unique_ptr<Store> store = std::move(opened).value();
    AppendBatch b{"acme", {Row(ids, kT), Row(ids, kT)}, {}};
    ASSERT_TRUE(store->Append({&b}, kT).ok());
    AppendBatch c{"acme", {Row(ids, kT)}, {}};
    ASSERT_TRUE(store->AppendNoSync({&c}, kT).ok());
    ASSERT_TRUE(store->SyncAppended().ok());
    KeyRecord k;
    k.key = "wk_x";
    k.workspace = "acme";
    ASSERT_TRUE(store->PutKey(k).ok());
    ASSERT_TRUE(store->RevokeKey("wk_x", kT).ok());
  }
  auto opened = OpenStore(dir.db_url());
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  int64_t n = 0;
  ASSERT_TRUE(opened.value()->CountEvents("acme", &n).ok());
  EXPECT_EQ(n, 3);
  std::vector<KeyRecord> keys;
  ASSERT_TRUE(opened.value()->ListKeys(&keys).ok());
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0].revoked_at_ms, kT);
}

// Connections of one file share one gate, whatever the spelling of its path; other files have
// their own.
TEST(WriteGate, IsSharedByEveryNameOfOneFile) {
  TempDir dir;
  auto a = WriteGateFor(dir.path() + "/tally.db");
  auto b = WriteGateFor(dir.path() + "/./sub/../tally.db");
  auto c = WriteGateFor(dir.path() + "/other.db");
  EXPECT_EQ(a.get(), b.get());
  EXPECT_NE(a.get(), c.get());
}

// Turns are given in the order they were asked for: a thread that keeps taking the gate again
// (the ingest writer, group after group) cannot starve one that waits (the rollup job).
TEST(WriteGate, GivesTurnsInTheOrderAsked) {
  WriteGate gate;
  std::vector<int> order;
  gate.lock();  // the main thread holds it while the others line up
  std::vector<std::thread> waiters;
  for (int i = 0; i < 4; ++i) {
    waiters.emplace_back([&, i] {
      std::lock_guard<WriteGate> turn(gate);
      order.push_back(i);
    });
    while (gate.queued() != static_cast<uint64_t>(i) + 2) std::this_thread::yield();
  }
  gate.unlock();
  for (auto& t : waiters) t.join();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(gate.queued(), 0u);
}

// Runs `sql` on a read-only connection to the file at `path` and calls `row` for each result row.
template <typename F>
void ForEachRow(const std::string& path, const char* sql, F&& row) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, sql, -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  while (sqlite3_step(st) == SQLITE_ROW) row(st);
  sqlite3_finalize(st);
  sqlite3_close(db);
}

std::string TextAt(sqlite3_stmt* st, int i) {
  const unsigned char* p = sqlite3_column_text(st, i);
  return p ? reinterpret_cast<const char*>(p) : "";
}

// Runs `sql` (any number of statements) on a read-write connection to the file at `path`.
void RunSql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
}

std::set<std::string> EventIndexes(const std::string& path) {
  std::set<std::string> names;
  ForEachRow(path, "SELECT name FROM sqlite_master WHERE type='index' AND tbl_name='events'",
             [&](sqlite3_stmt* st) { names.insert(TextAt(st, 0)); });
  return names;
}

// One time index, the covering one the reports read (docs/SCHEMA.md); the store creates it
// itself, so time-range queries and the retention purge do not depend on the report side, and
// a database from before loses the plain (workspace_id, derived_at) index on its next open.
TEST(SqliteStoreSchema, HasOneTimeIndexAndDropsTheOldOne) {
  TempDir dir;
  const std::string path = dir.path() + "/tally.db";
  {
    auto opened = OpenStore(dir.db_url());
    ASSERT_TRUE(opened.ok()) << opened.status().message();
  }
  EXPECT_EQ(EventIndexes(path), (std::set<std::string>{"events_by_id", "events_by_time_user",
                                                       "events_by_user_bucket"}));
  RunSql(path, "CREATE INDEX events_by_time ON events(workspace_id, derived_at)");
  {
    auto opened = OpenStore(dir.db_url());
    ASSERT_TRUE(opened.ok()) << opened.status().message();
  }
  EXPECT_EQ(EventIndexes(path).count("events_by_time"), 0u);
}

int PageSize(const std::string& path) {
  int size = 0;
  ForEachRow(path, "PRAGMA page_size", [&](sqlite3_stmt* st) { size = sqlite3_column_int(st, 0); });
  return size;
}

// A new file gets StoreOptions::page_size (16 KB: docs/SCHEMA.md, "Page size"); a file made
// before, with SQLite's 4 KB pages, keeps them and takes appends and queries as before.
TEST(SqliteStoreSchema, NewFilesUseTheConfiguredPageSizeAndOldFilesKeepTheirs) {
  TempDir dir;
  const std::string path = dir.path() + "/tally.db";
  {
    auto opened = OpenStore(dir.db_url());
    ASSERT_TRUE(opened.ok()) << opened.status().message();
  }
  EXPECT_EQ(PageSize(path), 16384);

  TempDir old_dir;
  const std::string old_path = old_dir.path() + "/tally.db";
  RunSql(old_path, "PRAGMA page_size=4096; CREATE TABLE before_tally (x)");
  auto opened = OpenStore(old_dir.db_url());
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  std::unique_ptr<Store> store = std::move(opened).value();
  EventMaker ids;
  AppendBatch b{"acme", {Row(ids, kT), Row(ids, kT + 1)}, {}};
  ASSERT_TRUE(store->Append({&b}, kT).ok());
  EXPECT_EQ(b.outcomes,
            (std::vector<AppendOutcome>{AppendOutcome::kStored, AppendOutcome::kStored}));
  int64_t n = 0;
  ASSERT_TRUE(store->CountEvents("acme", &n).ok());
  EXPECT_EQ(n, 2);
  EXPECT_EQ(PageSize(old_path), 4096);
}

TEST(SqliteStoreSchema, RefusesAPageSizeSqliteCannotUse) {
  for (int size : {0, 256, 1000, 131072}) {
    TempDir dir;
    StoreOptions options;
    options.page_size = size;
    auto opened = OpenStore(dir.db_url(), options);
    ASSERT_FALSE(opened.ok()) << size;
    EXPECT_EQ(opened.status().message(), "store: page size " + std::to_string(size) +
                                             " is not a power of two from 512 to 65536");
  }
}

// The bucket is stored in the file, so its function is pinned: these values (computed apart from
// the C++, by a Python FNV-1a + fmix32) must never change.
TEST(UserBucket, IsPinnedAndSpreadsIdsOverEveryBucket) {
  EXPECT_EQ(UserBucket("C-1"), 14);
  EXPECT_EQ(UserBucket("C-2847391"), 16);
  EXPECT_EQ(UserBucket("anna@example.com"), 30);
  EXPECT_EQ(UserBucket("0192f0c1-8e1a-7cc4-a1b2-3c4d5e6f7081"), 21);
  std::vector<int> count(kUserBuckets);
  for (int i = 0; i < 32000; ++i) {
    int64_t b = UserBucket("C-" + std::to_string(i));
    ASSERT_GE(b, 0);
    ASSERT_LT(b, kUserBuckets);
    count[static_cast<size_t>(b)]++;
  }
  // 1000 expected per bucket; a sum of 32000 fair draws stays within ±15% with near certainty.
  for (int c : count) {
    EXPECT_GT(c, 850);
    EXPECT_LT(c, 1150);
  }
}

// The user index of files made before buckets, as that version created it.
constexpr const char* kSchemaBeforeUserBuckets = R"sql(
CREATE TABLE workspaces (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,
  fingerprint_dedup INTEGER NOT NULL DEFAULT 0,
  fingerprint_window_ms INTEGER NOT NULL DEFAULT 172800000);
CREATE TABLE events (seq INTEGER PRIMARY KEY, workspace_id INTEGER NOT NULL,
  event_id TEXT NOT NULL, type TEXT NOT NULL, name TEXT NOT NULL, user_id TEXT,
  anonymous_id TEXT, session_id TEXT, created_at INTEGER NOT NULL, sent_at INTEGER,
  received_at INTEGER NOT NULL, derived_at INTEGER NOT NULL,
  time_flags INTEGER NOT NULL DEFAULT 0, properties TEXT NOT NULL, context TEXT NOT NULL);
CREATE UNIQUE INDEX events_by_id ON events(workspace_id, event_id);
CREATE INDEX events_by_time_user
  ON events(workspace_id, derived_at, user_id, anonymous_id, session_id);
CREATE INDEX events_by_user ON events(workspace_id, user_id, derived_at)
  WHERE user_id IS NOT NULL;
INSERT INTO workspaces (id, name) VALUES (1, 'acme');
)sql";

// user_id -> user_bucket of every row (NULL as -1).
std::map<std::string, std::set<int64_t>> StoredBuckets(const std::string& path) {
  std::map<std::string, std::set<int64_t>> out;
  ForEachRow(path, "SELECT COALESCE(user_id, ''), user_bucket FROM events", [&](sqlite3_stmt* st) {
    out[TextAt(st, 0)].insert(
        sqlite3_column_type(st, 1) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 1));
  });
  return out;
}

// A file from before buckets (250,000 rows, so the fill runs in several transactions) opens
// with every user's bucket filled in and the bucket index in place of the old one; its users'
// events are found, its ids still count as duplicates, and new events are stored beside them.
TEST(SqliteStoreSchema, FileFromBeforeUserBucketsIsMigratedOnOpen) {
  TempDir dir;
  const std::string path = dir.path() + "/tally.db";
  std::string sql = kSchemaBeforeUserBuckets;
  sql +=
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 250000) "
      "INSERT INTO events (workspace_id, event_id, type, name, user_id, anonymous_id, "
      "created_at, received_at, derived_at, properties, context) SELECT 1, 'old-' || i, "
      "'track', 'click', CASE WHEN i % 5 = 0 THEN NULL ELSE 'C-' || (i % 1000) END, "
      "'anon-' || i, " +
      std::to_string(kT) + " + i, " + std::to_string(kT) + " + i, " + std::to_string(kT) +
      " + i, '{}', '{}' FROM n;";
  RunSql(path, sql);

  auto opened = OpenStore(dir.db_url());
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  std::unique_ptr<Store> store = std::move(opened).value();
  EXPECT_EQ(EventIndexes(path), (std::set<std::string>{"events_by_id", "events_by_time_user",
                                                       "events_by_user_bucket"}));
  std::map<std::string, std::set<int64_t>> buckets = StoredBuckets(path);
  EXPECT_EQ(buckets.size(), 801u);  // C-0 .. C-999 except multiples of 5, and no user
  for (const auto& [user, bucket] : buckets) {
    EXPECT_EQ(bucket, (std::set<int64_t>{user.empty() ? -1 : UserBucket(user)})) << user;
  }

  EventQuery q;
  q.workspace = "acme";
  q.user_id = "C-7";
  q.limit = 1000;
  EventPage page;
  ASSERT_TRUE(store->Query(q, &page).ok());
  ASSERT_EQ(page.events.size(), 250u);  // i = 7, 1007, ..., 249007
  EXPECT_EQ(page.events.front().event_id, "old-7");
  EXPECT_EQ(page.events.back().event_id, "old-249007");

  EventMaker ids;
  StoredEvent replayed = Row(ids, kT, "click", "C-7");
  replayed.event_id = "old-7";
  AppendBatch b{"acme", {replayed, Row(ids, kT + 1, "click", "C-7")}, {}};
  ASSERT_TRUE(store->Append({&b}, kT).ok());
  EXPECT_EQ(b.outcomes,
            (std::vector<AppendOutcome>{AppendOutcome::kDuplicateId, AppendOutcome::kStored}));
  ASSERT_TRUE(store->Query(q, &page).ok());
  EXPECT_EQ(page.events.size(), 251u);
}

// Rows an older collector stored without a bucket into a migrated file (it knows no such
// column) get theirs at the next open, so a user lookup through the bucket index misses none.
TEST(SqliteStoreSchema, RowsStoredWithoutABucketAreFilledAtTheNextOpen) {
  TempDir dir;
  const std::string path = dir.path() + "/tally.db";
  EventMaker ids;
  {
    auto opened = OpenStore(dir.db_url());
    ASSERT_TRUE(opened.ok()) << opened.status().message();
    AppendBatch b{"acme", {Row(ids, kT, "click", "C-1")}, {}};
    ASSERT_TRUE(opened.value()->Append({&b}, kT).ok());
  }
  RunSql(path,
         "INSERT INTO events (workspace_id, event_id, type, name, user_id, created_at, "
         "received_at, derived_at, properties, context) SELECT workspace_id, 'older-writer', "
         "type, name, 'C-1', created_at, received_at, derived_at + 1, properties, context "
         "FROM events");
  EXPECT_EQ(StoredBuckets(path)["C-1"], (std::set<int64_t>{-1, UserBucket("C-1")}));
  auto opened = OpenStore(dir.db_url());
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  EXPECT_EQ(StoredBuckets(path)["C-1"], (std::set<int64_t>{UserBucket("C-1")}));
  EventQuery q;
  q.workspace = "acme";
  q.user_id = "C-1";
  EventPage page;
  ASSERT_TRUE(opened.value()->Query(q, &page).ok());
  EXPECT_EQ(page.events.size(), 2u);
}

// The writer's connection does not checkpoint inside its commits any more (the checkpoint
// thread does); the WAL must still stay bounded under appends that never pause.
TEST(SqliteStoreWal, StaysBoundedUnderContinuousAppends) {
  TempDir dir;
  StoreOptions options;
  options.sync_every_commit = false;
  options.wal_checkpoint_pages = 50;
  auto opened = OpenStore(dir.db_url(), options);
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  std::unique_ptr<Store> store = std::move(opened).value();
  EventMaker ids;
  const std::string wal = dir.path() + "/tally.db-wal";
  uintmax_t largest = 0;
  for (int group = 0; group < 200; ++group) {
    AppendBatch b{"acme", {}, {}};
    for (int i = 0; i < 100; ++i) {
      b.events.push_back(Row(ids, kT + group, "click", "C-" + std::to_string(i * 7919 % 1000)));
    }
    ASSERT_TRUE(store->Append({&b}, kT).ok());
    std::error_code ec;
    largest = std::max(largest, std::filesystem::file_size(wal, ec));
  }
  int64_t n = 0;
  ASSERT_TRUE(store->CountEvents("", &n).ok());
  EXPECT_EQ(n, 20000);
  // At 4 x 50 pages the writer checkpoints itself, so the WAL ends at most one group past it
  // (a group of 100 events adds under 100 pages here). Without checkpoints it would pass 5000.
  const uintmax_t page = static_cast<uintmax_t>(options.page_size) + 24;  // a WAL frame
  EXPECT_LT(largest, (4 * 50 + 100) * page) << "WAL bytes";
  EXPECT_GT(largest, 0u);
}

TEST(DeriveTime, UsesOffsetWhenItAgreesWithSentAt) {
  TimeInputs in;
  in.created_at_ms = 1000000;
  in.sent_at_ms = 1005000;
  in.received_at_ms = 2005100;  // device 1,000,000 ms behind, 100 ms transit
  in.clock_offset_ms = 1000000;
  DerivedTime d = DeriveTime(in, TimeOptions());
  EXPECT_EQ(d.derived_at_ms, 2000000);
  EXPECT_EQ(d.flags, kTimeOffsetCorrected);
  in.clock_offset_ms = 5;  // stale: the device clock changed since the estimate
  d = DeriveTime(in, TimeOptions());
  EXPECT_EQ(d.derived_at_ms, 2000100);
  EXPECT_EQ(d.flags, 0u);
  in.sent_at_ms = 0;
  in.clock_offset_ms.reset();
  d = DeriveTime(in, TimeOptions());
  EXPECT_EQ(d.derived_at_ms, 1000000);
}

TEST(DeriveTime, ClampsTheFutureAndFlagsIt) {
  TimeInputs in;
  in.created_at_ms = 5000;
  in.received_at_ms = 1000;
  in.explicit_time = true;
  DerivedTime d = DeriveTime(in, TimeOptions());
  EXPECT_EQ(d.derived_at_ms, 1000);
  EXPECT_EQ(d.flags, kTimeExplicit | kTimeClampedFuture);
}

}  // namespace
}  // namespace tally::collector
