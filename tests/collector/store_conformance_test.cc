// The same Store and ReportStore cases against SQLite and a real clickhouse-server (one server for
// the binary, a database per test), then both stores' report JSON compared through real
// collectors. The ClickHouse cases fail, never skip, when the server is not installed.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "clickhouse_server.h"
#include "collector_test_util.h"
#include "report/report_store.h"
#include "store/clickhouse_store.h"
#include "store/store.h"

namespace tally::collector {
namespace {

using testing::EventMaker;
using testing::SharedClickHouse;
using testing::TempDir;

constexpr int64_t kT = 1731681120000;

StoredEvent Row(EventMaker& ids, int64_t at, const std::string& name = "click",
                const std::string& user = "C-1", const std::string& props = "{}") {
  StoredEvent e;
  e.event_id = ids.Id(at);
  e.type = "track";
  e.name = name;
  e.user_id = user;
  e.created_at_ms = e.received_at_ms = e.derived_at_ms = at;
  e.properties_json = props;
  return e;
}

// A store URL for the backend named by the test parameter.
std::string NewUrl(const std::string& backend, const TempDir& dir, std::string* error) {
  if (backend == "SQLite") return dir.db_url();
  testing::ClickHouseServer* ch = SharedClickHouse(error);
  return ch ? ch->NewDatabaseUrl() : "";
}

class StoreConformance : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string error;
    url_ = NewUrl(GetParam(), dir_, &error);
    ASSERT_FALSE(url_.empty()) << error;
    auto opened = OpenStore(url_);
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
  std::unique_ptr<report::ReportStore> Reports() {
    auto r = report::OpenReportStore(url_);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? std::move(r).value() : nullptr;
  }
  int64_t Count(const std::string& ws = "") {
    int64_t n = -1;
    EXPECT_TRUE(store_->CountEvents(ws, &n).ok());
    return n;
  }
  TempDir dir_;
  std::string url_;
  EventMaker ids_;
  std::unique_ptr<Store> store_;
};

TEST_P(StoreConformance, DuplicateIdsAreRefusedAcrossAndWithinGroups) {
  StoredEvent a = Row(ids_, kT), b = Row(ids_, kT);
  auto out = Append({a, b, a});
  EXPECT_EQ(out, (std::vector<AppendOutcome>{AppendOutcome::kStored, AppendOutcome::kStored,
                                             AppendOutcome::kDuplicateId}));
  EXPECT_EQ(Append({b})[0], AppendOutcome::kDuplicateId);
  EXPECT_EQ(Append({a}, kT, "other")[0], AppendOutcome::kStored);  // another workspace
  EXPECT_EQ(Count("acme"), 2);
  EXPECT_EQ(Count(), 3);
}

TEST_P(StoreConformance, DuplicatesAcrossBatchesOfOneGroupStoreOnce) {
  StoredEvent a = Row(ids_, kT);
  AppendBatch x{"acme", {a}, {}}, y{"acme", {a, Row(ids_, kT)}, {}}, z{"beta", {a}, {}};
  ASSERT_TRUE(store_->Append({&x, &y, &z}, kT).ok());
  EXPECT_EQ(x.outcomes[0], AppendOutcome::kStored);
  EXPECT_EQ(y.outcomes[0], AppendOutcome::kDuplicateId);
  EXPECT_EQ(y.outcomes[1], AppendOutcome::kStored);
  EXPECT_EQ(z.outcomes[0], AppendOutcome::kStored);
  EXPECT_EQ(Count(), 3);
}

TEST_P(StoreConformance, StoresEveryFieldAsGiven) {
  StoredEvent e = Row(ids_, kT, "tab\there", "C-\n1", R"({"q":"it's \"x\"\\","n":1.5})");
  e.type = "page";
  e.anonymous_id = "anon";
  e.session_id = "s1";
  e.sent_at_ms = kT + 5;
  e.received_at_ms = kT + 9;
  e.time_flags = kTimeOffsetCorrected;
  e.context_json = R"({"page":{"url":"https://x.example/é"}})";
  Append({e});
  EventQuery q;
  q.workspace = "acme";
  EventPage page;
  ASSERT_TRUE(store_->Query(q, &page).ok());
  ASSERT_EQ(page.events.size(), 1u);
  const StoredEvent& g = page.events[0];
  EXPECT_EQ(g.event_id, e.event_id);
  EXPECT_EQ(g.type, "page");
  EXPECT_EQ(g.name, e.name);
  EXPECT_EQ(g.user_id, e.user_id);
  EXPECT_EQ(g.anonymous_id, "anon");
  EXPECT_EQ(g.session_id, "s1");
  EXPECT_EQ(g.sent_at_ms, kT + 5);
  EXPECT_EQ(g.received_at_ms, kT + 9);
  EXPECT_EQ(g.derived_at_ms, kT);
  EXPECT_EQ(g.time_flags, static_cast<uint32_t>(kTimeOffsetCorrected));
  EXPECT_EQ(g.properties_json, e.properties_json);
  EXPECT_EQ(g.context_json, e.context_json);
}

TEST_P(StoreConformance, FingerprintDuplicatesOnlyWithinTheWindow) {
  ASSERT_TRUE(store_->PutWorkspace({"acme", true, 60000}).ok());
  StoredEvent a = Row(ids_, kT), b = Row(ids_, kT), c = Row(ids_, kT);
  a.fingerprint = b.fingerprint = c.fingerprint = "fp1";
  EXPECT_EQ(Append({a})[0], AppendOutcome::kStored);
  EXPECT_EQ(Append({b}, kT + 1000)[0], AppendOutcome::kDuplicateContent);
  EXPECT_EQ(Append({b}, kT + 120000)[0], AppendOutcome::kStored);
  EXPECT_EQ(Append({c}, kT + 121000)[0], AppendOutcome::kDuplicateContent);
  std::vector<WorkspaceRecord> ws;
  ASSERT_TRUE(store_->ListWorkspaces(&ws).ok());
  ASSERT_EQ(ws.size(), 1u);
  EXPECT_TRUE(ws[0].fingerprint_dedup);
  EXPECT_EQ(ws[0].fingerprint_window_ms, 60000);
}

TEST_P(StoreConformance, UnknownWorkspacesAreCreatedOnFirstUse) {
  Append({Row(ids_, kT)}, kT, "fresh");
  std::vector<WorkspaceRecord> ws;
  ASSERT_TRUE(store_->ListWorkspaces(&ws).ok());
  ASSERT_EQ(ws.size(), 1u);
  EXPECT_EQ(ws[0].name, "fresh");
  EXPECT_FALSE(ws[0].fingerprint_dedup);
}

TEST_P(StoreConformance, QueryPagesWithACursorInTimeOrder) {
  std::vector<StoredEvent> rows;
  for (int i = 0; i < 25; ++i) {
    rows.push_back(Row(ids_, kT + (i % 5) * 1000, i % 2 ? "view" : "click"));
  }
  Append(rows);
  EventQuery q;
  q.workspace = "acme";
  q.limit = 10;
  std::vector<StoredEvent> all;
  EventPage page;
  int pages = 0;
  do {
    ASSERT_TRUE(store_->Query(q, &page).ok());
    all.insert(all.end(), page.events.begin(), page.events.end());
    q.cursor = page.next_cursor;
    ++pages;
  } while (!page.next_cursor.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(all.size(), 25u);
  std::set<std::string> ids;
  for (size_t i = 0; i < all.size(); ++i) {
    ids.insert(all[i].event_id);
    if (i) {
      EXPECT_LE(all[i - 1].derived_at_ms, all[i].derived_at_ms);
    }
  }
  EXPECT_EQ(ids.size(), 25u);
  EventQuery filtered;
  filtered.workspace = "acme";
  filtered.name = "view";
  filtered.from_ms = kT + 1000;
  filtered.to_ms = kT + 3000;
  ASSERT_TRUE(store_->Query(filtered, &page).ok());
  for (const auto& e : page.events) EXPECT_EQ(e.name, "view");
  EXPECT_EQ(page.events.size(), 5u);
  filtered.cursor = "garbage";
  EXPECT_EQ(store_->Query(filtered, &page).code(), Code::kInvalidArgument);
  filtered.cursor = "1.x' OR 1=1 --";
  EXPECT_EQ(store_->Query(filtered, &page).code(), Code::kInvalidArgument);
}

TEST_P(StoreConformance, AggregateCountsPerBucketAndGroup) {
  Append({Row(ids_, kT, "click", "A"), Row(ids_, kT + 10, "click", "A"),
          Row(ids_, kT + 60000, "view", "B"), Row(ids_, kT + 60001, "click", "B")});
  AggregateQuery q;
  q.workspace = "acme";
  q.from_ms = kT;
  q.to_ms = kT + 120000;
  q.bucket_ms = 60000;
  q.group_by = AggregateQuery::GroupBy::kName;
  std::vector<AggregateRow> rows;
  ASSERT_TRUE(store_->Aggregate(q, &rows).ok());
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].bucket_start_ms, kT);
  EXPECT_EQ(rows[0].group, "click");
  EXPECT_EQ(rows[0].value, 2);
  EXPECT_EQ(rows[1].bucket_start_ms, kT + 60000);
  q.group_by = AggregateQuery::GroupBy::kNone;
  q.bucket_ms = 0;
  q.distinct_users = true;
  ASSERT_TRUE(store_->Aggregate(q, &rows).ok());
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].value, 2);
  q.to_ms = q.from_ms - 1;
  EXPECT_EQ(store_->Aggregate(q, &rows).code(), Code::kInvalidArgument);
}

