// Report rollups (docs/SCHEMA.md, "Report rollups") against the raw scan: every report is run on
// one real SQLite file through a store that reads every row (rollups off) and one that reads the
// rollups where it can, after rollup runs interleaved with new events, late events, duplicates,
// several workspaces, purges, DST and half-hour zones and a property over the cardinality cap.
// Both must give the same answer to the last field (the routes turn these structs into JSON
// without looking at the store).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <nlohmann/json.hpp>
#include <random>

#include "collector_test_util.h"
#include "report/report_store.h"
#include "report/rollup.h"
#include "report/tz.h"
#include "store/store.h"

namespace tally::collector::report {
namespace {

using nlohmann::json;
using testing::TempDir;

constexpr int64_t kHour = 3600000;
// 2024-10-26T00:00Z: Paris falls back on 2024-10-27 at 01:00Z, so its days there are 25 hours.
constexpr int64_t kStart = 1729900800000;
constexpr int64_t kSpan = 4 * 24 * kHour;

json ToJson(const std::vector<int64_t>& v) { return json(v); }
json ToJson(const Breakdown& b) {
  json rows = json::array();
  for (const auto& r : b.rows) {
    rows.push_back({r.value ? json(*r.value) : json(nullptr), r.value_type, r.count});
  }
  return {{"total", b.total}, {"rows", rows}, {"other", b.other}};
}
json ToJson(const Overview& o) {
  return {{"events", o.events},
          {"users", o.users},
          {"sessions", o.sessions},
          {"top", json(o.top_events)}};
}

class ReportRollup : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreOptions so;
    so.sync_every_commit = false;
    auto store = OpenStore(dir_.db_url(), so);
    ASSERT_TRUE(store.ok()) << store.status().message();
    store_ = std::move(store).value();
    ReportStoreOptions raw;
    raw.use_rollups = false;
    raw.rollup_interval_ms = 0;
    auto r = OpenReportStore(dir_.db_url(), raw);
    ASSERT_TRUE(r.ok()) << r.status().message();
    raw_ = std::move(r).value();
    ReportStoreOptions rolled;
    rolled.rollup_interval_ms = 0;
    auto q = OpenReportStore(dir_.db_url(), rolled);
    ASSERT_TRUE(q.ok()) << q.status().message();
    rolled_ = std::move(q).value();
    RollupOptions ro;
    ro.chunk_rows = 97;  // many chunks, so chunk edges fall inside hours
    ro.max_pairs_per_key_hour = 6;
    ro.max_keys_per_hour = 7;
    auto job = Rollup::Open(dir_.path() + "/tally.db", ro);
    ASSERT_TRUE(job.ok()) << job.status().message();
    job_ = std::move(job).value();
    for (const char* zone : {"Europe/Paris", "Asia/Kolkata"}) {
      auto z = TimeZone::Load(zone);
      ASSERT_TRUE(z.ok()) << z.status().message();
      zones_.push_back(z.value());
    }
    zones_.push_back(TimeZone::Utc());
  }

