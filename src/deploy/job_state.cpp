#include "deploy/job_state.hpp"

#include <array>
#include <nlohmann/json.hpp>

namespace starling::deploy {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::array<std::string_view, 5> kStates = {"queued", "downloading", "seeding", "done",
                                                     "failed"};
constexpr std::array<std::string_view, 5> kHooks = {"none", "pending", "running", "ok", "failed"};

}  // namespace

std::string_view to_string(JobState state) {
  return kStates[static_cast<std::size_t>(state)];
}

std::optional<JobState> job_state_from_string(std::string_view text) {
  for (std::size_t i = 0; i < kStates.size(); ++i) {
    if (kStates[i] == text) return static_cast<JobState>(i);
  }
  return std::nullopt;
}

std::string_view to_string(HookState state) {
  return kHooks[static_cast<std::size_t>(state)];
}

bool JobMachine::start(double now) {
  if (s_.state != JobState::queued) return false;
  s_.state = JobState::downloading;
  if (s_.started_at == 0) s_.started_at = now;  // a resumed job keeps its first start
  return true;
}

void JobMachine::update(const JobProgress& progress) {
  if (s_.terminal()) return;
  s_.progress = progress;
}

bool JobMachine::verified(double now, bool has_hook) {
  if (s_.state != JobState::downloading) return false;
  s_.state = JobState::seeding;
  s_.verified_at = now;
  s_.progress.done = s_.progress.total;
  s_.seed_until = now + static_cast<double>(s_.seed_after);
  s_.hook = has_hook ? HookState::pending : HookState::none;
  maybe_done(now);
  return true;
}

bool JobMachine::hook_started() {
  if (s_.hook != HookState::pending || s_.terminal()) return false;
  s_.hook = HookState::running;
  return true;
}

bool JobMachine::hook_finished(int exit_code, double now) {
  if (s_.hook != HookState::running || s_.terminal()) return false;
  s_.hook_exit = exit_code;
  if (exit_code != 0) {
    s_.hook = HookState::failed;
    s_.state = JobState::failed;
    s_.reason = "on_done command exited with status " + std::to_string(exit_code);
    s_.finished_at = now;
    return true;
  }
  s_.hook = HookState::ok;
  maybe_done(now);
  return true;
}

bool JobMachine::hook_timed_out(double limit_seconds, double now) {
  if (s_.hook != HookState::running || s_.terminal()) return false;
  s_.hook = HookState::failed;
  s_.hook_exit = 128 + 9;  // SIGKILL
  s_.state = JobState::failed;
  s_.reason = "on_done command did not finish within " +
              std::to_string(static_cast<std::int64_t>(limit_seconds)) + " s and was killed";
  s_.finished_at = now;
  return true;
}

bool JobMachine::tick(double now) {
  if (s_.state != JobState::seeding) return false;
  const JobState before = s_.state;
  maybe_done(now);
  return s_.state != before;
}

bool JobMachine::fail(std::string reason, double now) {
  if (s_.terminal()) return false;
  s_.state = JobState::failed;
  s_.reason = std::move(reason);
  s_.finished_at = now;
  if (s_.hook == HookState::pending || s_.hook == HookState::running) s_.hook = HookState::failed;
  return true;
}

void JobMachine::recover(double now) {
  if (s_.terminal()) return;
  if (s_.hook == HookState::running) {
    fail("the agent restarted while the on_done command ran", now);
    return;
  }
  if (s_.state == JobState::downloading) s_.state = JobState::queued;
  s_.progress.down_rate = 0;
  s_.progress.up_rate = 0;
  s_.progress.peers = 0;
}

void JobMachine::maybe_done(double now) {
  if (s_.state != JobState::seeding) return;
  const bool hook_over = s_.hook == HookState::none || s_.hook == HookState::ok;
  if (hook_over && now >= s_.seed_until) {
    s_.state = JobState::done;
    s_.finished_at = now;
  }
}

std::string status_to_json(const JobStatus& s) {
  const double percent = s.progress.total > 0 ? 100.0 * static_cast<double>(s.progress.done) /
                                                    static_cast<double>(s.progress.total)
                                              : (s.verified_at > 0 ? 100.0 : 0.0);
  Json j{{"id", s.id},
         {"state", to_string(s.state)},
         {"reason", s.reason},
         {"info_hash", s.info_hash},
         {"name", s.name},
         {"dest", s.dest},
         {"total", s.progress.total},
         {"done", s.progress.done},
         {"percent", percent},
         {"downloaded", s.progress.downloaded},
         {"uploaded", s.progress.uploaded},
         {"down_rate", s.progress.down_rate},
         {"up_rate", s.progress.up_rate},
         {"peers", s.progress.peers},
         {"hash_failures", s.progress.hash_failures},
         {"warning", s.progress.warning},
         {"downloaded_from", s.progress.downloaded_from},
         {"on_done", to_string(s.hook)},
         {"on_done_exit", s.hook_exit},
         {"created_at", s.created_at},
         {"started_at", s.started_at},
         {"verified_at", s.verified_at},
         {"seed_until", s.seed_until},
         {"finished_at", s.finished_at},
         {"seed_after", s.seed_after},
         {"delivered", s.delivered()},
         {"download_seconds", s.download_seconds()}};
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Expected<JobStatus> status_from_json(std::string_view text) {
  const Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return Error(Errc::invalid_argument, "job status: not a JSON object");
  }
  JobStatus s;
  try {
    s.id = j.at("id").get<std::string>();
    const auto state = job_state_from_string(j.at("state").get<std::string>());
    if (!state) return Error(Errc::invalid_argument, "job status: unknown state");
    s.state = *state;
    s.reason = j.value("reason", "");
    s.info_hash = j.value("info_hash", "");
    s.name = j.value("name", "");
    s.dest = j.value("dest", "");
    s.progress.total = j.value("total", std::int64_t{0});
    s.progress.done = j.value("done", std::int64_t{0});
    s.progress.downloaded = j.value("downloaded", std::int64_t{0});
    s.progress.uploaded = j.value("uploaded", std::int64_t{0});
    s.progress.down_rate = j.value("down_rate", 0.0);
    s.progress.up_rate = j.value("up_rate", 0.0);
    s.progress.peers = j.value("peers", 0);
    s.progress.hash_failures = j.value("hash_failures", 0);
    s.progress.warning = j.value("warning", "");
    if (const auto it = j.find("downloaded_from"); it != j.end() && it->is_object()) {
      for (const auto& [address, bytes] : it->items()) {
        if (bytes.is_number_integer())
          s.progress.downloaded_from[address] = bytes.get<std::int64_t>();
      }
    }
    const std::string hook = j.value("on_done", "none");
    for (std::size_t i = 0; i < kHooks.size(); ++i) {
      if (kHooks[i] == hook) s.hook = static_cast<HookState>(i);
    }
    s.hook_exit = j.value("on_done_exit", 0);
    s.created_at = j.value("created_at", 0.0);
    s.started_at = j.value("started_at", 0.0);
    s.verified_at = j.value("verified_at", 0.0);
    s.seed_until = j.value("seed_until", 0.0);
    s.finished_at = j.value("finished_at", 0.0);
    s.seed_after = j.value("seed_after", std::int64_t{0});
  } catch (const Json::exception& e) {
    return Error(Errc::invalid_argument, std::string("job status: ") + e.what());
  }
  return s;
}

}  // namespace starling::deploy
