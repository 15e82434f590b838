#include "tally/dedup.h"

#include <gtest/gtest.h>

#include <string>

namespace tally {
namespace {

constexpr int64_t kT = 1731681120000;
constexpr int64_t kHour = 3600 * 1000;

Event MakeEvent(const std::string& id, const std::string& name = "Clicked CTA",
                int64_t created_at_ms = kT + 123) {
  Event event;
  event.event_id = id;
  event.name = name;
  event.user_id = "C-2847391";
  event.created_at_ms = created_at_ms;
  return event;
}

DedupOptions WithFingerprint() {
  DedupOptions options;
  options.fingerprint = true;
  return options;
}

TEST(Deduper, SecondSightingOfAnIdIsADuplicate) {
  Deduper dedup(DedupOptions{});
  EXPECT_EQ(dedup.Check(MakeEvent("a"), "", kT), Deduper::Verdict::kNew);
  EXPECT_EQ(dedup.Check(MakeEvent("a"), "", kT + 10), Deduper::Verdict::kDuplicateId);
  EXPECT_EQ(dedup.Check(MakeEvent("b"), "", kT + 10), Deduper::Verdict::kNew);
  EXPECT_EQ(dedup.size(), 2u);
}

TEST(Deduper, WindowExpiresAtExactlyFortyEightHours) {
  Deduper dedup(DedupOptions{});  // 48 h by default
  ASSERT_EQ(dedup.Check(MakeEvent("a"), "", kT), Deduper::Verdict::kNew);
  EXPECT_EQ(dedup.Check(MakeEvent("a"), "", kT + 48 * kHour - 1), Deduper::Verdict::kDuplicateId);
  EXPECT_EQ(dedup.Check(MakeEvent("a"), "", kT + 48 * kHour), Deduper::Verdict::kNew);
}

TEST(Deduper, ADuplicateDoesNotRefreshTheWindow) {
  Deduper dedup(DedupOptions{});
  ASSERT_EQ(dedup.Check(MakeEvent("a"), "", kT), Deduper::Verdict::kNew);
  ASSERT_EQ(dedup.Check(MakeEvent("a"), "", kT + 47 * kHour), Deduper::Verdict::kDuplicateId);
  // Had the duplicate refreshed it, "a" would be remembered until kT + 95 h.
  EXPECT_EQ(dedup.Check(MakeEvent("a"), "", kT + 48 * kHour), Deduper::Verdict::kNew);
}

TEST(Deduper, ExpiredKeysFreeTheirMemory) {
  Deduper dedup(DedupOptions{});
  for (int i = 0; i < 100; ++i) dedup.Check(MakeEvent("id" + std::to_string(i)), "", kT + i);
  EXPECT_EQ(dedup.size(), 100u);
  dedup.Check(MakeEvent("later"), "", kT + 49 * kHour);
  EXPECT_EQ(dedup.size(), 1u);
}

TEST(Deduper, BoundEvictsTheOldestFirst) {
  DedupOptions options;
  options.max_entries = 3;
  Deduper dedup(options);
  for (const char* id : {"a", "b", "c", "d"}) {
    ASSERT_EQ(dedup.Check(MakeEvent(id), "", kT), Deduper::Verdict::kNew);
  }
  EXPECT_EQ(dedup.size(), 3u);
  EXPECT_EQ(dedup.Check(MakeEvent("d"), "", kT), Deduper::Verdict::kDuplicateId);
  EXPECT_EQ(dedup.Check(MakeEvent("c"), "", kT), Deduper::Verdict::kDuplicateId);
  EXPECT_EQ(dedup.Check(MakeEvent("b"), "", kT), Deduper::Verdict::kDuplicateId);
  EXPECT_EQ(dedup.Check(MakeEvent("a"), "", kT), Deduper::Verdict::kNew);  // was evicted
  EXPECT_EQ(dedup.size(), 3u);
}

TEST(Deduper, ClockSteppingBackDoesNotStretchTheWindow) {
  Deduper dedup(DedupOptions{});
  ASSERT_EQ(dedup.Check(MakeEvent("a"), "", kT), Deduper::Verdict::kNew);
  ASSERT_EQ(dedup.Check(MakeEvent("b"), "", kT - 10 * kHour), Deduper::Verdict::kNew);
  // "b" counts as seen at kT, the latest time, and expires with "a".
  EXPECT_EQ(dedup.Check(MakeEvent("c"), "", kT + 48 * kHour), Deduper::Verdict::kNew);
  EXPECT_EQ(dedup.size(), 1u);
}

TEST(Deduper, FingerprintCatchesSameActionWithDifferentIds) {
  Deduper dedup(WithFingerprint());
  ASSERT_EQ(dedup.Check(MakeEvent("a", "Clicked CTA", kT + 100), "ws1", kT),
            Deduper::Verdict::kNew);
  // Same name, user and second, another id: the same action sent twice.
  EXPECT_EQ(dedup.Check(MakeEvent("b", "Clicked CTA", kT + 999), "ws1", kT),
            Deduper::Verdict::kDuplicateContent);
  // The id check comes first.
  EXPECT_EQ(dedup.Check(MakeEvent("a", "Clicked CTA", kT + 100), "ws1", kT),
            Deduper::Verdict::kDuplicateId);
}

TEST(Deduper, FingerprintTellsApartDifferentSecondsNamesUsersAndWorkspaces) {
  Deduper dedup(WithFingerprint());
  ASSERT_EQ(dedup.Check(MakeEvent("a", "Clicked CTA", kT + 999), "ws1", kT),
            Deduper::Verdict::kNew);
  EXPECT_EQ(dedup.Check(MakeEvent("b", "Clicked CTA", kT + 1000), "ws1", kT),
            Deduper::Verdict::kNew);  // the next second
  EXPECT_EQ(dedup.Check(MakeEvent("c", "Clicked CTB", kT + 999), "ws1", kT),
            Deduper::Verdict::kNew);
  EXPECT_EQ(dedup.Check(MakeEvent("d", "Clicked CTA", kT + 999), "ws2", kT),
            Deduper::Verdict::kNew);
  Event other_user = MakeEvent("e", "Clicked CTA", kT + 999);
  other_user.user_id = "C-1";
  EXPECT_EQ(dedup.Check(other_user, "ws1", kT), Deduper::Verdict::kNew);
}

TEST(Deduper, WithoutFingerprintSameContentIsNew) {
  Deduper dedup(DedupOptions{});
  ASSERT_EQ(dedup.Check(MakeEvent("a"), "", kT), Deduper::Verdict::kNew);
  EXPECT_EQ(dedup.Check(MakeEvent("b"), "", kT), Deduper::Verdict::kNew);
}

TEST(ContentFingerprint, IsA128BitLowerHexDigest) {
  const std::string fp = ContentFingerprint(MakeEvent("a"), "ws");
  ASSERT_EQ(fp.size(), 32u);
  EXPECT_EQ(fp.find_first_not_of("0123456789abcdef"), std::string::npos) << fp;
  EXPECT_EQ(fp, ContentFingerprint(MakeEvent("b"), "ws"));  // the id is not part of it
}

TEST(ContentFingerprint, UsesTheAnonymousIdWhenThereIsNoUser) {
  Event anon = MakeEvent("a");
  anon.user_id.clear();
  anon.anonymous_id = "anon-1";
  Event anon2 = anon;
  anon2.anonymous_id = "anon-2";
  EXPECT_NE(ContentFingerprint(anon, ""), ContentFingerprint(anon2, ""));
  // A user id wins over the anonymous id.
  Event identified = MakeEvent("a");
  identified.anonymous_id = "anon-1";
  EXPECT_EQ(ContentFingerprint(identified, ""), ContentFingerprint(MakeEvent("a"), ""));
  // User "x" and anonymous visitor "x" are different people.
  Event user_x = MakeEvent("a");
  user_x.user_id = "x";
  Event anon_x = MakeEvent("a");
  anon_x.user_id.clear();
  anon_x.anonymous_id = "x";
  EXPECT_NE(ContentFingerprint(user_x, ""), ContentFingerprint(anon_x, ""));
}

TEST(ContentFingerprint, FramingKeepsFieldsFromRunningTogether) {
  Event a = MakeEvent("a", "ab");
  a.user_id = "c";
  Event b = MakeEvent("a", "a");
  b.user_id = "bc";
  EXPECT_NE(ContentFingerprint(a, ""), ContentFingerprint(b, ""));
  Event c = MakeEvent("a", "n");
  c.user_id = "u";
  EXPECT_NE(ContentFingerprint(c, "w"), ContentFingerprint(MakeEvent("a", "n"), ""));
  EXPECT_NE(ContentFingerprint(c, "x"), ContentFingerprint(c, "x "));
}

TEST(ContentFingerprint, TruncatesToTheSecondForTimesBeforeTheEpochToo) {
  EXPECT_EQ(ContentFingerprint(MakeEvent("a", "n", -1), ""),
            ContentFingerprint(MakeEvent("a", "n", -1000), ""));
  EXPECT_NE(ContentFingerprint(MakeEvent("a", "n", -1), ""),
            ContentFingerprint(MakeEvent("a", "n", 0), ""));
}

}  // namespace
}  // namespace tally
