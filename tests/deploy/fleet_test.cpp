#include "deploy/fleet.hpp"

#include <gtest/gtest.h>

namespace starling::deploy {
namespace {

std::vector<HostEntry> three() {
  return {{"10.0.0.1", 7000, "a", 1}, {"10.0.0.2", 7000, "a", 2}, {"10.0.0.3", 7000, "b", 3}};
}

std::string status(const std::string& state, double verified_at = 0,
                   const std::string& reason = "") {
  JobStatus s;
  s.id = "j";
  s.state = *job_state_from_string(state);
  s.verified_at = verified_at;
  s.started_at = verified_at > 0 ? 1000 : 0;
  s.reason = reason;
  return status_to_json(s);
}

TEST(Fleet, TracksHostsToTheEnd) {
  Fleet fleet(three(), 1000);
  fleet.submitted(0, 201, status("downloading"), 0.1);
  fleet.submitted(1, 403, R"({"error":"destination 'x': outside"})", 0.1);
  fleet.submit_failed(2, "connection refused", 0.2);
  EXPECT_FALSE(fleet.finished());
  EXPECT_TRUE(fleet.needs_poll(0));
  EXPECT_FALSE(fleet.needs_poll(1));
  fleet.polled(0, 200, status("downloading"), 2);
  EXPECT_FALSE(fleet.finished());
  fleet.polled(0, 200, status("seeding", 1004.5), 5);
  EXPECT_TRUE(fleet.finished());
  const auto& hosts = fleet.hosts();
  EXPECT_EQ(hosts[0].phase, HostPhase::delivered);
  EXPECT_DOUBLE_EQ(hosts[0].seconds, 4.5);  // the agent's verified_at, not our poll time
  EXPECT_EQ(hosts[1].phase, HostPhase::failed);
  EXPECT_EQ(hosts[1].reason, "job refused: HTTP 403: destination 'x': outside");
  EXPECT_EQ(hosts[2].phase, HostPhase::down);
  const auto s = fleet.summary();
  EXPECT_EQ(s.delivered, 1);
  ASSERT_EQ(s.not_delivered.size(), 2U);
  EXPECT_DOUBLE_EQ(s.max, 4.5);
}

TEST(Fleet, SilentAgentFailsAfterTheGrace) {
  Fleet fleet(three(), 1000, FleetSettings{.unreachable_after = 10});
  for (std::size_t i = 0; i < 3; ++i) fleet.submitted(i, 201, status("downloading"), 0);
  fleet.poll_failed(0, "connection refused", 5);
  EXPECT_EQ(fleet.hosts()[0].phase, HostPhase::running);
  fleet.poll_failed(0, "connection refused", 10.5);
  EXPECT_EQ(fleet.hosts()[0].phase, HostPhase::failed);
  EXPECT_NE(fleet.hosts()[0].reason.find("stopped answering"), std::string::npos);
  fleet.polled(1, 200, status("failed", 0, "disk write failed: No space left on device"), 3);
  EXPECT_EQ(fleet.hosts()[1].reason, "disk write failed: No space left on device");
  fleet.polled(2, 404, R"({"error":"no job 'j'"})", 3);
  EXPECT_EQ(fleet.hosts()[2].phase, HostPhase::failed);
  EXPECT_TRUE(fleet.finished());
  EXPECT_EQ(fleet.summary().delivered, 0);
}

TEST(Fleet, ClockSkewFallsBackToObservedTime) {
  Fleet fleet(three(), 1000);
  fleet.submitted(0, 201, status("seeding", 5000), 3);  // agent clock far ahead
  EXPECT_DOUBLE_EQ(fleet.hosts()[0].seconds, 3);
}

TEST(Fleet, SplitsTrafficByRack) {
  Fleet fleet(three(), 1000);
  JobStatus s;
  s.id = "j";
  s.state = JobState::downloading;
  s.progress.downloaded_from = {{"10.0.0.9", 100}, {"10.0.0.2", 20}, {"10.0.0.3", 5}};
  fleet.submitted(0, 201, status_to_json(s), 1);  // rack a: .2 same rack, .3 other
  s.progress.downloaded_from = {{"10.0.0.1", 7}};
  fleet.submitted(2, 201, status_to_json(s), 1);  // rack b: .1 other
  const std::map<std::string, std::string> racks = {
      {"10.0.0.1", "a"}, {"10.0.0.2", "a"}, {"10.0.0.3", "b"}};
  const auto split = split_traffic(fleet.hosts(), racks, "10.0.0.9");
  EXPECT_EQ(split.from_origin, 100);
  EXPECT_EQ(split.same_rack, 20);
  EXPECT_EQ(split.cross_rack, 12);
}

}  // namespace
}  // namespace starling::deploy