TEST_P(StoreConformance, PurgeDeletesOnlyOlderEvents) {
  const int64_t month = 31LL * 86400000;
  Append({Row(ids_, kT - 2 * month), Row(ids_, kT - 5000), Row(ids_, kT - 1), Row(ids_, kT),
          Row(ids_, kT + 1)});
  int64_t purged = 0;
  ASSERT_TRUE(store_->PurgeBefore(kT, &purged).ok());
  EXPECT_EQ(purged, 3);
  EXPECT_EQ(Count("acme"), 2);
  ASSERT_TRUE(store_->PurgeBefore(kT, &purged).ok());
  EXPECT_EQ(purged, 0);
}

TEST_P(StoreConformance, KeysAreCreatedListedAndRevoked) {
  KeyRecord k;
  k.key = "wk_1";
  k.workspace = "acme";
  k.source = "shop";
  k.origins = {"https://a.example", "https://b.example"};
  k.created_at_ms = kT;
  ASSERT_TRUE(store_->PutKey(k).ok());
  KeyRecord r;
  r.key = "rk_1";
  r.kind = KeyKind::kRead;
  r.workspace = "acme";
  ASSERT_TRUE(store_->PutKey(r).ok());
  ASSERT_TRUE(store_->RevokeKey("wk_1", kT).ok());
  EXPECT_EQ(store_->RevokeKey("wk_1", kT).code(), Code::kNotFound);
  EXPECT_EQ(store_->RevokeKey("nope", kT).code(), Code::kNotFound);
  std::vector<KeyRecord> keys;
  ASSERT_TRUE(store_->ListKeys(&keys).ok());
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].key, "rk_1");  // ordered by workspace, kind, key
  EXPECT_EQ(keys[0].kind, KeyKind::kRead);
  EXPECT_EQ(keys[1].origins, k.origins);
  EXPECT_EQ(keys[1].source, "shop");
  EXPECT_EQ(keys[1].created_at_ms, kT);
  EXPECT_EQ(keys[1].revoked_at_ms, kT);
}

