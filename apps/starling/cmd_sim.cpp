// starling sim [--peers N] [--pieces P] [--piece-size SIZE] [--up RATE] [--down RATE] ...
// A whole swarm in simulated time, driven by the engine's own PiecePicker and Choker (src/sim).
#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <string>

#include "cli_common.hpp"
#include "sim/swarm.hpp"

namespace starling::cli {
namespace {

using Json = nlohmann::ordered_json;

struct SimArgs {
  int peers = 100;
  int seeds = 1;
  std::int32_t pieces = 1000;
  std::string piece_size = "256k";
  std::string up = "1m";
  std::string down = "8m";
  std::string seed_up = "4m";
  std::uint64_t seed = 1;
  double free_riders = 0;
  bool seeds_leave = false;
  std::string arrival = "flash";
  double arrival_rate = 10;
  int latency_ms = 50;
  int neighbours = 50;
  int max_connections = 80;
  int time_limit = 0;
  std::string csv;
  bool json = false;
};

struct Summary {
  std::size_t completed = 0;
  double mean = 0, p50 = 0, p99 = 0, min = 0, max = 0;
};

// Nearest-rank percentiles over the peers that completed.
Summary summarise(std::vector<double> times) {
  Summary s;
  s.completed = times.size();
  if (times.empty()) return s;
  std::sort(times.begin(), times.end());
  const auto rank = [&](double q) {
    const auto i = static_cast<std::size_t>(std::ceil(q * static_cast<double>(times.size())));
    return times[std::clamp<std::size_t>(i, 1, times.size()) - 1];
  };
  s.mean = std::accumulate(times.begin(), times.end(), 0.0) / static_cast<double>(times.size());
  s.p50 = rank(0.50);
  s.p99 = rank(0.99);
  s.min = times.front();
  s.max = times.back();
  return s;
}

std::optional<double> parse_rate(const std::string& text) {
  const auto bytes = parse_size(text);
  if (!bytes || *bytes <= 0) return std::nullopt;
  return static_cast<double>(*bytes);
}

double max_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // KiB on Linux
}

int run_sim(const SimArgs& args) {
  sim::SwarmSettings settings;
  settings.leechers = args.peers;
  settings.seeds = args.seeds;
  settings.pieces = args.pieces;
  const auto piece_size = parse_size(args.piece_size);
  if (!piece_size || *piece_size < 1 || *piece_size > std::int64_t{64} * 1024 * 1024) {
    return report("sim", args.piece_size, "--piece-size wants a size from 1 to 64m", kBadInput);
  }
  settings.piece_size = *piece_size;
  for (auto [text, target, flag] : {std::tuple{&args.up, &settings.up, "--up"},
                                    std::tuple{&args.down, &settings.down, "--down"},
                                    std::tuple{&args.seed_up, &settings.seed_up, "--seed-up"}}) {
    const auto rate = parse_rate(*text);
    if (!rate)
      return report("sim", *text, fmt::format("{} wants a rate such as 1m", flag), kBadInput);
    *target = *rate;
  }
  if (args.arrival != "flash" && args.arrival != "poisson") {
    return report("sim", args.arrival, "--arrival wants flash or poisson", kBadInput);
  }
  settings.arrival = args.arrival == "flash" ? sim::Arrival::flash : sim::Arrival::poisson;
  settings.arrival_rate = args.arrival_rate;
  settings.random_seed = args.seed;
  settings.free_riders = args.free_riders;
  settings.seeds_leave = args.seeds_leave;
  settings.latency = std::chrono::milliseconds(args.latency_ms);
  settings.neighbours = args.neighbours;
  settings.max_connections = args.max_connections;
  settings.time_limit = std::chrono::seconds(args.time_limit);

  const bool show_progress = stderr_is_terminal();
  const auto wall_start = std::chrono::steady_clock::now();
  auto last_print = wall_start;
  sim::Swarm swarm(settings);
  const sim::SwarmResult result = swarm.run([&](const sim::SwarmProgress& p) {
    if (!show_progress) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_print < std::chrono::milliseconds(250)) return;
    last_print = now;
    fmt::print(stderr, "\r\033[Ksim: t={:.1f} s, {}/{} complete, {} flows", p.now_s, p.completed,
               p.leechers, p.flows);
  });
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  if (show_progress) fmt::print(stderr, "\r\033[K");

  std::vector<double> all, contributors, free_riders;
  for (const sim::PeerOutcome& peer : result.leechers) {
    if (peer.completion_s < 0) continue;
    all.push_back(peer.completion_s);
    (peer.free_rider ? free_riders : contributors).push_back(peer.completion_s);
  }
  const Summary s = summarise(all);
  const double file = static_cast<double>(settings.file_size());
  const double client_server = settings.leechers * file / (settings.seed_up * settings.seeds);
  const double ratio = result.t_min_s > 0 ? s.mean / result.t_min_s : 0;

  if (!args.csv.empty()) {
    std::ofstream out(args.csv);
    if (!out) return report("sim", args.csv, "cannot write the CSV file", kFailed);
    out << "peer,joined_s,completion_s,free_rider,uploaded_bytes\n";
    for (std::size_t i = 0; i < result.leechers.size(); ++i) {
      const sim::PeerOutcome& p = result.leechers[i];
      out << fmt::format("{},{:.6f},{:.6f},{},{:.0f}\n", i, p.joined_s, p.completion_s,
                         p.free_rider ? 1 : 0, p.uploaded);
    }
  }

