// `starling agent`'s core: the jobs API (sans-HTTP: method, target and body in; status and JSON
// out) and the jobs themselves, each a torrent on the engine's Session. Everything runs on the
// Session's network thread. Job records (the signed document and the last status) live under
// ROOT/.starling-agent/, with each job's resume file, so a restarted agent picks up where it
// was: unfinished downloads resume, seeding continues until its deadline, finished jobs are
// still reported.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "core/bitfield.hpp"
#include "core/expected.hpp"
#include "deploy/job_document.hpp"
#include "deploy/job_state.hpp"
#include "metainfo/torrent_info.hpp"

namespace starling::session {
class Session;
class Torrent;
}  // namespace starling::session

namespace starling::deploy {

struct AgentSettings {
  std::filesystem::path root;        // every destination lies below it
  std::string secret;                // the HMAC key shared with `deploy`
  std::int64_t replay_window = 300;  // seconds a signed job stays acceptable
  // A download with no verified byte for this long fails, naming what it saw (peers, tracker
  // error, hash failures), rather than hanging forever.
  std::chrono::seconds stall_timeout{120};
  // The on_done command is killed (its whole process group) after this long, and the job fails.
  std::chrono::seconds hook_timeout{600};
  std::size_t max_jobs = 256;  // records kept (finished ones are dropped oldest first)
  std::chrono::milliseconds tick{500};
};

struct ApiReply {
  int status = 200;
  std::string body;  // JSON
};

class Agent {
 public:
  Agent(session::Session& session, AgentSettings settings);
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Creates the state directory and reloads saved jobs; starts the housekeeping timer.
  Status start();
  // Stops every torrent and saves every record (the process is about to exit).
  void stop();

  // POST /v1/jobs, GET /v1/jobs, GET /v1/jobs/ID, DELETE /v1/jobs/ID, GET /v1/health.
  ApiReply handle(std::string_view method, std::string_view target, std::string_view body);

  std::filesystem::path state_dir() const { return state_dir_; }

  // Clock for job times (unix seconds); tests replace it.
  std::function<double()> now = [] {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  };

 private:
  struct Job;
  ApiReply submit(std::string_view body);
  ApiReply cancel(const std::string& id);
  void launch(Job& job);
  // launch()'s second half, once what is already on disk is known (`verified`).
  void start_torrent(Job& job, const Bitfield& verified);
  void on_verified(const std::string& id);
  void run_hook(Job& job);
  void finish_torrent(Job& job);
  void fail(Job& job, const std::string& reason);
  void schedule_tick();
  void tick();
  void save(const Job& job) const;
  void load_saved();
  void prune();
  std::filesystem::path record_path(const std::string& id) const;
  std::filesystem::path resume_path(const std::string& id) const;

  session::Session& session_;
  AgentSettings settings_;
  std::filesystem::path real_root_;
  std::filesystem::path state_dir_;
  ReplayGuard replay_;
  std::map<std::string, std::unique_ptr<Job>> jobs_;
  boost::asio::steady_timer timer_;
  std::shared_ptr<int> life_ = std::make_shared<int>(0);
  bool stopped_ = false;
};

}  // namespace starling::deploy
