#include "deploy/agent.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <csignal>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "deploy/destination.hpp"
#include "net/host_port.hpp"
#include "session/session.hpp"
#include "storage/piece_hasher.hpp"
#include "storage/resume_data.hpp"

extern char** environ;  // NOLINT: POSIX

namespace starling::deploy {
namespace fs = std::filesystem;
namespace {

using Json = nlohmann::ordered_json;

constexpr double kSaveEvery = 5.0;  // seconds between progress saves of a running job

ApiReply error_reply(int status, const std::string& message) {
  return {status, Json{{"error", message}}.dump(-1, ' ', false, Json::error_handler_t::replace)};
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Written beside the target and renamed over it: a crash leaves the old or the new record.
bool write_atomically(const fs::path& path, const std::string& text) {
  const fs::path temp = path.string() + ".tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) return false;
  }
  std::error_code ec;
  fs::rename(temp, path, ec);
  return !ec;
}

// Runs `/bin/sh -c command` in `dir` with the job's variables added; returns its exit status
// (128 + signal when killed, 127 when it could not start). Records the child's pid, which is
// also its process group, in `pid`.
int run_shell(const std::string& command, const fs::path& dir,
              const std::vector<std::string>& extra_env, std::atomic<pid_t>& pid) {
  std::vector<std::string> env_strings = extra_env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) env_strings.emplace_back(*e);
  std::vector<char*> envp;
  envp.reserve(env_strings.size() + 1);
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string sh = "/bin/sh";
  std::string dash_c = "-c";
  std::string cmd = command;
  char* argv[] = {sh.data(), dash_c.data(), cmd.data(), nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addchdir_np(&actions, dir.c_str());
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  // Its own process group, so a timeout or a stop reaches whatever the command started too.
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attributes, 0);
  pid_t child = 0;
  const int spawned = posix_spawn(&child, sh.c_str(), &actions, &attributes, argv, envp.data());
  posix_spawnattr_destroy(&attributes);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) return 127;
  pid = child;
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  pid = 0;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 127;
}

}  // namespace

struct Agent::Job {
  JobSpec spec;
  std::string document;  // the signed document as received (kept to re-verify after restart)
  std::string hmac;
  JobMachine machine;
  TorrentInfo info;
  fs::path dir;                         // the resolved destination
  session::Torrent* torrent = nullptr;  // while it runs (owned by the Session)
  double last_progress_at = 0;
  std::int64_t last_done = -1;
  double last_saved = 0;
  std::unique_ptr<std::thread> hook;
  std::atomic<pid_t> hook_pid{0};
  double hook_started_at = 0;
  bool hook_killed = false;              // by the time limit
  std::unique_ptr<std::thread> checker;  // hashes what is on disk before the download starts

  Job(JobSpec s, std::string doc, std::string mac, JobStatus status, TorrentInfo i, fs::path d)
      : spec(std::move(s)),
        document(std::move(doc)),
        hmac(std::move(mac)),
        machine(std::move(status)),
        info(std::move(i)),
        dir(std::move(d)) {}
};

Agent::Agent(session::Session& session, AgentSettings settings)
    : session_(session),
      settings_(std::move(settings)),
      replay_(settings_.replay_window),
      timer_(session.io()) {}

Agent::~Agent() {
  try {
    stop();
  } catch (const std::exception&) {  // NOLINT(bugprone-empty-catch): a failed save at exit
  }
}

fs::path Agent::record_path(const std::string& id) const {
  return state_dir_ / "jobs" / (id + ".json");
}

fs::path Agent::resume_path(const std::string& id) const {
  return state_dir_ / "resume" / (id + ".resume");
}

Status Agent::start() {
  std::error_code ec;
  real_root_ = fs::canonical(settings_.root, ec);
  if (ec) return Error(ec, "--root " + settings_.root.string());
  state_dir_ = real_root_ / ".starling-agent";
  fs::create_directories(state_dir_ / "jobs", ec);
  if (!ec) fs::create_directories(state_dir_ / "resume", ec);
  if (ec) return Error(ec, state_dir_.string());
  load_saved();
  schedule_tick();
  return ok();
}

