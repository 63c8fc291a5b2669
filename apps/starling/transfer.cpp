#include "transfer.hpp"

#include <fmt/format.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include <fstream>

#include "cli_common.hpp"
#include "metainfo/metadata_file.hpp"
#include "session/session.hpp"
#include "session/ut_metadata_fetch.hpp"
#include "webseed/web_seed_url.hpp"

namespace starling::cli {
namespace {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::ordered_json;

void print_json(const Json& j) {
  fmt::print("{}\n", j.dump(-1, ' ', false, Json::error_handler_t::replace));
  std::fflush(stdout);
}

std::string format_eta(double seconds) {
  if (seconds <= 0 || seconds > 99 * 3600) return "--:--";
  const auto s = static_cast<long>(seconds);
  return s >= 3600 ? fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
                   : fmt::format("{}:{:02}", s / 60, s % 60);
}

// Drives one transfer: progress reports, completion, seeding limits, signals.
class TransferRun {
 public:
  TransferRun(const TransferArgs& args, const TransferJob& job, session::Session& session,
              session::Torrent& torrent)
      : args_(args),
        job_(job),
        session_(session),
        torrent_(torrent),
        downloading_(std::string_view(job.command) == "download"),
        report_timer_(session.io()),
        limit_timer_(session.io()),
        signals_(session.io(), SIGINT, SIGTERM),
        started_(Clock::now()),
        bar_(!args.json && !args.quiet && stderr_is_terminal()) {}

  int run() {
    torrent_.on_finished = [this] { on_complete(); };
    torrent_.on_error = [this](const std::string& reason) { fail(reason); };
    signals_.async_wait([this](boost::system::error_code ec, int) {
      if (ec) return;
      finish(downloading_ && !completed_ ? kFailed : kSuccess, "interrupted");
    });
    if (downloading_ && args_.timeout > 0) {
      limit_timer_.expires_after(std::chrono::duration_cast<Clock::duration>(
          std::chrono::duration<double>(args_.timeout)));
      limit_timer_.async_wait([this](boost::system::error_code ec) {
        if (ec || completed_) return;
        const auto s = torrent_.status();
        std::string why = fmt::format("not complete after {} s", args_.timeout);
        if (s.peers == 0 && !s.tracker_error.empty()) why += " (" + s.tracker_error + ")";
        fail(why);
      });
    }
    if (torrent_.status().finished) on_complete();
    schedule_report();
    session_.io().run();
    return exit_code_;
  }

 private:
  void schedule_report() {
    report_timer_.expires_after(std::chrono::milliseconds(args_.json ? 1000 : 500));
    report_timer_.async_wait([this](boost::system::error_code ec) {
      if (ec || done_) return;
      report_progress();
      check_seed_limits();
      schedule_report();
    });
  }

  void report_progress() {
    const auto s = torrent_.status();
    if (args_.json) {
      print_json({{"event", "progress"},
                  {"done", s.done_bytes},
                  {"total", s.wanted_bytes},
                  {"down_rate", static_cast<std::int64_t>(s.down_rate)},
                  {"up_rate", static_cast<std::int64_t>(s.up_rate)},
                  {"peers", s.peers}});
      return;
    }
    if (!bar_) return;
    const double percent = s.wanted_bytes > 0 ? 100.0 * static_cast<double>(s.done_bytes) /
                                                    static_cast<double>(s.wanted_bytes)
                                              : 100.0;
    const double eta =
        s.down_rate > 1 ? static_cast<double>(s.wanted_bytes - s.done_bytes) / s.down_rate : 0;
    fmt::print(stderr, "\r{} {:5.1f}%  {} / {}  down {}/s  up {}/s  peers {}  ETA {}\x1b[K",
               completed_ ? "seeding" : job_.command, percent, human_size(s.done_bytes),
               human_size(s.wanted_bytes), human_size(static_cast<std::int64_t>(s.down_rate)),
               human_size(static_cast<std::int64_t>(s.up_rate)), s.peers,
               completed_ ? "done" : format_eta(eta));
    std::fflush(stderr);
  }