// --- reports ------------------------------------------------------------------------------------

class ReportConformance : public StoreConformance {
 protected:
  void SetUp() override {
    StoreConformance::SetUp();
    if (HasFatalFailure()) return;
    // Users A (click, view, buy), B (click, view), C (click), anon-only D (click); properties
    // with strings, numbers, bools, an object and a nested field of another name.
    auto with_anon = [&](StoredEvent e, const std::string& anon) {
      e.anonymous_id = anon;
      e.session_id = "s-" + (e.user_id.empty() ? anon : e.user_id);
      return e;
    };
    Append({with_anon(Row(ids_, kT, "click", "A", R"({"plan":"pro","n":1,"ok":true})"), "a"),
            with_anon(Row(ids_, kT + 1000, "view", "A", R"({"plan":"pro","n":2.5})"), "a"),
            with_anon(Row(ids_, kT + 2000, "buy", "A", R"({"plan":"pro","obj":{"x":1}})"), "a"),
            with_anon(Row(ids_, kT + 3000, "click", "B", R"({"plan":"free","n":1})"), "b"),
            with_anon(Row(ids_, kT + 3600000, "view", "B", R"({"plan":"free","ok":false})"), "b"),
            with_anon(Row(ids_, kT + 4000, "click", "C", R"({"n":1})"), "c"),
            with_anon(Row(ids_, kT + 5000, "click", "", R"({"plan":"free"})"), "d")});
    reports_ = Reports();
    ASSERT_NE(reports_, nullptr);
  }
  report::EventFilter Filter() {
    report::EventFilter f;
    f.workspace = "acme";
    f.from_ms = kT;
    f.to_ms = kT + 86400000;
    return f;
  }
  std::unique_ptr<report::ReportStore> reports_;
};

