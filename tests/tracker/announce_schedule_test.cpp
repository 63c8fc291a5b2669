#include "tracker/announce_schedule.hpp"

#include <gtest/gtest.h>

namespace starling::tracker {
namespace {

using std::chrono::seconds;
using Tiers = std::vector<std::vector<std::string>>;

const AnnounceSchedule::Clock::time_point kT0{seconds(1000)};

TEST(AnnounceSchedule, DropsEmptyTiersAndRepeatedUrls) {
  AnnounceSchedule s(Tiers{{}, {"a", "b"}, {"b", ""}, {"c", "a"}});
  EXPECT_EQ(s.tiers(), (Tiers{{"a", "b"}, {"c"}}));
  EXPECT_TRUE(AnnounceSchedule(Tiers{{}, {""}}).empty());
}

TEST(AnnounceSchedule, TriesTrackersTierByTierUntilOneAnswers) {
  AnnounceSchedule s(Tiers{{"a1", "a2"}, {"b1"}});
  EXPECT_EQ(s.current(), "a1");
  EXPECT_TRUE(s.on_failure(kT0));
  EXPECT_EQ(s.current(), "a2");
  EXPECT_TRUE(s.on_failure(kT0));
  EXPECT_EQ(s.current(), "b1");
  s.on_success(kT0, seconds(300));
  EXPECT_EQ(s.next_round(), kT0 + seconds(300));
  // The next round starts from the first tier again.
  EXPECT_EQ(s.current(), "a1");
}

TEST(AnnounceSchedule, TrackerThatAnsweredMovesToTheFrontOfItsTier) {
  AnnounceSchedule s(Tiers{{"a", "b", "c"}, {"d"}});
  EXPECT_TRUE(s.on_failure(kT0));
  EXPECT_TRUE(s.on_failure(kT0));
  s.on_success(kT0, seconds(60));  // "c" answered
  EXPECT_EQ(s.tiers(), (Tiers{{"c", "a", "b"}, {"d"}}));
  EXPECT_EQ(s.current(), "c");
}

TEST(AnnounceSchedule, FailedRoundsBackOffExponentiallyUpToTheCap) {
  ScheduleSettings settings;
  settings.retry_initial = seconds(15);
  settings.retry_max = seconds(100);
  AnnounceSchedule s(Tiers{{"a"}, {"b"}}, settings);
  const seconds want[] = {seconds(15), seconds(30), seconds(60), seconds(100), seconds(100)};
  for (const seconds wait : want) {
    EXPECT_TRUE(s.on_failure(kT0));   // "a" failed, "b" is next
    EXPECT_FALSE(s.on_failure(kT0));  // "b" failed too: the round is over
    EXPECT_EQ(s.next_round(), kT0 + wait);
    EXPECT_EQ(s.current(), "a");
  }
  EXPECT_EQ(s.failed_rounds(), 5);
  s.on_success(kT0, seconds(1800));
  EXPECT_EQ(s.failed_rounds(), 0);
}

TEST(AnnounceSchedule, IntervalHonoursMinIntervalAndTheFloor) {
  ScheduleSettings settings;
  settings.default_interval = seconds(1800);
  settings.min_interval = seconds(10);
  AnnounceSchedule s(Tiers{{"a"}}, settings);
  s.on_success(kT0, std::nullopt);
  EXPECT_EQ(s.next_round(), kT0 + seconds(1800));  // no interval given: the default
  s.on_success(kT0, seconds(0));
  EXPECT_EQ(s.next_round(), kT0 + seconds(10));  // a tracker cannot make us hammer it
  s.on_success(kT0, seconds(60), seconds(120));
  EXPECT_EQ(s.next_round(), kT0 + seconds(120));  // "min interval" wins over a shorter one
}

}  // namespace
}  // namespace starling::tracker