  void clear_bar() {
    if (bar_) fmt::print(stderr, "\r\x1b[K");
  }

  void on_complete() {
    if (completed_) return;
    completed_ = true;
    completed_at_ = Clock::now();
    if (!downloading_) return;  // a seed starts complete and seeds until told to stop
    const auto s = torrent_.status();
    const double seconds = std::chrono::duration<double>(completed_at_ - started_).count();
    if (args_.json) {
      Json event{{"event", "complete"},
                 {"seconds", seconds},
                 {"bytes", s.wanted_bytes},
                 {"uploaded", s.uploaded},
                 {"downloaded", s.downloaded}};
      if (!s.web_seeds.empty()) {
        Json seeds = Json::array();
        for (const auto& w : s.web_seeds) {
          seeds.push_back({{"url", w.url},
                           {"downloaded", w.downloaded},
                           {"blocks", w.blocks},
                           {"failures", w.failures},
                           {"state", w.state}});
        }
        event["web_seeds"] = std::move(seeds);
      }
      print_json(event);
    } else if (!args_.quiet) {
      clear_bar();
      fmt::print("{}: complete, {} in {:.2f} s ({}/s), uploaded {}\n", torrent_.info().name,
                 human_size(s.wanted_bytes), seconds,
                 human_size(seconds > 0 ? static_cast<std::int64_t>(
                                              static_cast<double>(s.downloaded) / seconds)
                                        : 0),
                 human_size(s.uploaded));
    }
    if (args_.seed_ratio <= 0 && args_.seed_time <= 0) finish(kSuccess, "");
  }

  void check_seed_limits() {
    if (!completed_ || done_) return;
    const auto s = torrent_.status();
    const double seeded = std::chrono::duration<double>(Clock::now() - completed_at_).count();
    const bool ratio_reached =
        args_.seed_ratio > 0 && s.wanted_bytes > 0 &&
        static_cast<double>(s.uploaded) >= args_.seed_ratio * static_cast<double>(s.wanted_bytes);
    const bool time_reached = args_.seed_time > 0 && seeded >= args_.seed_time;
    if (ratio_reached || time_reached) finish(kSuccess, "");
  }

  void fail(const std::string& reason) {
    if (args_.json) {
      print_json({{"event", "error"}, {"message", reason}});
    } else {
      clear_bar();
      report(job_.command, torrent_.info().name, reason, 0);
    }
    finish(kFailed, "");
  }

  void finish(int code, const std::string& why) {
    if (done_) return;
    done_ = true;
    exit_code_ = code;
    clear_bar();
    if (!why.empty() && !args_.quiet && !args_.json) {
      fmt::print(stderr, "starling {}: {}\n", job_.command, why);
    }
    if (!downloading_ && args_.json) {
      const auto s = torrent_.status();
      print_json({{"event", "stopped"},
                  {"seconds", std::chrono::duration<double>(Clock::now() - started_).count()},
                  {"uploaded", s.uploaded}});
    }
    report_timer_.cancel();
    limit_timer_.cancel();
    signals_.cancel();
    session_.stop();
    torrent_.announce_stopped([this] { session_.io().stop(); });
  }