TEST_P(ReportConformance, EventsPageBothWaysWithFilters) {
  report::EventsRequest r;
  r.filter = Filter();
  r.limit = 3;
  std::vector<std::string> names;
  report::EventsPage page;
  do {
    ASSERT_TRUE(reports_->Events(r, &page).ok());
    for (const auto& e : page.events) names.push_back(e.name);
    r.after = page.next;
  } while (page.next);
  EXPECT_EQ(names,
            (std::vector<std::string>{"click", "view", "buy", "click", "click", "click", "view"}));
  r.descending = true;
  r.after.reset();
  r.limit = 2;
  ASSERT_TRUE(reports_->Events(r, &page).ok());
  ASSERT_EQ(page.events.size(), 2u);
  EXPECT_EQ(page.events[0].name, "view");
  EXPECT_EQ(page.events[1].user_id, "");
  r.filter.properties = {{"plan", "pro"}};
  r.limit = 10;
  ASSERT_TRUE(reports_->Events(r, &page).ok());
  EXPECT_EQ(page.events.size(), 3u);
  r.filter.properties = {{"n", "1"}};
  ASSERT_TRUE(reports_->Events(r, &page).ok());
  EXPECT_EQ(page.events.size(), 3u);
  r.filter.properties = {{"ok", "true"}};
  ASSERT_TRUE(reports_->Events(r, &page).ok());
  EXPECT_EQ(page.events.size(), 1u);
  r.filter.properties = {{"plan", "x' OR '1'='1"}};
  ASSERT_TRUE(reports_->Events(r, &page).ok());
  EXPECT_EQ(page.events.size(), 0u);
  bool found = false;
  ASSERT_TRUE(reports_->HasUserId("acme", "B", &found).ok());
  EXPECT_TRUE(found);
  ASSERT_TRUE(reports_->HasUserId("acme", "d", &found).ok());
  EXPECT_FALSE(found);
}