  // `n` events of workspace `ws` at random times in [from, from + span); some share an id with an
  // earlier event (duplicates the store drops).
  void Add(const std::string& ws, int n, int64_t from, int64_t span) {
    AppendBatch batch;
    batch.workspace = ws;
    std::uniform_int_distribution<int64_t> when(0, span - 1);
    for (int i = 0; i < n; ++i) {
      StoredEvent e;
      uint64_t r = rng_();
      if (!ids_.empty() && r % 17 == 0) {
        e.event_id = ids_[r % ids_.size()];  // a duplicate
      } else {
        e.event_id = "ev-" + std::to_string(next_id_++);
        ids_.push_back(e.event_id);
      }
      int64_t t = from + when(rng_);
      if (r % 11 == 0) t = HourStart(t);  // exactly on an hour edge
      e.derived_at_ms = e.created_at_ms = e.received_at_ms = t;
      static const char* const kNames[] = {"view", "view", "view", "click", "buy", "signup"};
      e.name = kNames[(r >> 8) % 6];
      e.type = (r >> 12) % 5 == 0 ? "page" : "track";
      uint64_t user = (r >> 16) % 40;
      if ((r >> 24) % 4 != 0) e.user_id = "u" + std::to_string(user);
      if ((r >> 26) % 3 != 0) e.anonymous_id = "a" + std::to_string(user);
      if ((r >> 28) % 5 != 0) e.session_id = "s" + std::to_string((r >> 30) % 60);
      json p = json::object();
      static const char* const kChannels[] = {"email", "web", "push", "sms"};
      switch ((r >> 36) % 6) {
        case 0:
          break;  // no channel
        case 1:
          p["channel"] = nullptr;
          break;
        default:
          p["channel"] = kChannels[(r >> 40) % 4];
      }
      p["n"] = (r >> 44) % 3;
      if ((r >> 46) % 2) p["flag"] = (r >> 47) % 2 == 0;
      p["unique"] = "v" + std::to_string(next_id_);  // over the cap in busy hours
      if ((r >> 48) % 8 == 0) {
        for (int k = 0; k < 8; ++k) p["k" + std::to_string(k)] = k;  // over the keys cap
      }
      std::string text = p.dump();
      if ((r >> 52) % 7 == 0) {
        // Stored text as a client may have spaced and escaped it.
        text =
            "{ \"channel\" : \"e\\\"mail\" , \"obj\" : { \"a\" : [1, 2] }, \"n\": 1.50, "
            "\"u\": \"\\u00e9t\\u00e9\" }";
      }
      e.properties_json = text;
      e.context_json = "{}";
      batch.events.push_back(std::move(e));
    }
    Status s = store_->Append({&batch}, kStart);
    ASSERT_TRUE(s.ok()) << s.message();
  }

  void CatchUp() {
    RollupStats stats;
    Status s = job_->CatchUp(&stats);
    ASSERT_TRUE(s.ok()) << s.message();
  }

  // Every report of both workspaces over several ranges, through both stores.
  void ExpectSameReports(const std::string& when) {
    const std::vector<std::pair<int64_t, int64_t>> ranges = {
        {kStart - 7 * 24 * kHour, kStart + 12 * 24 * kHour},       // everything
        {kStart + 17 * 60000 + 123, kStart + kSpan - 5 * 60000},   // ragged edges
        {kStart + 24 * kHour, kStart + 26 * kHour},                // two whole hours
        {kStart + 30 * kHour + 1000, kStart + 30 * kHour + 2000},  // inside one hour
    };
    for (const std::string ws : {"a", "b", "none"}) {
      for (const auto& [from, to] : ranges) {
        EventFilter f;
        f.workspace = ws;
        f.from_ms = from;
        f.to_ms = to;
        std::string at =
            when + " ws=" + ws + " range=" + std::to_string(from) + ".." + std::to_string(to);
        Same(at + " overview", [&](ReportStore* rs) {
          Overview o;
          EXPECT_TRUE(rs->GetOverview(f, &o).ok());
          return ToJson(o);
        });
        for (const auto& zone : zones_) {
          for (Interval iv : {Interval::kHour, Interval::kDay, Interval::kWeek}) {
            auto bounds = BucketBounds(*zone, iv, from, to, 100000);
            ASSERT_TRUE(bounds.ok());
            for (Metric m : {Metric::kEvents, Metric::kUsers}) {
              for (int variant = 0; variant < 3; ++variant) {
                TimeseriesRequest r;
                r.filter = f;
                r.metric = m;
                r.bounds = bounds.value();
                if (variant == 1) r.filter.names = {"view", "buy"};
                if (variant == 2) r.filter.type = "page";
                Same(at + " timeseries " + zone->name() + " " + std::to_string(int(iv)) + " " +
                         std::to_string(int(m)) + " " + std::to_string(variant),
                     [&](ReportStore* rs) {
                       std::vector<int64_t> v;
                       EXPECT_TRUE(rs->Timeseries(r, &v).ok());
                       return ToJson(v);
                     });
              }
            }
          }
        }
        std::vector<GroupKey> keys = {{GroupKey::Kind::kName, ""},
                                      {GroupKey::Kind::kType, ""},
                                      {GroupKey::Kind::kProperty, "channel"},
                                      {GroupKey::Kind::kProperty, "n"},
                                      {GroupKey::Kind::kProperty, "flag"},
                                      {GroupKey::Kind::kProperty, "obj"},
                                      {GroupKey::Kind::kProperty, "u"},
                                      {GroupKey::Kind::kProperty, "unique"},
                                      {GroupKey::Kind::kProperty, "k6"},
                                      {GroupKey::Kind::kProperty, "missing"}};
        for (const GroupKey& by : keys) {
          for (int variant = 0; variant < 3; ++variant) {
            BreakdownRequest r;
            r.filter = f;
            r.by = by;
            r.limit = 3;
            if (variant == 1) r.filter.names = {"click", "buy"};
            if (variant == 2) r.metric = Metric::kUsers;
            Same(at + " breakdown " + by.key + " " + std::to_string(int(by.kind)) + " " +
                     std::to_string(variant),
                 [&](ReportStore* rs) {
                   Breakdown b;
                   EXPECT_TRUE(rs->GetBreakdown(r, &b).ok());
                   return ToJson(b);
                 });
          }
        }
      }
    }
  }

