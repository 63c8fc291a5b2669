// The agent's API and job life without HTTP: requests go straight to Agent::handle, the data is
// already at the destination (so no peer is needed), and the Session's io_context is run by
// hand until the job settles.
#include "deploy/agent.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "metainfo/torrent_creator.hpp"
#include "session/session.hpp"
#include "support/temp_dir.hpp"

namespace starling::deploy {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;
using Json = nlohmann::json;

constexpr std::string_view kSecret = "correct horse battery staple";

struct Fixture {
  TempDir root;
  TempDir source;
  std::string torrent;
  std::string content = std::string(100'000, 'x') + "tail";

  Fixture() {
    testing::write_file(source.path() / "app.bin", content);
    CreateOptions options;
    options.source = source.path() / "app.bin";
    options.piece_length = 16384;
    auto created = create_torrent(options);
    EXPECT_TRUE(created);
    torrent = created->bytes;
  }

  JobSpec job(const std::string& id, const std::string& dest, std::int64_t issued_at) const {
    JobSpec j;
    j.id = id;
    j.torrent = torrent;
    j.dest = dest;
    j.issued_at = issued_at;
    j.nonce = random_nonce();
    return j;
  }
  // Puts the artifact where the job will look, so it verifies without a peer.
  void place(const std::string& dest) const {
    testing::write_file(root.path() / dest / "app.bin", content);
  }
};

// A session on any free port (named, not a default argument: GCC 12 then warns about the
// settings' strings being maybe-uninitialized).
session::SessionSettings session_settings() {
  session::SessionSettings settings;
  return settings;
}

struct Harness {
  session::Session session{session_settings()};
  Agent agent;
  double clock = 1'700'000'000;
  explicit Harness(const fs::path& root,
                   std::chrono::seconds hook_timeout = std::chrono::seconds(600))
      : agent(session, AgentSettings{.root = root,
                                     .secret = std::string(kSecret),
                                     .hook_timeout = hook_timeout,
                                     .tick = std::chrono::milliseconds(20)}) {
    agent.now = [this] { return clock; };
    EXPECT_TRUE(agent.start());
  }
  ~Harness() { agent.stop(); }
  // Runs the network thread for a while (hash jobs, ticks).
  void run_for(std::chrono::milliseconds d) {
    session.io().restart();
    session.io().run_for(d);
  }
  Json get(const std::string& id) {
    const auto reply = agent.handle("GET", "/v1/jobs/" + id, "");
    EXPECT_EQ(reply.status, 200) << reply.body;
    return Json::parse(reply.body);
  }
  // Runs until the job leaves `state` (or 5 s pass). Waiting out `downloading` also waits out
  // `queued`, which comes before it (a job hashing what is already on disk is queued).
  Json wait_while(const std::string& id, const std::string& state) {
    for (int i = 0; i < 250; ++i) {
      auto j = get(id);
      if (j["state"] != state && !(state == "downloading" && j["state"] == "queued")) return j;
      run_for(std::chrono::milliseconds(20));
    }
    return get(id);
  }
};

TEST(Agent, RefusesBadHmacWithoutTouchingDisk) {
  Fixture f;
  Harness h(f.root.path());
  const auto reply =
      h.agent.handle("POST", "/v1/jobs", encode_job(f.job("j1", "rel", 1'700'000'000), "wrong"));
  EXPECT_EQ(reply.status, 401);
  EXPECT_NE(reply.body.find("bad HMAC"), std::string::npos);
  EXPECT_FALSE(fs::exists(f.root.path() / "rel"));
  EXPECT_EQ(h.agent.handle("GET", "/v1/jobs/j1", "").status, 404);
}

TEST(Agent, RefusesDestinationsOutsideRoot) {
  Fixture f;
  TempDir outside;
  fs::create_directory_symlink(outside.path(), f.root.path() / "link");
  Harness h(f.root.path());
  for (const std::string dest : {"../escape", "/tmp/x", "link/sub", ".starling-agent"}) {
    auto job = f.job("j-" + std::to_string(dest.size()), dest, 1'700'000'000);
    const auto reply = h.agent.handle("POST", "/v1/jobs", encode_job(job, kSecret));
    EXPECT_EQ(reply.status, 403) << dest << ": " << reply.body;
  }
  EXPECT_TRUE(fs::is_empty(outside.path()));
}

TEST(Agent, RefusesReplaysAndStaleJobs) {
  Fixture f;
  Harness h(f.root.path());
  auto stale = f.job("old", "rel", 1'700'000'000 - 3600);
  EXPECT_EQ(h.agent.handle("POST", "/v1/jobs", encode_job(stale, kSecret)).status, 403);
  f.place("rel");
  auto job = f.job("j1", "rel", 1'700'000'000);
  const std::string doc = encode_job(job, kSecret);
  EXPECT_EQ(h.agent.handle("POST", "/v1/jobs", doc).status, 201);
  // The same document again is the same job (a retried POST), not a second run.
  EXPECT_EQ(h.agent.handle("POST", "/v1/jobs", doc).status, 200);
  EXPECT_EQ(h.wait_while("j1", "downloading")["state"], "done");
  // The same nonce under another id is a replay.
  job.id = "j2";
  EXPECT_EQ(h.agent.handle("POST", "/v1/jobs", encode_job(job, kSecret)).status, 403);
}

TEST(Agent, DataAlreadyPresentVerifiesAndSeedsThenDone) {
  Fixture f;
  f.place("rel");
  Harness h(f.root.path());
  auto job = f.job("j1", "rel", 1'700'000'000);
  job.seed_after = 10;
  const auto reply = h.agent.handle("POST", "/v1/jobs", encode_job(job, kSecret));
  ASSERT_EQ(reply.status, 201) << reply.body;
  // The data on disk is hashed on a thread of its own: the answer comes before the result.
  const auto first = Json::parse(reply.body);
  EXPECT_EQ(first["state"], "queued") << reply.body;
  EXPECT_EQ(first["warning"], "checking the data already at the destination");
  auto status = h.wait_while("j1", "downloading");
  EXPECT_EQ(status["state"], "seeding") << status.dump();
  EXPECT_EQ(status["done"], f.content.size());
  EXPECT_TRUE(status["delivered"].get<bool>());
  EXPECT_EQ(status["warning"], "");
  const auto info_hash = parse_torrent(f.torrent)->info_hash;
  EXPECT_NE(h.session.find_torrent(info_hash), nullptr);
  h.clock += 11;
  status = h.wait_while("j1", "seeding");
  EXPECT_EQ(status["state"], "done");
  // Over: the torrent has left the engine.
  EXPECT_EQ(h.session.find_torrent(info_hash), nullptr);
  EXPECT_EQ(h.session.torrent_count(), 0U);
  const auto list = Json::parse(h.agent.handle("GET", "/v1/jobs", "").body);
  ASSERT_EQ(list["jobs"].size(), 1U);
}

TEST(Agent, OnDoneRunsInTheDestinationAndItsFailureFailsTheJob) {
  Fixture f;
  f.place("a");
  f.place("b");
  Harness h(f.root.path());
  auto good = f.job("good", "a", 1'700'000'000);
  good.on_done = "test -f app.bin && echo \"$STARLING_JOB_ID\" > hook.out";
  ASSERT_EQ(h.agent.handle("POST", "/v1/jobs", encode_job(good, kSecret)).status, 201);
  auto bad = f.job("bad", "b", 1'700'000'000);
  bad.on_done = "exit 7";
  ASSERT_EQ(h.agent.handle("POST", "/v1/jobs", encode_job(bad, kSecret)).status, 409)
      << "same torrent twice at once";
  auto status = h.wait_while("good", "downloading");
  status = h.wait_while("good", "seeding");
  EXPECT_EQ(status["state"], "done") << status.dump();
  EXPECT_EQ(status["on_done"], "ok");
  std::ifstream out(f.root.path() / "a" / "hook.out");
  std::string line;
  std::getline(out, line);
  EXPECT_EQ(line, "good");
  // Now the torrent is free again.
  ASSERT_EQ(h.agent.handle("POST", "/v1/jobs", encode_job(bad, kSecret)).status, 201);
  h.wait_while("bad", "downloading");
  status = h.wait_while("bad", "seeding");
  EXPECT_EQ(status["state"], "failed");
  EXPECT_EQ(status["reason"], "on_done command exited with status 7");
  EXPECT_FALSE(status["delivered"].get<bool>());
}

TEST(Agent, OnDoneOverItsTimeLimitIsKilledWithWhatItStarted) {
  Fixture f;
  f.place("a");
  Harness h(f.root.path(), std::chrono::seconds(5));
  auto job = f.job("slow", "a", 1'700'000'000);
  job.on_done = "sleep 60 & echo $! > child.pid; wait";
  ASSERT_EQ(h.agent.handle("POST", "/v1/jobs", encode_job(job, kSecret)).status, 201);
  auto status = h.wait_while("slow", "downloading");
  const fs::path pid_file = f.root.path() / "a" / "child.pid";
  for (int i = 0; i < 250 && !fs::exists(pid_file); ++i) h.run_for(std::chrono::milliseconds(20));
  h.run_for(std::chrono::milliseconds(100));
  EXPECT_EQ(h.get("slow")["on_done"], "running");
  std::ifstream in(pid_file);
  pid_t child = 0;
  in >> child;
  ASSERT_GT(child, 0);
  h.clock += 6;
  status = h.wait_while("slow", "seeding");
  EXPECT_EQ(status["state"], "failed") << status.dump();
  EXPECT_EQ(status["reason"], "on_done command did not finish within 5 s and was killed");
  EXPECT_EQ(status["on_done"], "failed");
  // The command's own child went with it (the whole process group was killed).
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    std::ifstream stat("/proc/" + std::to_string(child) + "/stat");
    std::string text;
    std::getline(stat, text);
    gone = !stat || text.find(") Z") != std::string::npos;
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(gone) << "pid " << child << " still runs";
}

TEST(Agent, StallsAreReportedWithWhatWasSeen) {
  Fixture f;
  Harness h(f.root.path());
  auto job = f.job("lonely", "rel", 1'700'000'000);  // no data, no peer, no tracker
  ASSERT_EQ(h.agent.handle("POST", "/v1/jobs", encode_job(job, kSecret)).status, 201);
  h.run_for(std::chrono::milliseconds(50));
  EXPECT_EQ(h.get("lonely")["state"], "downloading");
  h.clock += 121;
  const auto status = h.wait_while("lonely", "downloading");
  EXPECT_EQ(status["state"], "failed");
  EXPECT_NE(status["reason"].get<std::string>().find("no progress for 120 s"), std::string::npos)
      << status.dump();
}

TEST(Agent, CancelWithDelete) {
  Fixture f;
  Harness h(f.root.path());
  ASSERT_EQ(h.agent.handle("POST", "/v1/jobs", encode_job(f.job("j", "r", 1'700'000'000), kSecret))
                .status,
            201);
  const auto reply = h.agent.handle("DELETE", "/v1/jobs/j", "");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(h.get("j")["state"], "failed");
  EXPECT_EQ(h.agent.handle("PUT", "/v1/jobs/j", "").status, 405);
  EXPECT_EQ(h.agent.handle("GET", "/nope", "").status, 404);
}

TEST(Agent, SurvivesRestart) {
  Fixture f;
  f.place("rel");
  {
    Harness h(f.root.path());
    auto job = f.job("j1", "rel", 1'700'000'000);
    job.seed_after = 3600;
    ASSERT_EQ(h.agent.handle("POST", "/v1/jobs", encode_job(job, kSecret)).status, 201);
    EXPECT_EQ(h.wait_while("j1", "downloading")["state"], "seeding");
    auto pending = f.job("j2", "other", 1'700'000'000);
    pending.torrent = f.torrent;  // same torrent: refused while j1 seeds
    EXPECT_EQ(h.agent.handle("POST", "/v1/jobs", encode_job(pending, kSecret)).status, 409);
  }
  Harness again(f.root.path());
  again.clock += 100;
  auto status = again.get("j1");
  EXPECT_EQ(status["state"], "seeding") << status.dump();
  EXPECT_DOUBLE_EQ(status["seed_until"].get<double>(), 1'700'000'000 + 3600.0);
  again.clock += 3600;
  status = again.wait_while("j1", "seeding");
  EXPECT_EQ(status["state"], "done");
  // A record signed with another secret does not verify after a restart with a new one.
}

TEST(Agent, RestartWithAnotherSecretFailsSavedJobs) {
  Fixture f;
  {
    Harness h(f.root.path());
    ASSERT_EQ(
        h.agent.handle("POST", "/v1/jobs", encode_job(f.job("j", "r", 1'700'000'000), kSecret))
            .status,
        201);
  }
  session::Session session{session_settings()};
  Agent agent(session, AgentSettings{.root = f.root.path(), .secret = "rotated"});
  ASSERT_TRUE(agent.start());
  const auto status = Json::parse(agent.handle("GET", "/v1/jobs/j", "").body);
  EXPECT_EQ(status["state"], "failed");
  EXPECT_NE(status["reason"].get<std::string>().find("no longer verifies"), std::string::npos);
  agent.stop();
}

}  // namespace
}  // namespace starling::deploy