void Agent::stop() {
  if (stopped_) return;
  stopped_ = true;
  timer_.cancel();
  for (auto& [id, job] : jobs_) {
    if (job->hook) {
      if (const pid_t pid = job->hook_pid.load(); pid > 0) ::kill(-pid, SIGTERM);
      job->hook->join();
      job->hook.reset();
    }
    if (job->checker) {
      job->checker->join();  // hashing cannot be interrupted; its result is dropped
      job->checker.reset();
    }
    if (job->torrent) job->torrent->stop();
    job->torrent = nullptr;
    save(*job);
  }
}

ApiReply Agent::handle(std::string_view method, std::string_view target, std::string_view body) {
  const std::string_view path = target.substr(0, target.find('?'));
  constexpr std::string_view kJobs = "/v1/jobs";
  if (path == "/v1/health") {
    if (method != "GET") return error_reply(405, "use GET");
    return {200, Json{{"ok", true}, {"jobs", jobs_.size()}}.dump()};
  }
  if (path == kJobs || path == "/v1/jobs/") {
    if (method == "POST") return submit(body);
    if (method != "GET") return error_reply(405, "use GET or POST on /v1/jobs");
    std::string out = "{\"jobs\":[";
    bool first = true;
    for (const auto& [id, job] : jobs_) {
      if (!first) out += ',';
      first = false;
      out += status_to_json(job->machine.status());
    }
    return {200, out + "]}"};
  }
  if (path.substr(0, kJobs.size() + 1) == "/v1/jobs/") {
    const std::string id(path.substr(kJobs.size() + 1));
    const auto it = jobs_.find(id);
    if (it == jobs_.end()) return error_reply(404, "no job '" + id.substr(0, 64) + "'");
    if (method == "GET") return {200, status_to_json(it->second->machine.status())};
    if (method == "DELETE") return cancel(id);
    return error_reply(405, "use GET or DELETE on /v1/jobs/ID");
  }
  return error_reply(404, "unknown path; the API is /v1/jobs, /v1/jobs/ID and /v1/health");
}

ApiReply Agent::submit(std::string_view body) {
  std::string mac;
  auto spec = decode_job(body, settings_.secret, &mac);
  if (!spec) {
    const bool auth = spec.error().detail.find("bad HMAC") != std::string::npos;
    return error_reply(auth ? 401 : 400, spec.error().message());
  }
  if (const auto it = jobs_.find(spec->id); it != jobs_.end()) {
    // The same signed document again (a retried POST) is answered, not run twice.
    if (it->second->hmac == mac) return {200, status_to_json(it->second->machine.status())};
    return error_reply(409, "job '" + spec->id + "' exists with different content");
  }
  auto info = parse_torrent(spec->torrent);
  if (!info) return error_reply(400, "job torrent: " + info.error().message());
  auto dir = resolve_destination(real_root_, spec->dest);
  if (!dir) return error_reply(403, dir.error().message());
  if (path_within(state_dir_, *dir)) {
    return error_reply(403, "destination '" + spec->dest + "' is the agent's own state directory");
  }
  // The torrent's top name must not be a link out of the root either.
  if (auto top = resolve_destination(real_root_, spec->dest + "/" + info->name); !top) {
    return error_reply(403, top.error().message());
  }
  for (const auto& [id, other] : jobs_) {
    if (!other->machine.status().terminal() && other->info.info_hash == info->info_hash) {
      return error_reply(409, "job '" + id + "' is already deploying this torrent");
    }
  }
  prune();
  if (jobs_.size() >= settings_.max_jobs) {
    return error_reply(503, "too many jobs in progress (" + std::to_string(jobs_.size()) + ")");
  }
  // Last, so a job refused for another reason can be fixed and sent again with its nonce.
  if (auto fresh = replay_.check_and_remember(*spec, static_cast<std::int64_t>(now())); !fresh) {
    return error_reply(403, fresh.error().message());
  }
  JobStatus status;
  status.id = spec->id;
  status.info_hash = info->info_hash.hex();
  status.name = info->name;
  status.dest = spec->dest;
  status.created_at = now();
  status.seed_after = spec->seed_after;
  status.progress.total = info->total_size();
  const std::string id = spec->id;
  auto job = std::make_unique<Job>(std::move(*spec), std::string(body), mac, std::move(status),
                                   std::move(*info), std::move(*dir));
  Job& ref = *job;
  jobs_[id] = std::move(job);
  save(ref);
  launch(ref);
  return {201, status_to_json(ref.machine.status())};
}

