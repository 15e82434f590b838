// Privacy masking at ingest: the pure function, and end to end through /v1/batch into reports.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "collector_test_util.h"
#include "report/privacy.h"
#include "tally/json.h"

namespace tally::collector {
namespace {

using testing::AtomicFakeClock;
using testing::EventMaker;
using testing::TempDir;
using testing::TestOptions;

const std::string kSalt = "0123456789abcdef-secret";

Event WithIp(const std::string& ip) {
  Event e;
  e.event_id = "id";
  e.name = "n";
  e.context.Set("ip", Json::String(ip));
  e.properties.Set("email", Json::String("john@example.com"));
  e.properties.Set("phone", Json::String("+33 6 12 34 56 78"));
  e.properties.Set("plan", Json::String("pro"));
  return e;
}

TEST(Privacy, TruncatesIpv4ToSlash24AndIpv6ToSlash48) {
  EXPECT_EQ(TruncateIp("203.0.113.77"), "203.0.113.0");
  EXPECT_EQ(TruncateIp("2001:db8:85a3:8d3:1319:8a2e:370:7348"), "2001:db8:85a3::");
  EXPECT_EQ(TruncateIp("not an ip"), "");
  PrivacyOptions o;
  o.ip = PrivacyOptions::IpMode::kTruncate;
  Event e = WithIp("203.0.113.77");
  ApplyPrivacy(o, &e);
  EXPECT_EQ(e.context.Find("ip")->as_string(), "203.0.113.0");
  Event junk = WithIp("<script>");
  ApplyPrivacy(o, &junk);
  EXPECT_EQ(junk.context.Find("ip"), nullptr) << "what cannot be truncated is not kept";
}

TEST(Privacy, HashesAreKeyedStableAndHideTheValue) {
  PrivacyOptions o;
  o.ip = PrivacyOptions::IpMode::kHash;
  o.hash_properties = {"email"};
  o.drop_properties = {"phone"};
  o.salt = kSalt;
  ASSERT_TRUE(ValidatePrivacyOptions(o).ok());
  Event a = WithIp("203.0.113.77"), b = WithIp("203.0.113.77");
  ApplyPrivacy(o, &a);
  ApplyPrivacy(o, &b);
  const std::string& ip = a.context.Find("ip")->as_string();
  EXPECT_EQ(ip.rfind("h:", 0), 0u);
  EXPECT_EQ(ip.size(), 34u);
  EXPECT_EQ(ip, b.context.Find("ip")->as_string()) << "same value, same hash";
  EXPECT_NE(ip, PrivacyHash("another-salt-0123456789", "203.0.113.77")) << "the salt matters";
  EXPECT_EQ(a.properties.Find("email")->as_string(), PrivacyHash(kSalt, "john@example.com"));
  EXPECT_EQ(a.properties.Find("phone"), nullptr);
  EXPECT_EQ(a.properties.Find("plan")->as_string(), "pro");
}

TEST(Privacy, HashingWithoutASaltIsRefusedNamingTheSetting) {
  PrivacyOptions o;
  o.hash_properties = {"email"};
  Status s = ValidatePrivacyOptions(o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message().rfind("privacy-salt: ", 0), 0u);
}

TEST(Privacy, MaskedValuesNeverReachReportsOrExports) {
  TempDir dir;
  AtomicFakeClock clock(1735689600000);
  CollectorOptions o = TestOptions(dir);
  o.privacy.ip = PrivacyOptions::IpMode::kTruncate;
  o.privacy.hash_properties = {"email"};
  o.privacy.drop_properties = {"phone"};
  o.privacy.salt = kSalt;
  Collector c(o, &clock);
  ASSERT_TRUE(c.Start().ok());
  httplib::Client http("127.0.0.1", c.port());
  EventMaker ids;
  nlohmann::json ev = {
      {"event_id", ids.Id(1731681120000)},
      {"type", "track"},
      {"name", "signup"},
      {"created_at", 1731681120000},
      {"user_id", "C-1"},
      {"properties",
       {{"email", "john@example.com"}, {"phone", "+33 6 12"}, {"ip", "198.51.100.23"}}},
      {"context", {{"ip", "203.0.113.77"}}}};
  auto r = http.Post("/v1/batch", {{"Authorization", "Bearer sk_test"}},
                     nlohmann::json{{"events", {ev}}}.dump(), "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  httplib::Headers key = {{"Authorization", "Bearer rk_test"}};
  for (const char* path : {"/v1/events?from=0", "/v1/export?format=csv&from=0",
                           "/v1/export?format=ndjson&from=0", "/v1/users/C-1/events"}) {
    auto got = http.Get(path, key);
    ASSERT_TRUE(got);
    ASSERT_EQ(got->status, 200) << path;
    EXPECT_EQ(got->body.find("john@example.com"), std::string::npos) << path;
    EXPECT_EQ(got->body.find("+33 6 12"), std::string::npos) << path;
    EXPECT_EQ(got->body.find("203.0.113.77"), std::string::npos) << path;
    EXPECT_EQ(got->body.find("198.51.100.23"), std::string::npos) << path;
    EXPECT_NE(got->body.find("203.0.113.0"), std::string::npos) << path;
  }
  auto page = nlohmann::json::parse(http.Get("/v1/events?from=0", key)->body);
  EXPECT_EQ(page["events"][0]["properties"]["email"], PrivacyHash(kSalt, "john@example.com"));
  EXPECT_FALSE(page["events"][0]["properties"].contains("phone"));
  // The hash still filters: a report can count a hashed value without learning it.
  auto by_hash = http.Get(
      ("/v1/events?from=0&prop.email=" + PrivacyHash(kSalt, "john@example.com")).c_str(), key);
  EXPECT_EQ(nlohmann::json::parse(by_hash->body)["events"].size(), 1u);
  auto by_value = http.Get("/v1/events?from=0&prop.email=john%40example.com", key);
  EXPECT_EQ(nlohmann::json::parse(by_value->body)["events"].size(), 0u);
}

}  // namespace
}  // namespace tally::collector