TEST_P(ReportConformance, SummaryTimeseriesBreakdownFunnelOverview) {
  std::vector<report::NameSummary> summary;
  ASSERT_TRUE(reports_->Summary(Filter(), &summary).ok());
  ASSERT_EQ(summary.size(), 3u);
  EXPECT_EQ(summary[0].name, "click");
  EXPECT_EQ(summary[0].count, 4);
  EXPECT_EQ(summary[0].first_seen_ms, kT);
  EXPECT_EQ(summary[0].last_seen_ms, kT + 5000);
  EXPECT_EQ(summary[1].name, "view");
  EXPECT_EQ(summary[2].name, "buy");

  report::TimeseriesRequest ts;
  ts.filter = Filter();
  ts.bounds = {kT, kT + 1800000, kT + 7200000, kT + 7200001};  // uneven buckets
  std::vector<int64_t> values;
  ASSERT_TRUE(reports_->Timeseries(ts, &values).ok());
  EXPECT_EQ(values, (std::vector<int64_t>{6, 1, 0}));
  ts.metric = report::Metric::kUsers;
  ASSERT_TRUE(reports_->Timeseries(ts, &values).ok());
  EXPECT_EQ(values, (std::vector<int64_t>{4, 1, 0}));

  report::BreakdownRequest b;
  b.filter = Filter();
  b.by.kind = report::GroupKey::Kind::kProperty;
  b.by.key = "n";
  report::Breakdown out;
  ASSERT_TRUE(reports_->GetBreakdown(b, &out).ok());
  EXPECT_EQ(out.total, 7);
  ASSERT_EQ(out.rows.size(), 3u);
  EXPECT_FALSE(out.rows[0].value.has_value());  // absent: first among equal counts
  EXPECT_EQ(out.rows[0].count, 3);
  EXPECT_EQ(out.rows[1].value, "1");
  EXPECT_EQ(out.rows[1].value_type, "number");
  EXPECT_EQ(out.rows[1].count, 3);
  EXPECT_EQ(out.rows[2].value, "2.5");
  b.by.key = "obj";
  ASSERT_TRUE(reports_->GetBreakdown(b, &out).ok());
  ASSERT_EQ(out.rows.size(), 2u);
  EXPECT_EQ(out.rows[1].value, R"({"x":1})");
  EXPECT_EQ(out.rows[1].value_type, "object");
  b.by.key = "ok";
  b.limit = 1;
  ASSERT_TRUE(reports_->GetBreakdown(b, &out).ok());
  EXPECT_EQ(out.rows.size(), 1u);
  EXPECT_EQ(out.other, 2);
  b.by.kind = report::GroupKey::Kind::kUserId;
  b.metric = report::Metric::kUsers;
  b.limit = 10;
  ASSERT_TRUE(reports_->GetBreakdown(b, &out).ok());
  EXPECT_EQ(out.total, 4);
  ASSERT_EQ(out.rows.size(), 4u);
  EXPECT_FALSE(out.rows[0].value.has_value());  // the anonymous user, with count 1 each

  report::FunnelRequest fr;
  fr.filter = Filter();
  fr.steps = {"click", "view", "buy"};
  fr.window_ms = 60000;
  std::vector<int64_t> users;
  ASSERT_TRUE(reports_->Funnel(fr, &users).ok());
  EXPECT_EQ(users, (std::vector<int64_t>{4, 1, 1}));  // B's view is outside the minute

  report::Overview ov;
  ASSERT_TRUE(reports_->GetOverview(Filter(), &ov).ok());
  EXPECT_EQ(ov.events, 7);
  EXPECT_EQ(ov.users, 4);
  EXPECT_EQ(ov.sessions, 4);
  ASSERT_FALSE(ov.top_events.empty());
  EXPECT_EQ(ov.top_events[0], (std::pair<std::string, int64_t>{"click", 4}));

  std::vector<std::string> exported;
  ASSERT_TRUE(reports_
                  ->Export(Filter(),
                           [&](const StoredEvent& e) {
                             exported.push_back(e.name);
                             return exported.size() < 5;
                           })
                  .ok());
  EXPECT_EQ(exported.size(), 5u);
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreConformance, ::testing::Values("SQLite", "ClickHouse"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });
INSTANTIATE_TEST_SUITE_P(Backends, ReportConformance, ::testing::Values("SQLite", "ClickHouse"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

// --- the same JSON from both stores, through real collectors --------------------------------

TEST(ReportJson, BothStoresAnswerEveryEndpointAlike) {
  std::string error;
  testing::ClickHouseServer* ch = SharedClickHouse(&error);
  ASSERT_NE(ch, nullptr) << error;
  TempDir dir;
  testing::AtomicFakeClock clock(kT + 86400000);
  CollectorOptions sqlite_opts = testing::TestOptions(dir);
  CollectorOptions ch_opts = sqlite_opts;
  ch_opts.store = ch->NewDatabaseUrl();
  Collector a(sqlite_opts, &clock), b(ch_opts, &clock);
  ASSERT_TRUE(a.Start().ok());
  Status started = b.Start();
  ASSERT_TRUE(started.ok()) << started.message();
  // One batch with a server key (explicit times), sent to both.
  EventMaker ids(7);
  std::string events = "[";
  const char* names[] = {"viewed", "clicked", "purchased"};
  for (int i = 0; i < 60; ++i) {
    int64_t at = kT + i * 600000;
    std::string user = "U" + std::to_string(i % 7);
    events += std::string(i ? "," : "") + "{\"event_id\":\"" + ids.Id(at) +
              "\",\"type\":\"track\",\"name\":\"" + names[i % 3 == 2 && i % 2 ? 2 : i % 2] +
              "\",\"user_id\":\"" + (i % 5 ? user : "") + "\",\"anonymous_id\":\"an" +
              std::to_string(i % 9) + "\",\"session_id\":\"s" + std::to_string(i % 4) +
              "\",\"created_at\":" + std::to_string(at) +
              ",\"properties\":{\"price\":" + std::to_string(i % 4) + ".5,\"channel\":\"" +
              (i % 3 ? "ads" : "mail") + "\",\"vip\":" + (i % 2 ? "true" : "false") +
              "},\"context\":{\"workflow_id\":\"w" + std::to_string(i % 2) + "\"}}";
  }
  events += "]";
  std::string body = "{\"sent_at\":" + std::to_string(kT) + ",\"events\":" + events + "}";
  for (Collector* c : {&a, &b}) {
    httplib::Client client("127.0.0.1", c->port());
    auto r =
        client.Post("/v1/batch", {{"Authorization", "Bearer sk_test"}}, body, "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
  }
  const std::string range = "from=" + std::to_string(kT) + "&to=" + std::to_string(kT + 86400000);
  const std::vector<std::string> paths = {
      "/v1/events?limit=7&" + range,
      "/v1/events?limit=5&order=desc&name=clicked&" + range,
      "/v1/events?prop.channel=ads&prop.vip=true&" + range,
      "/v1/events?workflow_id=w1&limit=3&" + range,
      "/v1/users/U3/events?" + range,
      "/v1/users/an4/events?" + range,
      "/v1/users/U3/summary?" + range,
      "/v1/stats/timeseries?interval=hour&" + range,
      "/v1/stats/timeseries?interval=day&tz=Europe/Paris&metric=users&" + range,
      "/v1/stats/breakdown?by=prop.channel&" + range,
      "/v1/stats/breakdown?by=prop.price&metric=users&limit=2&" + range,
      "/v1/stats/breakdown?by=user_id&" + range,
      "/v1/stats/breakdown?by=context.workflow_id&" + range,
      "/v1/stats/funnel?steps=viewed,clicked,purchased&window=1h&" + range,
      "/v1/stats/overview?" + range,
      "/v1/export?format=ndjson&" + range,
      "/v1/export?format=csv&name=purchased&" + range,
  };
  for (const auto& path : paths) {
    std::string answers[2];
    for (int i = 0; i < 2; ++i) {
      httplib::Client client("127.0.0.1", (i ? b : a).port());
      auto r = client.Get(path, {{"Authorization", "Bearer rk_test"}});
      ASSERT_TRUE(r) << path;
      EXPECT_EQ(r->status, 200) << path << ": " << r->body;
      answers[i] = r->body;
    }
    EXPECT_EQ(answers[0], answers[1]) << path;
    EXPECT_GT(answers[0].size(), 20u) << path;
  }
}

}  // namespace
}  // namespace tally::collector

namespace tally::collector {
namespace {

TEST(ClickHouseUrl, ParsesCredentialsHostPortAndDatabase) {
  auto u = ParseClickHouseUrl("clickhouse://tally:p%w@10.0.0.5:9123/analytics");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u.value().user, "tally");
  EXPECT_EQ(u.value().password, "p%w");
  EXPECT_EQ(u.value().host, "10.0.0.5");
  EXPECT_EQ(u.value().port, 9123);
  EXPECT_EQ(u.value().database, "analytics");
  auto d = ParseClickHouseUrl("clickhouse://127.0.0.1");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d.value().user, "default");
  EXPECT_EQ(d.value().port, 8123);
  EXPECT_EQ(d.value().database, "tally");
}

TEST(ClickHouseUrl, RefusesBadUrlsWithTheReason) {
  for (const char* bad :
       {"clickhouse://", "clickhouse://h:0/db", "clickhouse://h:99999/db", "clickhouse://h:12x/db",
        "clickhouse://h/db;DROP", "clickhouse://@h/db"}) {
    auto u = ParseClickHouseUrl(bad);
    EXPECT_EQ(u.status().code(), Code::kInvalidArgument) << bad;
    EXPECT_NE(u.status().message().find("clickhouse://user:password@host:port/database"),
              std::string::npos);
  }
  // A server that is not there: OpenStore fails with the connection error, it does not hang.
  auto s = OpenStore("clickhouse://127.0.0.1:" + std::to_string(testing::FreePort()) + "/x");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("clickhouse:"), std::string::npos);
}

}  // namespace
}  // namespace tally::collector