ApiReply Agent::cancel(const std::string& id) {
  Job& job = *jobs_.at(id);
  fail(job, "cancelled (DELETE)");
  return {200, status_to_json(job.machine.status())};
}

void Agent::launch(Job& job) {
  const std::string id = job.spec.id;
  std::error_code ec;
  fs::create_directories(job.dir, ec);
  if (ec) return fail(job, "cannot create " + job.dir.string() + ": " + ec.message());
  // What is already on disk: the resume record while the files are unchanged, else a hash
  // check of whatever exists (a restarted agent, or a host that already has the artifact).
  const auto stamps = stamp_files(job.info.layout, job.dir);
  if (auto resume = load_resume(resume_path(id), job.info.info_hash, job.info.layout);
      resume && resume->files == stamps) {
    return start_torrent(job, resume->have);
  }
  if (std::none_of(stamps.begin(), stamps.end(), [](const FileStamp& s) { return s.size > 0; })) {
    return start_torrent(job, Bitfield(static_cast<std::size_t>(job.info.num_pieces())));
  }
  // Hashing gigabytes takes seconds: it runs on its own thread, so the API and the other jobs
  // keep going; the job stays queued until the result is back on the network thread.
  JobProgress checking = job.machine.status().progress;
  checking.warning = "checking the data already at the destination";
  job.machine.update(checking);
  std::weak_ptr<int> alive = life_;
  auto* io = &session_.io();
  job.checker = std::make_unique<std::thread>([this, alive, io, id, layout = job.info.layout,
                                               dir = job.dir, hashes = job.info.piece_hashes] {
    const HashResult hashed = hash_pieces(layout, dir);
    auto verified = std::make_shared<Bitfield>(hashes.size());
    for (std::size_t i = 0; i < hashed.pieces.size() && i < hashes.size(); ++i) {
      if (hashed.pieces[i] == hashes[i]) verified->set(i);
    }
    boost::asio::post(*io, [this, alive, id, verified] {
      if (alive.expired() || stopped_) return;
      const auto found = jobs_.find(id);
      if (found == jobs_.end()) return;
      Job& j = *found->second;
      if (j.checker && j.checker->joinable()) j.checker->join();
      j.checker.reset();
      if (j.machine.status().terminal()) return;  // cancelled meanwhile
      start_torrent(j, *verified);
    });
  });
}

void Agent::start_torrent(Job& job, const Bitfield& verified) {
  const std::string id = job.spec.id;
  if (job.machine.status().state == JobState::seeding && verified.count() != verified.size()) {
    return fail(job, "data changed on disk while the agent was down (" +
                         std::to_string(verified.size() - verified.count()) +
                         " pieces no longer verify)");
  }
  session::TorrentOptions options;
  options.resume_file = resume_path(id);
  job.torrent = &session_.add_torrent(job.info, job.dir, std::move(options), verified);
  std::weak_ptr<int> alive = life_;
  job.torrent->on_finished = [this, alive, id] {
    if (!alive.expired()) on_verified(id);
  };
  job.torrent->on_error = [this, alive, id](const std::string& reason) {
    if (alive.expired()) return;
    if (auto it = jobs_.find(id); it != jobs_.end()) fail(*it->second, reason);
  };
  for (const auto& peer : job.spec.peers) {
    // Numeric peers only (no DNS on this thread); anything else was refused by `deploy`.
    if (const auto parsed = net::parse_host_port(peer); parsed && parsed->port != 0) {
      job.torrent->add_peer(boost::asio::ip::tcp::endpoint(parsed->address, parsed->port));
    }
  }
  JobProgress progress = job.machine.status().progress;
  progress.warning.clear();
  job.machine.update(progress);
  job.machine.start(now());
  job.last_progress_at = now();
  save(job);
  if (job.torrent->status().finished && job.machine.status().state == JobState::downloading) {
    boost::asio::post(session_.io(), [this, alive, id] {
      if (!alive.expired()) on_verified(id);
    });
  }
}

