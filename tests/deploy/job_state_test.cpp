#include "deploy/job_state.hpp"

#include <gtest/gtest.h>

namespace starling::deploy {
namespace {

JobProgress progress(std::int64_t total, std::int64_t done, int peers = 0) {
  JobProgress p;
  p.total = total;
  p.done = done;
  p.peers = peers;
  return p;
}

JobStatus fresh(std::int64_t seed_after = 0) {
  JobStatus s;
  s.id = "j1";
  s.created_at = 100;
  s.seed_after = seed_after;
  s.progress.total = 1000;
  return s;
}

TEST(JobMachine, HappyPathWithSeeding) {
  JobMachine m(fresh(30));
  EXPECT_TRUE(m.start(101));
  EXPECT_EQ(m.status().state, JobState::downloading);
  m.update(progress(1000, 500, 3));
  EXPECT_EQ(m.status().progress.done, 500);
  EXPECT_TRUE(m.verified(110, false));
  EXPECT_EQ(m.status().state, JobState::seeding);
  EXPECT_TRUE(m.status().delivered());
  EXPECT_DOUBLE_EQ(m.status().download_seconds(), 9);
  EXPECT_FALSE(m.tick(139));
  EXPECT_TRUE(m.tick(140));
  EXPECT_EQ(m.status().state, JobState::done);
  EXPECT_DOUBLE_EQ(m.status().finished_at, 140);
}

TEST(JobMachine, NoSeedingIsDoneAtOnce) {
  JobMachine m(fresh(0));
  m.start(1);
  m.verified(2, false);
  EXPECT_EQ(m.status().state, JobState::done);
}

TEST(JobMachine, HookMustSucceed) {
  JobMachine ok(fresh(0));
  ok.start(1);
  ok.verified(2, true);
  EXPECT_EQ(ok.status().state, JobState::seeding);  // waits for the hook
  EXPECT_FALSE(ok.status().delivered());
  EXPECT_TRUE(ok.hook_started());
  EXPECT_TRUE(ok.hook_finished(0, 3));
  EXPECT_EQ(ok.status().state, JobState::done);
  EXPECT_TRUE(ok.status().delivered());

  JobMachine bad(fresh(100));
  bad.start(1);
  bad.verified(2, true);
  bad.hook_started();
  bad.hook_finished(3, 4);
  EXPECT_EQ(bad.status().state, JobState::failed);
  EXPECT_EQ(bad.status().reason, "on_done command exited with status 3");
  EXPECT_FALSE(bad.status().delivered());
}

TEST(JobMachine, HookOverItsTimeLimitFailsTheJobOnce) {
  JobMachine m(fresh(0));
  m.start(1);
  EXPECT_FALSE(m.hook_timed_out(600, 2)) << "no hook running yet";
  m.verified(2, true);
  m.hook_started();
  EXPECT_TRUE(m.hook_timed_out(600, 603));
  EXPECT_EQ(m.status().state, JobState::failed);
  EXPECT_EQ(m.status().hook, HookState::failed);
  EXPECT_EQ(m.status().reason, "on_done command did not finish within 600 s and was killed");
  EXPECT_DOUBLE_EQ(m.status().finished_at, 603);
  EXPECT_FALSE(m.status().delivered());
  // The killed command's own exit, reported after, changes nothing.
  EXPECT_FALSE(m.hook_finished(137, 604));
  EXPECT_EQ(m.status().reason, "on_done command did not finish within 600 s and was killed");
}

TEST(JobMachine, FailureIsFinal) {
  JobMachine m(fresh());
  m.start(1);
  EXPECT_TRUE(m.fail("disk full", 5));
  EXPECT_FALSE(m.fail("other", 6));
  EXPECT_FALSE(m.verified(7, false));
  EXPECT_FALSE(m.start(8));
  m.update(progress(1000, 1000));
  EXPECT_EQ(m.status().reason, "disk full");
  EXPECT_EQ(m.status().progress.done, 0);
  EXPECT_FALSE(m.status().delivered());
}

TEST(JobMachine, OutOfOrderEventsAreRefused) {
  JobMachine m(fresh());
  EXPECT_FALSE(m.verified(1, false));  // not started
  EXPECT_FALSE(m.hook_started());
  EXPECT_FALSE(m.tick(5));
  EXPECT_EQ(m.status().state, JobState::queued);
}

TEST(JobMachine, RecoverAfterRestart) {
  JobMachine downloading(fresh());
  downloading.start(10);
  downloading.recover(20);
  EXPECT_EQ(downloading.status().state, JobState::queued);
  EXPECT_TRUE(downloading.start(21));
  EXPECT_DOUBLE_EQ(downloading.status().started_at, 10);  // the first start counts

  JobMachine hook(fresh());
  hook.start(1);
  hook.verified(2, true);
  hook.hook_started();
  hook.recover(3);
  EXPECT_EQ(hook.status().state, JobState::failed);
}

TEST(JobStatusJson, RoundTrips) {
  JobMachine m(fresh(5));
  m.start(1);
  JobProgress p = progress(1000, 250, 2);
  p.downloaded = 300;
  p.uploaded = 7;
  p.down_rate = 12.5;
  p.warning = "tracker: refused";
  p.downloaded_from = {{"10.0.0.1", 200}, {"10.0.0.2", 100}};
  m.update(p);
  JobStatus s = m.status();
  s.info_hash = "ab";
  s.name = "artifact.bin";
  s.dest = "rel";
  const std::string text = status_to_json(s);
  EXPECT_NE(text.find("\"state\":\"downloading\""), std::string::npos);
  EXPECT_NE(text.find("\"percent\":25.0"), std::string::npos);
  auto back = status_from_json(text);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->state, JobState::downloading);
  EXPECT_EQ(back->progress.done, 250);
  EXPECT_EQ(back->progress.downloaded, 300);
  EXPECT_EQ(back->progress.warning, "tracker: refused");
  EXPECT_EQ(back->progress.downloaded_from, p.downloaded_from);
  EXPECT_EQ(back->name, "artifact.bin");
  EXPECT_EQ(back->seed_after, 5);
  EXPECT_DOUBLE_EQ(back->started_at, 1);
  EXPECT_FALSE(status_from_json("{\"id\":\"x\",\"state\":\"bogus\"}"));
  EXPECT_FALSE(status_from_json("nope"));
  EXPECT_FALSE(status_from_json("{\"state\":\"done\"}"));
}

}  // namespace
}  // namespace starling::deploy