  template <typename F>
  void Same(const std::string& what, F&& report) {
    json raw = report(raw_.get());
    json rolled = report(rolled_.get());
    ASSERT_EQ(raw.dump(), rolled.dump()) << what;
    ++compared_;
  }

  int64_t Count(const char* sql) {
    sqlite3* db = nullptr;
    sqlite3_open_v2((dir_.path() + "/tally.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, sql, -1, &st, nullptr);
    int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
  }

  void Exec(const char* sql) {
    sqlite3* db = nullptr;
    sqlite3_open_v2((dir_.path() + "/tally.db").c_str(), &db, SQLITE_OPEN_READWRITE, nullptr);
    sqlite3_busy_timeout(db, 5000);
    ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_close(db);
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<ReportStore> raw_, rolled_;
  std::unique_ptr<Rollup> job_;
  std::vector<std::shared_ptr<const TimeZone>> zones_;
  std::mt19937_64 rng_{42};
  std::vector<std::string> ids_;
  int64_t next_id_ = 0;
  int64_t compared_ = 0;
};

TEST_F(ReportRollup, EveryReportMatchesTheRawScanThroughIngestLateEventsAndPurges) {
  Add("a", 1500, kStart, kSpan);
  Add("b", 300, kStart, kSpan);
  ExpectSameReports("nothing rolled up");
  CatchUp();
  EXPECT_GT(Count("SELECT count(*) FROM rollup_hours"), 50);
  EXPECT_GT(Count("SELECT count(*) FROM rollup_keys WHERE overflow = 1"), 0);
  EXPECT_GT(Count("SELECT count(*) FROM rollup_hours WHERE keys_full = 1"), 0);
  ExpectSameReports("caught up");

  // New events, late ones among them (hours already rolled up), and duplicates; then a partial run.
  Add("a", 400, kStart + kSpan - 6 * kHour, 6 * kHour);
  Add("a", 200, kStart, kSpan);
  Add("b", 100, kStart - 24 * kHour, 24 * kHour);
  ExpectSameReports("tail not rolled up");
  RollupStats one;
  ASSERT_TRUE(job_->RunOnce(&one).ok());
  EXPECT_EQ(one.rows, 97);
  ExpectSameReports("one chunk rolled up");
  CatchUp();
  ExpectSameReports("caught up again");

  // A purge in the middle of an hour: the hours it touched are read raw until rebuilt.
  int64_t purged = 0;
  ASSERT_TRUE(store_->PurgeBefore(kStart + 20 * kHour + 25 * 60000, &purged).ok());
  EXPECT_GT(purged, 0);
  EXPECT_GT(Count("SELECT count(*) FROM rollup_dirty"), 0);
  ExpectSameReports("after a purge");
  Add("a", 150, kStart, kSpan);  // some land in purged hours
  CatchUp();
  EXPECT_EQ(Count("SELECT count(*) FROM rollup_dirty"), 0);
  ExpectSameReports("rebuilt after a purge");

  // Everything purged: SQLite then hands out seq values again from 1.
  ASSERT_TRUE(store_->PurgeBefore(kStart + 100 * 24 * kHour, &purged).ok());
  EXPECT_EQ(Count("SELECT count(*) FROM events"), 0);
  EXPECT_EQ(Count("SELECT watermark FROM rollup_state"), 0);
  ExpectSameReports("all purged");
  Add("a", 300, kStart, kSpan);
  Add("b", 50, kStart, kSpan);
  ExpectSameReports("refilled, tail");
  CatchUp();
  ExpectSameReports("refilled, caught up");
  std::printf("%lld reports compared\n", static_cast<long long>(compared_));
}

TEST_F(ReportRollup, ADeleteBetweenAChunksReadAndWriteMakesTheJobReadItAgain) {
  Add("a", 300, kStart, kSpan);
  CatchUp();
  Add("a", 200, kStart, kSpan);
  // While the job holds a chunk it has read, everything is purged and new events take the seq
  // values it read (SQLite reuses them once the table is empty).
  RollupOptions ro;
  bool raced = false;
  ro.after_read_for_test = [&] {
    if (raced) return;
    raced = true;
    int64_t purged = 0;
    ASSERT_TRUE(store_->PurgeBefore(kStart + 100 * 24 * kHour, &purged).ok());
    Add("a", 250, kStart, kSpan);
    Add("b", 40, kStart, kSpan);
  };
  auto job = Rollup::Open(dir_.path() + "/tally.db", ro);
  ASSERT_TRUE(job.ok());
  RollupStats stats;
  ASSERT_TRUE(job.value()->CatchUp(&stats).ok());
  EXPECT_TRUE(raced);
  EXPECT_EQ(stats.retries, 1);
  ExpectSameReports("after the race");
}

TEST_F(ReportRollup, QueriesReadTheRollupsOnceCaughtUp) {
  Add("a", 500, kStart, kSpan);
  CatchUp();
  EventFilter f;
  f.workspace = "a";
  f.from_ms = kStart;
  f.to_ms = kStart + kSpan;
  Overview before;
  ASSERT_TRUE(rolled_->GetOverview(f, &before).ok());
  // Tampering with the rollups shows up only in the store that reads them.
  Exec(
      "UPDATE rollup_hours SET events = events + 1000 WHERE hour = (SELECT min(hour) FROM "
      "rollup_hours)");
  Overview raw, after;
  ASSERT_TRUE(raw_->GetOverview(f, &raw).ok());
  ASSERT_TRUE(rolled_->GetOverview(f, &after).ok());
  EXPECT_EQ(raw.events, before.events);
  EXPECT_EQ(after.events, before.events + 1000);
}

TEST_F(ReportRollup, AJobFarBehindLeavesQueriesOnTheRawRows) {
  ReportStoreOptions o;
  o.rollup_interval_ms = 0;
  o.rollup_max_tail_rows = 100;
  auto small = OpenReportStore(dir_.db_url(), o);
  ASSERT_TRUE(small.ok());
  Add("a", 500, kStart, kSpan);
  CatchUp();
  Exec("UPDATE rollup_hours SET events = events + 1000");
  Add("a", 200, kStart, kSpan);  // 200 rows past the watermark > 100
  EventFilter f;
  f.workspace = "a";
  f.from_ms = kStart;
  f.to_ms = kStart + kSpan;
  Overview raw, behind;
  ASSERT_TRUE(raw_->GetOverview(f, &raw).ok());
  ASSERT_TRUE(small.value()->GetOverview(f, &behind).ok());
  EXPECT_EQ(ToJson(raw).dump(), ToJson(behind).dump());
}

TEST_F(ReportRollup, ChunkSizeDoesNotChangeTheRollups) {
  Add("a", 800, kStart, kSpan);
  // Which keys an hour tracks past max_keys_per_hour depends on arrival order, so the key cap is
  // out of reach here; the value cap is not.
  RollupOptions ro;
  ro.chunk_rows = 97;
  ro.max_pairs_per_key_hour = 6;
  auto small = Rollup::Open(dir_.path() + "/tally.db", ro);
  ASSERT_TRUE(small.ok());
  RollupStats first;
  ASSERT_TRUE(small.value()->CatchUp(&first).ok());
  const char* digest =
      "SELECT (SELECT total(events) FROM rollup_names) + (SELECT total(length(users) + "
      "length(sessions) + events) FROM rollup_hours) + (SELECT total(events + length(value)) FROM "
      "rollup_props)";
  int64_t once = Count(digest);
  Exec(
      "DELETE FROM rollup_hours; DELETE FROM rollup_names; DELETE FROM rollup_keys; "
      "DELETE FROM rollup_props; UPDATE rollup_state SET watermark = 0");
  ro.chunk_rows = 100000;
  auto job = Rollup::Open(dir_.path() + "/tally.db", ro);
  ASSERT_TRUE(job.ok());
  RollupStats stats;
  ASSERT_TRUE(job.value()->CatchUp(&stats).ok());
  EXPECT_EQ(stats.rows, Count("SELECT count(*) FROM events"));
  EXPECT_EQ(Count(digest), once);  // one chunk or many, the same tables
}

TEST_F(ReportRollup, RangesAtTheEndsOfTimeMatchTheRawScan) {
  Add("a", 300, kStart, kSpan);
  CatchUp();
  for (auto [from, to] : std::vector<std::pair<int64_t, int64_t>>{
           {INT64_MIN, INT64_MAX}, {INT64_MIN + 1, kStart + kHour}, {kStart + 5, INT64_MAX}}) {
    EventFilter f;
    f.workspace = "a";
    f.from_ms = from;
    f.to_ms = to;
    Same("overview", [&](ReportStore* rs) {
      Overview o;
      EXPECT_TRUE(rs->GetOverview(f, &o).ok());
      return ToJson(o);
    });
    Same("breakdown", [&](ReportStore* rs) {
      BreakdownRequest r;
      r.filter = f;
      r.by = {GroupKey::Kind::kProperty, "channel"};
      Breakdown b;
      EXPECT_TRUE(rs->GetBreakdown(r, &b).ok());
      return ToJson(b);
    });
  }
}

TEST(ForEachMember, GivesEachTopLevelMemberOnceAsTheBreakdownReadsIt) {
  std::vector<std::pair<std::string, std::string>> got;
  ForEachMember(R"( { "a" : "x\"y" , "b":{ "c" : [1, "2 3"] },"a":2, "n":1.50, "z":null })",
                [&](std::string_view k, std::string_view v) {
                  got.emplace_back(std::string(k), std::string(v));
                });
  std::vector<std::pair<std::string, std::string>> want = {
      {"a", R"("x\"y")"}, {"b", R"({"c":[1,"2 3"]})"}, {"n", "1.50"}, {"z", "null"}};
  EXPECT_EQ(got, want);
  got.clear();
  ForEachMember("[1,2]", [&](std::string_view k, std::string_view v) {
    got.emplace_back(std::string(k), std::string(v));
  });
  ForEachMember(R"({"a":"unterminated)", [&](std::string_view k, std::string_view v) {
    got.emplace_back(std::string(k), std::string(v));
  });
  EXPECT_TRUE(got.empty());
}

}  // namespace
}  // namespace tally::collector::report