void Agent::on_verified(const std::string& id) {
  const auto it = jobs_.find(id);
  if (it == jobs_.end()) return;
  Job& job = *it->second;
  if (!job.machine.verified(now(), !job.spec.on_done.empty())) return;
  save(job);
  if (job.machine.status().hook == HookState::pending) run_hook(job);
  if (job.machine.status().state == JobState::done) finish_torrent(job);
}

void Agent::run_hook(Job& job) {
  if (!job.machine.hook_started()) return;
  save(job);
  const std::string id = job.spec.id;
  const fs::path content = job.dir / job.info.name;
  std::vector<std::string> env = {"STARLING_JOB_ID=" + id, "STARLING_DEST=" + job.dir.string(),
                                  "STARLING_PATH=" + content.string(),
                                  "STARLING_INFO_HASH=" + job.info.info_hash.hex()};
  job.hook_started_at = now();
  job.hook_killed = false;
  std::weak_ptr<int> alive = life_;
  auto* io = &session_.io();
  Job* raw = &job;
  // The command may take long: it runs on its own thread, and its result comes back to the
  // network thread. stop() kills and joins it, so neither outlives the Agent.
  job.hook = std::make_unique<std::thread>(
      [this, alive, io, raw, id, env, dir = job.dir, command = job.spec.on_done] {
        const int code = run_shell(command, dir, env, raw->hook_pid);
        boost::asio::post(*io, [this, alive, id, code] {
          if (alive.expired() || stopped_) return;
          const auto found = jobs_.find(id);
          if (found == jobs_.end()) return;
          Job& j = *found->second;
          if (j.hook && j.hook->joinable()) j.hook->join();
          j.hook.reset();
          if (j.hook_killed) {
            j.machine.hook_timed_out(static_cast<double>(settings_.hook_timeout.count()), now());
          } else {
            j.machine.hook_finished(code, now());
          }
          if (j.machine.status().terminal()) finish_torrent(j);
          save(j);
        });
      });
}

// The torrent leaves the Session (its peers closed, `stopped` announced), so a long-lived agent
// holds nothing for jobs that are over.
void Agent::finish_torrent(Job& job) {
  if (!job.torrent) return;
  job.torrent->announce_stopped([] {});
  session_.remove_torrent(job.info.info_hash);
  job.torrent = nullptr;
}

void Agent::fail(Job& job, const std::string& reason) {
  if (!job.machine.fail(reason, now())) return;
  finish_torrent(job);
  save(job);
}

void Agent::schedule_tick() {
  timer_.expires_after(settings_.tick);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || stopped_) return;
    tick();
    schedule_tick();
  });
}