  if (args.json) {
    Json j;
    j["peers"] = settings.leechers;
    j["completed"] = s.completed;
    j["mean_s"] = s.mean;
    j["p50_s"] = s.p50;
    j["p99_s"] = s.p99;
    j["min_s"] = s.min;
    j["max_s"] = s.max;
    j["t_min_s"] = result.t_min_s;
    j["ratio"] = ratio;
    j["client_server_s"] = client_server;
    if (!free_riders.empty()) {
      j["contributor_mean_s"] = summarise(contributors).mean;
      j["free_rider_mean_s"] = summarise(free_riders).mean;
    }
    j["sim_s"] = result.end_s;
    j["timed_out"] = result.timed_out;
    j["events"] = result.events;
    j["requests"] = result.requests;
    j["duplicate_bytes"] = result.duplicate_bytes;
    j["wall_s"] = wall;
    j["max_rss_mib"] = max_rss_mib();
    fmt::print("{}\n", j.dump());
  } else {
    fmt::print(
        "swarm: {} leechers, {} seed(s), {} pieces of {} ({}), up {}/s, down {}/s, seed up "
        "{}/s\n",
        settings.leechers, settings.seeds, settings.pieces, human_size(settings.piece_size),
        human_size(settings.file_size()), human_size(static_cast<std::int64_t>(settings.up)),
        human_size(static_cast<std::int64_t>(settings.down)),
        human_size(static_cast<std::int64_t>(settings.seed_up)));
    fmt::print("completed: {}/{}{}\n", s.completed, settings.leechers,
               result.timed_out ? " (time limit reached)" : "");
    fmt::print(
        "completion: mean {:.1f} s, p50 {:.1f} s, p99 {:.1f} s, min {:.1f} s, max {:.1f} s\n",
        s.mean, s.p50, s.p99, s.min, s.max);
    if (!free_riders.empty()) {
      fmt::print("            contributors {:.1f} s, free riders {:.1f} s (mean)\n",
                 summarise(contributors).mean, summarise(free_riders).mean);
    }
    fmt::print(
        "bound: T_min {:.1f} s (Kumar & Ross), mean / T_min {:.3f}; client-server {:.1f} s\n",
        result.t_min_s, ratio, client_server);
    fmt::print("run: {:.1f} s simulated, {} events, {:.1f} s wall, {:.0f} MiB max RSS\n",
               result.end_s, result.events, wall, max_rss_mib());
  }
  return s.completed == result.leechers.size() ? kSuccess : kFailed;
}

}  // namespace

Runner add_sim_command(CLI::App& app) {
  auto args = std::make_shared<SimArgs>();
  auto* cmd = app.add_subcommand(
      "sim", "Simulate a swarm with the real piece picker and choker (flow-level network)");
  cmd->add_option("--peers", args->peers, "Leechers")
      ->check(CLI::Range(1, 1'000'000))
      ->default_str("100");
  cmd->add_option("--seeds", args->seeds, "Initial seeds (they stay)")
      ->check(CLI::Range(1, 1000))
      ->default_str("1");
  cmd->add_option("--pieces", args->pieces, "Pieces in the file")
      ->check(CLI::Range(1, 1'000'000))
      ->default_str("1000");
  cmd->add_option("--piece-size", args->piece_size, "Piece size (k/m suffixes)")
      ->default_str("256k");
  cmd->add_option("--up", args->up, "Leecher upload capacity per second")->default_str("1m");
  cmd->add_option("--down", args->down, "Download capacity per second (all peers)")
      ->default_str("8m");
  cmd->add_option("--seed-up", args->seed_up, "Seed upload capacity per second")->default_str("4m");
  cmd->add_option("--seed", args->seed, "Random seed: the same seed gives the same run")
      ->default_str("1");
  cmd->add_option("--free-riders", args->free_riders, "Fraction of leechers that upload nothing")
      ->check(CLI::Range(0.0, 1.0))
      ->default_str("0");
  cmd->add_flag("--seeds-leave", args->seeds_leave,
                "A leecher leaves when done (default: it stays and seeds)");
  cmd->add_option("--arrival", args->arrival, "flash (all at once) or poisson")
      ->default_str("flash");
  cmd->add_option("--arrival-rate", args->arrival_rate, "Leechers per second for --arrival poisson")
      ->check(CLI::PositiveNumber)
      ->default_str("10");
  cmd->add_option("--latency", args->latency_ms, "Request round trip, ms")
      ->check(CLI::Range(0, 10000))
      ->default_str("50");
  cmd->add_option("--neighbours", args->neighbours, "Peers in a tracker reply")
      ->check(CLI::Range(1, 1000))
      ->default_str("50");
  cmd->add_option("--max-connections", args->max_connections, "Connections per peer")
      ->check(CLI::Range(1, 1000))
      ->default_str("80");
  cmd->add_option("--time-limit", args->time_limit,
                  "Give up after this many simulated seconds (default: 50 x T_min)")
      ->check(CLI::Range(0, 100'000'000));
  cmd->add_option("--csv", args->csv, "Write per-peer completion times to FILE");
  cmd->add_flag("--json", args->json, "Print one JSON summary object");
  return [cmd, args]() { return cmd->parsed() ? run_sim(*args) : -1; };
}

}  // namespace starling::cli