  const TransferArgs& args_;
  const TransferJob& job_;
  session::Session& session_;
  session::Torrent& torrent_;
  bool downloading_;
  boost::asio::steady_timer report_timer_;
  boost::asio::steady_timer limit_timer_;
  boost::asio::signal_set signals_;
  Clock::time_point started_;
  Clock::time_point completed_at_;
  bool bar_;
  bool completed_ = false;
  bool done_ = false;
  int exit_code_ = kFailed;
};

// A magnet's first stage: fetches the info dictionary from the peers (BEP 9), then makes the
// torrent and lets the job fill in the rest. Returns -1 to go on with the transfer, else the
// exit code.
int fetch_metadata(const TransferArgs& args, TransferJob& job, session::Session& session,
                   const std::vector<boost::asio::ip::tcp::endpoint>& peers,
                   std::vector<boost::asio::ip::tcp::endpoint>& found) {
  const Magnet& magnet = *job.magnet;
  const std::string subject =
      magnet.display_name.empty() ? magnet.info_hash.hex() : magnet.display_name;
  const auto started = Clock::now();
  std::string info_bytes;
  std::string failure;
  session::MetadataFetch fetch(session, magnet.info_hash, magnet.trackers, [&](std::string bytes) {
    info_bytes = std::move(bytes);
    session.io().stop();
  });
  for (const auto& endpoint : peers) fetch.add_peer(endpoint);
  session.on_peers_found = [&](const Sha1Digest& hash,
                               const std::vector<boost::asio::ip::tcp::endpoint>& more) {
    if (hash != magnet.info_hash) return;
    for (const auto& endpoint : more) fetch.add_peer(endpoint);
  };
  session.find_peers(magnet.info_hash);
  boost::asio::signal_set signals(session.io(), SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code ec, int) {
    if (ec) return;
    failure = "interrupted";
    session.io().stop();
  });
  boost::asio::steady_timer limit(session.io());
  if (args.timeout > 0) {
    limit.expires_after(
        std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(args.timeout)));
    limit.async_wait([&](boost::system::error_code ec) {
      if (ec) return;
      failure = fmt::format("no metadata after {} s (peers offering it: {})", args.timeout,
                            fetch.metadata_peers());
      session.io().stop();
    });
  }
  session.io().run();
  session.io().restart();
  session.on_peers_found = nullptr;
  signals.cancel();
  limit.cancel();
  found = fetch.peers();
  fetch.stop();
  if (info_bytes.empty()) {
    if (args.json) {
      print_json({{"event", "error"}, {"message", failure}});
    } else {
      report(job.command, subject, failure.empty() ? "no metadata" : failure, 0);
    }
    return kFailed;
  }
  const std::string file = make_torrent_file(info_bytes, magnet.trackers);
  auto torrent = parse_torrent(file);
  if (!torrent) return report(job.command, subject, torrent.error(), kFailed);
  if (!job.save_torrent.empty()) {
    std::ofstream out(job.save_torrent, std::ios::binary | std::ios::trunc);
    out.write(file.data(), static_cast<std::streamsize>(file.size()));
    if (!out) return report(job.command, job.save_torrent.string(), "cannot write", kFailed);
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  if (args.json) {
    print_json({{"event", "metadata"},
                {"name", torrent->name},
                {"bytes", info_bytes.size()},
                {"seconds", seconds}});
  } else if (!args.quiet) {
    fmt::print(stderr, "{}: metadata ({} bytes) in {:.2f} s\n", torrent->name, info_bytes.size(),
               seconds);
  }
  job.torrent = std::move(*torrent);
  if (job.after_metadata) {
    if (auto s = job.after_metadata(job); !s)
      return report(job.command, subject, s.error(), kFailed);
  }
  return -1;
}

}  // namespace

std::optional<std::pair<std::string, std::uint16_t>> split_host_port(std::string_view text) {
  std::string host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return std::nullopt;
    }
    host = std::string(text.substr(1, close - 1));
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return std::nullopt;
    host = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || port.empty() || value > 65535) {
    return std::nullopt;
  }
  return std::make_pair(host, static_cast<std::uint16_t>(value));
}