void Agent::tick() {
  const double t = now();
  for (auto& [id, owned] : jobs_) {
    Job& job = *owned;
    if (job.hook && !job.hook_killed && job.machine.status().hook == HookState::running &&
        t - job.hook_started_at > static_cast<double>(settings_.hook_timeout.count())) {
      if (const pid_t pid = job.hook_pid.load(); pid > 0) {
        job.hook_killed = true;
        ::kill(-pid, SIGKILL);  // the hook thread then reports back as usual
      }
    }
    if (!job.torrent || job.machine.status().terminal()) continue;
    const auto s = job.torrent->status();
    JobProgress p;
    p.total = s.wanted_bytes;
    p.done = s.done_bytes;
    p.downloaded = s.downloaded;
    p.uploaded = s.uploaded;
    p.down_rate = s.down_rate;
    p.up_rate = s.up_rate;
    p.peers = s.peers;
    p.hash_failures = static_cast<int>(s.pieces_failed);
    p.downloaded_from = s.downloaded_from;
    if (s.peers == 0 && !s.tracker_error.empty()) p.warning = "tracker: " + s.tracker_error;
    job.machine.update(p);
    const JobState state = job.machine.status().state;
    if (state == JobState::downloading) {
      if (s.done_bytes != job.last_done) {
        job.last_done = s.done_bytes;
        job.last_progress_at = t;
      } else if (t - job.last_progress_at > static_cast<double>(settings_.stall_timeout.count())) {
        std::string why = "no progress for " + std::to_string(settings_.stall_timeout.count()) +
                          " s: " + std::to_string(s.done_bytes) + " of " +
                          std::to_string(s.wanted_bytes) + " bytes verified, " +
                          std::to_string(s.peers) + " peers connected";
        if (s.pieces_failed > 0) {
          why += ", " + std::to_string(s.pieces_failed) + " pieces failed the hash check";
        }
        if (!s.tracker_error.empty()) why += ", tracker: " + s.tracker_error;
        fail(job, why);
        continue;
      }
    } else if (state == JobState::seeding && job.machine.tick(t)) {
      finish_torrent(job);
      save(job);
      continue;
    }
    if (t - job.last_saved >= kSaveEvery) save(job);
  }
}

void Agent::save(const Job& job) const {
  const Json record{{"document", job.document},
                    {"status", Json::parse(status_to_json(job.machine.status()))}};
  const_cast<Job&>(job).last_saved = now();  // NOLINT: bookkeeping only
  write_atomically(record_path(job.spec.id),
                   record.dump(-1, ' ', false, Json::error_handler_t::replace));
}

void Agent::load_saved() {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(state_dir_ / "jobs", ec)) {
    if (entry.path().extension() != ".json") continue;
    const Json record = Json::parse(read_file(entry.path()), nullptr, false);
    if (record.is_discarded() || !record.contains("document") || !record.contains("status")) {
      continue;
    }
    const std::string document = record["document"].get<std::string>();
    std::string mac;
    auto spec = decode_job(document, settings_.secret, &mac);
    auto status = status_from_json(record["status"].dump());
    if (!status) continue;
    JobStatus st = std::move(*status);
    TorrentInfo info;
    fs::path dir;
    std::string problem;
    if (!spec) {
      problem = "saved job no longer verifies: " + spec.error().message();
    } else if (auto parsed = parse_torrent(spec->torrent); !parsed) {
      problem = "saved torrent: " + parsed.error().message();
    } else if (auto resolved = resolve_destination(real_root_, spec->dest); !resolved) {
      problem = resolved.error().message();
    } else {
      info = std::move(*parsed);
      dir = std::move(*resolved);
    }
    JobSpec js;
    if (spec) {
      js = std::move(*spec);
    } else {
      js.id = st.id;
    }
    const std::string id = st.id;
    if (id != js.id || jobs_.count(id)) continue;
    auto job = std::make_unique<Job>(std::move(js), document, mac, std::move(st), std::move(info),
                                     std::move(dir));
    Job& ref = *job;
    jobs_[id] = std::move(job);
    if (!problem.empty()) {
      fail(ref, problem);
      continue;
    }
    ref.machine.recover(now());
    if (!ref.machine.status().terminal()) launch(ref);
    save(ref);
  }
}

void Agent::prune() {
  while (jobs_.size() >= settings_.max_jobs) {
    auto oldest = jobs_.end();
    for (auto it = jobs_.begin(); it != jobs_.end(); ++it) {
      const Job& job = *it->second;
      if (!job.machine.status().terminal() || job.hook || job.checker) continue;
      if (oldest == jobs_.end() ||
          it->second->machine.status().finished_at < oldest->second->machine.status().finished_at) {
        oldest = it;
      }
    }
    if (oldest == jobs_.end()) return;
    std::error_code ec;
    fs::remove(record_path(oldest->first), ec);
    fs::remove(resume_path(oldest->first), ec);
    jobs_.erase(oldest);
  }
}

}  // namespace starling::deploy
