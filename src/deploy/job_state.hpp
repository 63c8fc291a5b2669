// A job's life on an agent: queued -> downloading -> seeding -> done, or failed (with the
// reason) from any state before done. The agent feeds it events with the time; the JSON form is
// what GET /v1/jobs/ID answers, what the agent saves to survive a restart, and what `deploy`
// reads back. Sans-IO: times are unix seconds passed in.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/expected.hpp"

namespace starling::deploy {

enum class JobState { queued, downloading, seeding, done, failed };
std::string_view to_string(JobState state);
std::optional<JobState> job_state_from_string(std::string_view text);

// The on_done command's outcome.
enum class HookState { none, pending, running, ok, failed };
std::string_view to_string(HookState state);

struct JobProgress {
  std::int64_t total = 0;  // bytes to verify
  std::int64_t done = 0;   // verified
  std::int64_t downloaded = 0;
  std::int64_t uploaded = 0;
  double down_rate = 0;  // bytes/s
  double up_rate = 0;
  int peers = 0;
  int hash_failures = 0;  // pieces that failed the hash check (re-fetched)
  std::string warning;    // e.g. the tracker's last error while no peer is connected
  std::map<std::string, std::int64_t> downloaded_from;  // payload bytes by peer address
};

struct JobStatus {
  std::string id;
  std::string info_hash;  // hex
  std::string name;       // the torrent's name
  std::string dest;
  JobState state = JobState::queued;
  std::string reason;  // why it failed
  JobProgress progress;
  HookState hook = HookState::none;
  int hook_exit = 0;
  double created_at = 0;   // unix seconds
  double started_at = 0;   // download started (0: not yet)
  double verified_at = 0;  // every piece verified (0: not yet)
  double seed_until = 0;   // seeding ends (0: not seeding)
  double finished_at = 0;  // done or failed
  std::int64_t seed_after = 0;

  bool terminal() const { return state == JobState::done || state == JobState::failed; }
  // The artifact is on disk, verified, and its on_done (if any) succeeded.
  bool delivered() const {
    return verified_at > 0 && state != JobState::failed &&
           (hook == HookState::none || hook == HookState::ok);
  }
  // Seconds from start to verification (0 when not verified).
  double download_seconds() const { return verified_at > 0 ? verified_at - started_at : 0; }
};

// Applies events to a JobStatus; an event that makes no sense in the current state is refused
// (returns false) and changes nothing, so a late callback cannot resurrect a failed job.
class JobMachine {
 public:
  explicit JobMachine(JobStatus status) : s_(std::move(status)) {}
  const JobStatus& status() const { return s_; }

  bool start(double now);
  void update(const JobProgress& progress);  // ignored once terminal
  // Every piece verified. With an on_done command the hook becomes pending; seeding lasts
  // seed_after seconds (0: done at once, after the hook).
  bool verified(double now, bool has_hook);
  bool hook_started();
  bool hook_finished(int exit_code, double now);
  // The on_done command ran past its time limit and was killed: the job fails, saying so.
  bool hook_timed_out(double limit_seconds, double now);
  // Time passes: seeding ends at seed_until (once the hook is over).
  bool tick(double now);
  bool fail(std::string reason, double now);
  // After a restart: a job caught mid-download goes back to queued to be resumed; a job caught
  // seeding keeps seeding until its seed_until; a hook caught running counts as failed.
  void recover(double now);

 private:
  void maybe_done(double now);
  JobStatus s_;
};

std::string status_to_json(const JobStatus& status);
Expected<JobStatus> status_from_json(std::string_view text);

}  // namespace starling::deploy