void add_transfer_flags(CLI::App& cmd, TransferArgs& args, bool downloading) {
  cmd.add_option("--peer", args.peers, "Connect to this peer, HOST:PORT (repeatable)");
  cmd.add_option("--listen", args.listen,
                 "Accept peers on HOST:PORT (default 0.0.0.0:6881, next free port if taken; "
                 "port 0 = any)");
  cmd.add_flag("--tcp-only", args.tcp_only,
               "Use TCP only (default: uTP first, TCP when uTP does not connect; accept both)");
  cmd.add_flag("--utp-only", args.utp_only, "Use uTP (BEP 29, over UDP) only");
  const CLI::Validator rate(
      [](const std::string& text) -> std::string {
        return parse_size(text)
                   ? ""
                   : "expected a rate in bytes per second such as 500k or 2m, got '" + text + "'";
      },
      "RATE");
  cmd.add_option("--max-down", args.max_down,
                 "Download at most RATE bytes/s of payload (e.g. 500k, 2m; 0 = no limit)")
      ->check(rate);
  cmd.add_option("--max-up", args.max_up,
                 "Upload at most RATE bytes/s of payload (e.g. 500k, 2m; 0 = no limit)")
      ->check(rate);
  cmd.add_option("--upload-slots", args.upload_slots,
                 "Upload to at most N peers at once: N-1 that upload to us fastest and 1 in turn "
                 "(all N in turn when seeding); 0 = never upload")
      ->check(CLI::Range(0, 1000))
      ->default_val(4);
  cmd.add_option("--disk-threads", args.disk_threads,
                 "Threads for disk reads, writes and piece hashes (default 2, or 4 with "
                 "--direct-io: a direct write waits for the device, and more threads keep the "
                 "hashing going meanwhile)")
      ->check(CLI::Range(1, 64));
  if (downloading) {
    cmd.add_option("--seed-ratio", args.seed_ratio,
                   "After completing, keep seeding until uploaded/size reaches R");
    cmd.add_option("--timeout", args.timeout, "Give up (exit 1) if not complete after SECONDS");
    cmd.add_flag("--direct-io", args.direct_io,
                 "Write verified pieces whole with direct I/O (O_DIRECT) where the filesystem "
                 "allows: less CPU and the page cache left to other programs, but each write "
                 "waits for the device (default: through the page cache)");
    cmd.add_flag("--no-direct-io", args.no_direct_io, "The default (kept for older scripts)")
        ->group("");
  }
  if (downloading) {
    cmd.add_option("--web-seed", args.web_seeds,
                   "Also download from this BEP 19 web seed URL (http://; repeatable), beside the "
                   "torrent's url-list");
    cmd.add_flag("--no-pipelining", args.no_pipelining,
                 "One request at a time per web seed (for measurements)");
    cmd.add_flag("--no-block-runs", args.no_block_runs,
                 "Ask other starling peers for single 16 KiB blocks too, not runs of up to 128 KiB "
                 "in one request (for measurements)");
    cmd.add_flag("--no-end-game", args.no_end_game,
                 "Never ask a second source for a block already requested (for measurements)");
  }
  cmd.add_option("--seed-time", args.seed_time,
                 downloading ? "After completing, keep seeding for SECONDS"
                             : "Stop after seeding for SECONDS (default: until interrupted)");
  cmd.add_flag("--no-dht", args.no_dht, "Do not run a DHT node (BEP 5)");
  cmd.add_option("--dht-bootstrap", args.dht_bootstrap,
                 "Join the DHT through this node, HOST:PORT (repeatable; no default routers)");
  cmd.add_option("--dht-state", args.dht_state,
                 "Keep the DHT node id and known nodes in FILE across runs");
  cmd.add_flag("--json", args.json, "One JSON object per line on stdout instead of a progress bar");
  cmd.add_flag("-q,--quiet", args.quiet, "No progress output");
  cmd.add_flag("-v,--verbose", args.verbose, "Log connections and failures on stderr");
}

