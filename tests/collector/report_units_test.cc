// The store-independent parts of reports: time zones and buckets, parameters, CSV and JSON.
#include <gtest/gtest.h>

#include "report/format.h"
#include "report/params.h"
#include "report/tz.h"

namespace tally::collector::report {
namespace {

constexpr int64_t kHour = 3600000;

std::shared_ptr<const TimeZone> Zone(const std::string& name) {
  auto z = TimeZone::Load(name);
  EXPECT_TRUE(z.ok()) << z.status().message();
  return z.ok() ? z.value() : TimeZone::Utc();
}

int64_t Utc(const std::string& iso) {
  auto t = ParseTime("t", iso, *TimeZone::Utc());
  EXPECT_TRUE(t.ok()) << t.status().message();
  return t.value();
}

TEST(TimeZone, ParisOffsetsChangeAtTheEuropeanTransitions) {
  auto paris = Zone("Europe/Paris");
  EXPECT_EQ(paris->OffsetAt(Utc("2024-03-31T00:59:59Z")), 3600);
  EXPECT_EQ(paris->OffsetAt(Utc("2024-03-31T01:00:00Z")), 7200);
  EXPECT_EQ(paris->OffsetAt(Utc("2024-10-27T00:59:59Z")), 7200);
  EXPECT_EQ(paris->OffsetAt(Utc("2024-10-27T01:00:00Z")), 3600);
}

TEST(TimeZone, FollowsThePosixRuleAfterTheLastTransition) {
  // Far beyond the last transition any TZif file lists: the footer rule decides.
  auto paris = Zone("Europe/Paris");
  EXPECT_EQ(paris->OffsetAt(Utc("2300-07-01T12:00:00Z")), 7200);
  EXPECT_EQ(paris->OffsetAt(Utc("2300-12-01T12:00:00Z")), 3600);
  auto sydney = Zone("Australia/Sydney");  // southern hemisphere: DST spans the new year
  EXPECT_EQ(sydney->OffsetAt(Utc("2300-01-15T00:00:00Z")), 11 * 3600);
  EXPECT_EQ(sydney->OffsetAt(Utc("2300-07-15T00:00:00Z")), 10 * 3600);
}

TEST(TimeZone, WallTimeInADstGapMapsToTheEndOfTheGap) {
  auto paris = Zone("Europe/Paris");
  // 02:30 on 2024-03-31 never happened in Paris; 03:00 CEST = 01:00Z.
  EXPECT_EQ(paris->LocalToUtc(Utc("2024-03-31T02:30:00Z")), Utc("2024-03-31T01:00:00Z"));
  // 02:30 on 2024-10-27 happened twice; the first is 00:30Z.
  EXPECT_EQ(paris->LocalToUtc(Utc("2024-10-27T02:30:00Z")), Utc("2024-10-27T00:30:00Z"));
}

TEST(TimeZone, UnknownOrHostileNamesAreRefusedNamingTz) {
  for (const char* name : {"Mars/Olympus", "../../etc/passwd", "/etc/passwd", "Europe/Paris\n"}) {
    auto z = TimeZone::Load(name);
    ASSERT_FALSE(z.ok()) << name;
    EXPECT_EQ(z.status().message().rfind("tz: ", 0), 0u) << z.status().message();
  }
}

TEST(Buckets, ParisDaysAre23And25HoursLongAtTheTransitions) {
  auto paris = Zone("Europe/Paris");
  auto bounds = BucketBounds(*paris, Interval::kDay, Utc("2024-03-30T12:00:00Z"),
                             Utc("2024-04-01T12:00:00Z"), 100);
  ASSERT_TRUE(bounds.ok());
  const auto& b = bounds.value();
  ASSERT_EQ(b.size(), 4u);
  EXPECT_EQ(FormatLocal(*paris, b[0]), "2024-03-30T00:00:00+01:00");
  EXPECT_EQ(FormatLocal(*paris, b[1]), "2024-03-31T00:00:00+01:00");
  EXPECT_EQ(FormatLocal(*paris, b[2]), "2024-04-01T00:00:00+02:00");
  EXPECT_EQ(b[2] - b[1], 23 * kHour);

  bounds = BucketBounds(*paris, Interval::kDay, Utc("2024-10-27T00:00:00Z"),
                        Utc("2024-10-27T12:00:00Z"), 100);
  ASSERT_TRUE(bounds.ok());
  EXPECT_EQ(FormatLocal(*paris, bounds.value()[0]), "2024-10-27T00:00:00+02:00");
  EXPECT_EQ(bounds.value()[1] - bounds.value()[0], 25 * kHour);
}

TEST(Buckets, HoursOfTheFallBackDayAre25WithTheRepeatedHourTwice) {
  auto paris = Zone("Europe/Paris");
  int64_t day = paris->LocalToUtc(Utc("2024-10-27T00:00:00Z"));
  auto bounds = BucketBounds(*paris, Interval::kHour, day, day + 25 * kHour, 100);
  ASSERT_TRUE(bounds.ok());
  ASSERT_EQ(bounds.value().size(), 26u);
  EXPECT_EQ(FormatLocal(*paris, bounds.value()[2]), "2024-10-27T02:00:00+02:00");
  EXPECT_EQ(FormatLocal(*paris, bounds.value()[3]), "2024-10-27T02:00:00+01:00");
  EXPECT_EQ(FormatLocal(*paris, bounds.value()[25]), "2024-10-28T00:00:00+01:00");
}

TEST(Buckets, WeeksStartOnMondayInTheZone) {
  auto ny = Zone("America/New_York");
  int64_t start = BucketStart(*ny, Interval::kWeek, Utc("2024-11-14T12:00:00Z"));  // Thursday
  EXPECT_EQ(FormatLocal(*ny, start), "2024-11-11T00:00:00-05:00");
  EXPECT_EQ(FormatLocal(*ny, NextBucket(*ny, Interval::kWeek, start)), "2024-11-18T00:00:00-05:00");
}

TEST(Buckets, HalfHourZonesAlignHoursToLocalTime) {
  auto kolkata = Zone("Asia/Kolkata");
  int64_t start = BucketStart(*kolkata, Interval::kHour, Utc("2024-11-15T10:10:00Z"));
  EXPECT_EQ(FormatLocal(*kolkata, start), "2024-11-15T15:00:00+05:30");
}

TEST(Buckets, TooManyBucketsIsAnIntervalError) {
  auto bounds = BucketBounds(*TimeZone::Utc(), Interval::kMinute, 0, 365LL * 86400000, 10000);
  ASSERT_FALSE(bounds.ok());
  EXPECT_EQ(bounds.status().message().rfind("interval: ", 0), 0u);
}

TEST(Params, TimesAcceptMillisecondsAndIso8601InTheZone) {
  auto paris = Zone("Europe/Paris");
  EXPECT_EQ(ParseTime("from", "1731681204017", *paris).value(), 1731681204017);
  EXPECT_EQ(ParseTime("from", "2024-11-15T14:32:00Z", *paris).value(), Utc("2024-11-15T14:32:00Z"));
  EXPECT_EQ(ParseTime("from", "2024-11-15T14:32:00.5+02:00", *paris).value(),
            Utc("2024-11-15T12:32:00.500Z"));
  EXPECT_EQ(ParseTime("from", "2024-11-15", *paris).value(), Utc("2024-11-14T23:00:00Z"));
  for (const char* bad :
       {"yesterday", "2024-13-01", "2024-11-15T25:00", "2024-11-15Tx", "", "1e9"}) {
    auto t = ParseTime("from", bad, *paris);
    ASSERT_FALSE(t.ok()) << bad;
    EXPECT_EQ(t.status().message().rfind("from: ", 0), 0u);
  }
}

TEST(Params, WindowsTakeUnitsAndRefuseNonsense) {
  ReportLimits limits;
  auto window = [&](const std::string& v) { return ParseWindow(Params{{"window", v}}, limits); };
  EXPECT_EQ(window("30m").value(), 30 * 60000);
  EXPECT_EQ(window("12h").value(), 12 * kHour);
  EXPECT_EQ(window("7d").value(), 7 * 24 * kHour);
  EXPECT_EQ(window("90000").value(), 90000);
  for (const char* bad : {"0", "-5m", "7w", "d", "999999d", "1.5h"}) {
    auto w = window(bad);
    ASSERT_FALSE(w.ok()) << bad;
    EXPECT_EQ(w.status().message().rfind("window: ", 0), 0u);
  }
}

TEST(Params, CursorsRoundTripAndForgeriesAreRefused) {
  Cursor c{1731681204017, "0193303e-3731-7c11-add4-51b26bcefab3"};
  Cursor back;
  ASSERT_TRUE(DecodeCursor(EncodeCursor(c), &back));
  EXPECT_EQ(back.derived_at_ms, c.derived_at_ms);
  EXPECT_EQ(back.event_id, c.event_id);
  for (const char* bad : {"", "abc", "12.", ".x", "12.a'b", "x.y"}) {
    EXPECT_FALSE(DecodeCursor(bad, &back)) << bad;
  }
}

TEST(Csv, QuotesFieldsWithCommasQuotesAndLineBreaks) {
  std::string out;
  AppendCsvField("plain", &out);
  out += '|';
  AppendCsvField("a,b", &out);
  out += '|';
  AppendCsvField("say \"hi\"", &out);
  out += '|';
  AppendCsvField("line\nbreak\r", &out);
  EXPECT_EQ(out, "plain|\"a,b\"|\"say \"\"hi\"\"\"|\"line\nbreak\r\"");
}

TEST(Csv, GuardsFieldsASpreadsheetWouldRunAsFormulas) {
  std::string out;
  for (const char* f : {"=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(A1)", "\tx", "ok=1"}) {
    AppendCsvField(f, &out, true);
    out += '|';
  }
  EXPECT_EQ(out, "\"'=HYPERLINK(\"\"http://x\"\")\"|'+1|'-2|'@SUM(A1)|'\tx|ok=1|");
  out.clear();
  AppendCsvField("=1+1", &out, false);
  EXPECT_EQ(out, "=1+1");
}

TEST(Csv, RowsGuardVisitorChosenTextButNotJson) {
  StoredEvent e;
  e.event_id = "id";
  e.type = "track";
  e.name = "=cmd|' /C calc'!A0";
  e.user_id = "@u";
  e.anonymous_id = "+a";
  e.session_id = "-s";
  e.properties_json = R"({"x":"=1"})";
  std::string out;
  AppendCsvRow(e, &out);
  EXPECT_EQ(out,
            "id,track,'=cmd|' /C calc'!A0,'@u,'+a,'-s,0,,0,0,\"{\"\"x\"\":\"\"=1\"\"}\",{}\r\n");
  out.clear();
  AppendCsvRow(e, &out, false);
  EXPECT_EQ(out.substr(0, 30), "id,track,=cmd|' /C calc'!A0,@u");
}

TEST(Csv, RowsEndWithCrlfAndKeepEmptyOptionalFieldsEmpty) {
  StoredEvent e;
  e.event_id = "id";
  e.type = "track";
  e.name = "n";
  e.created_at_ms = 1;
  e.received_at_ms = 2;
  e.derived_at_ms = 3;
  std::string out;
  AppendCsvRow(e, &out);
  EXPECT_EQ(out, "id,track,n,,,,1,,2,3,{},{}\r\n");
}

TEST(Json, EscapesControlCharactersAndKeepsUtf8) {
  std::string out;
  AppendJsonString("é\"\\\n\x01🎉", &out);
  EXPECT_EQ(out, "\"é\\\"\\\\\\n\\u0001🎉\"");
}

}  // namespace
}  // namespace tally::collector::report