int run_transfer(const TransferArgs& args, const TransferJob& job_in) {
  TransferJob job = job_in;
  if (args.utp_only && args.tcp_only) {
    return report(job.command, "--tcp-only --utp-only", "choose one transport, or neither for both",
                  kBadInput);
  }
  auto listen = split_host_port(args.listen);
  if (!listen) {
    return report(job.command, "--listen", "expected HOST:PORT, got '" + args.listen + "'",
                  kBadInput);
  }
  session::SessionSettings settings;
  settings.enable_tcp = !args.utp_only;
  settings.enable_utp = !args.tcp_only;
  settings.storage.direct_io = args.direct_io && !args.no_direct_io;
  settings.disk.threads = args.disk_threads;  // 0: the session's choice
  settings.request_block_runs = !args.no_block_runs;
  // --tcp-only means no UDP at all: a peer's uTP SYN must meet a closed port (ICMP), so that
  // it falls back to TCP at once, so there is no DHT socket either.
  const bool use_dht = !args.no_dht && !args.tcp_only;
  settings.enable_dht = use_dht;
  settings.max_download_rate = args.max_down.empty() ? 0 : parse_size(args.max_down).value_or(0);
  settings.max_upload_rate = args.max_up.empty() ? 0 : parse_size(args.max_up).value_or(0);
  // One slot is optimistic as soon as there are two; a single slot goes by upload rate.
  settings.choker.optimistic_slots = args.upload_slots >= 2 ? 1 : 0;
  settings.choker.regular_slots = args.upload_slots - settings.choker.optimistic_slots;
  settings.web_seed.pipelining = !args.no_pipelining;
  settings.picker.end_game = !args.no_end_game;
  for (const auto& url : args.web_seeds) {
    if (auto parsed = webseed::parse_http_url(url); !parsed) {
      return report(job.command, "--web-seed " + url, parsed.error(), kBadInput);
    }
  }
  session::Session session(settings);
  if (args.verbose) {
    session.logger = [](const std::string& line) { fmt::print(stderr, "{}\n", line); };
  }
  // Resolve every peer before anything starts, so a typo fails fast.
  std::vector<boost::asio::ip::tcp::endpoint> peers;
  boost::asio::ip::tcp::resolver resolver(session.io());
  for (const auto& peer : args.peers) {
    auto parts = split_host_port(peer);
    boost::system::error_code ec;
    auto results = parts ? resolver.resolve(parts->first, std::to_string(parts->second), ec)
                         : boost::asio::ip::tcp::resolver::results_type{};
    if (!parts || ec || results.empty()) {
      return report(job.command, "--peer " + peer,
                    parts ? "cannot resolve: " + ec.message() : "expected HOST:PORT", kBadInput);
    }
    peers.push_back(results.begin()->endpoint());
  }
  std::vector<boost::asio::ip::udp::endpoint> dht_nodes;
  if (use_dht) {
    boost::asio::ip::udp::resolver udp_resolver(session.io());
    for (const auto& node : args.dht_bootstrap) {
      auto parts = split_host_port(node);
      boost::system::error_code ec;
      auto results = parts ? udp_resolver.resolve(parts->first, std::to_string(parts->second), ec)
                           : boost::asio::ip::udp::resolver::results_type{};
      if (!parts || ec || results.empty()) {
        return report(job.command, "--dht-bootstrap " + node,
                      parts ? "cannot resolve: " + ec.message() : "expected HOST:PORT", kBadInput);
      }
      dht_nodes.push_back(results.begin()->endpoint());
    }
  }
  auto port = session.listen(listen->first, listen->second, true);
  if (!port) return report(job.command, "--listen " + args.listen, port.error(), kFailed);
  if (args.verbose) fmt::print(stderr, "listening on port {}\n", *port);
  if (use_dht) {
    if (auto s = session.start_dht(dht_nodes, args.dht_state); !s) {
      return report(job.command, "--dht-state " + args.dht_state, s.error(), kFailed);
    }
  }

  std::vector<boost::asio::ip::tcp::endpoint> found;
  if (job.magnet) {
    if (const int code = fetch_metadata(args, job, session, peers, found); code >= 0) return code;
  }

  session::TorrentOptions options;
  options.file_priorities = job.file_priorities;
  options.sequential = job.sequential;
  options.resume_file = job.resume_file;
  options.remove_resume_when_finished = true;
  options.web_seeds = args.web_seeds;
  options.super_seed = job.super_seed;  // aria2-style: the control file goes when done
  session::Torrent& torrent =
      session.add_torrent(job.torrent, job.directory, std::move(options), job.verified);
  for (const auto& endpoint : peers) torrent.add_peer(endpoint);
  for (const auto& endpoint : found) torrent.add_peer(endpoint);
  TransferRun run(args, job, session, torrent);
  return run.run();
}

}  // namespace starling::cli
