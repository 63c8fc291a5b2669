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
#include <thread>

#include "cli_common.hpp"
#include "sim/huge_page_heap.hpp"
#include "sim/slides_model.hpp"
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
  int grid_ms = 10;  // 0: the exact event-driven model
  int have_delay_ms = 100;
  std::string have_batch = "tick";
  int threads = 0;  // 0: two where the machine has two cores
  int neighbours = 50;
  int max_connections = 80;
  int time_limit = 0;
  std::string model = "swarm";
  std::string picker = "rarest";
  std::string pipeline = "engine";
  std::string request_size = "pieces";  // on the grid: whole pieces, or the depth as it is
  std::string end_game = "late";        // on the grid: once every wanted piece is started
  std::string scenario;
  std::string timeline;
  double timeline_step = 1;
  std::string csv;
  bool json = false;
  std::vector<sim::CapacityClass> classes;  // from --scenario
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

// A JSON scenario: the same settings as the flags (a flag given on the command line wins), plus
// capacity classes. Unknown keys are errors, so a typo does not silently run the default.
//   {"peers": 1000, "pieces": 1000, "piece_size": "256k", "seed_up": "4m",
//    "classes": [{"fraction": 0.5, "up": "1m", "down": "8m"},
//                {"fraction": 0.5, "up": "10m", "down": "20m"}],
//    "arrival": "poisson", "arrival_rate": 5, "seeds_leave": true, "free_riders": 0.1}
int load_scenario(const CLI::App& cmd, SimArgs& args) {
  const auto bad = [&](const std::string& what) {
    return report("sim", args.scenario, what, kBadInput);
  };
  std::ifstream in(args.scenario);
  if (!in) return bad("cannot read the scenario file");
  Json j = Json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
  const auto given = [&](const char* flag) { return cmd.get_option(flag)->count() > 0; };
  for (auto item = j.begin(); item != j.end(); ++item) {
    const std::string& key = item.key();  // named: lambdas cannot capture structured bindings
    const Json& value = item.value();
    const auto want = [&](bool ok, const char* kind) {
      if (!ok) throw std::invalid_argument(fmt::format("key '{}' wants {}", key, kind));
    };
    const auto size_text = [&] {
      want(value.is_string() || value.is_number_unsigned(), "a size such as \"1m\" or bytes");
      return value.is_string() ? value.get<std::string>()
                               : std::to_string(value.get<std::uint64_t>());
    };
    const auto number = [&](double low, double high) {
      want(value.is_number() && value.get<double>() >= low && value.get<double>() <= high,
           fmt::format("a number from {} to {}", low, high).c_str());
      return value.get<double>();
    };
    std::string flag = "--" + key;  // piece_size: --piece-size
    std::replace(flag.begin(), flag.end(), '_', '-');
    try {
      if (key == "classes") {
        want(value.is_array() && !value.empty(), "a non-empty array of classes");
        for (const Json& c : value) {
          want(c.is_object() && c.contains("up") && c.contains("down"),
               "classes with \"up\" and \"down\" (and \"fraction\")");
          sim::CapacityClass k;
          k.fraction = c.value("fraction", 1.0);
          const auto rate = [&](const char* name) {
            const Json& r = c.at(name);
            const auto bytes = parse_size(r.is_string() ? r.get<std::string>() : r.dump());
            want(bytes && *bytes > 0, "class rates such as \"1m\"");
            return static_cast<double>(*bytes);
          };
          k.up = rate("up");
          k.down = rate("down");
          want(k.fraction > 0, "class fractions above 0");
          args.classes.push_back(k);
        }
        continue;
      }
      if (cmd.get_option_no_throw(flag) == nullptr)
        throw std::invalid_argument("unknown key '" + key + "'");
      if (given(flag.c_str())) continue;  // the command line wins
      if (key == "peers")
        args.peers = static_cast<int>(number(1, 1'000'000));
      else if (key == "seeds")
        args.seeds = static_cast<int>(number(1, 1000));
      else if (key == "pieces")
        args.pieces = static_cast<std::int32_t>(number(1, 1'000'000));
      else if (key == "piece_size")
        args.piece_size = size_text();
      else if (key == "up")
        args.up = size_text();
      else if (key == "down")
        args.down = size_text();
      else if (key == "seed_up")
        args.seed_up = size_text();
      else if (key == "seed")
        args.seed = static_cast<std::uint64_t>(number(0, 1e18));
      else if (key == "free_riders")
        args.free_riders = number(0, 1);
      else if (key == "seeds_leave") {
        want(value.is_boolean(), "true or false");
        args.seeds_leave = value.get<bool>();
      } else if (key == "arrival" || key == "picker" || key == "model" || key == "pipeline") {
        want(value.is_string(), "a string");
        (key == "arrival"  ? args.arrival
         : key == "picker" ? args.picker
         : key == "model"  ? args.model
                           : args.pipeline) = value.get<std::string>();
      } else if (key == "arrival_rate")
        args.arrival_rate = number(1e-6, 1e9);
      else if (key == "latency")
        args.latency_ms = static_cast<int>(number(0, 10000));
      else if (key == "grid")
        args.grid_ms = static_cast<int>(number(0, 10000));
      else if (key == "neighbours")
        args.neighbours = static_cast<int>(number(1, 1000));
      else if (key == "max_connections")
        args.max_connections = static_cast<int>(number(1, 1000));
      else
        throw std::invalid_argument("key '" + key + "' cannot be set from a scenario");
    } catch (const std::exception& e) {  // nlohmann's type errors, and ours
      return bad(e.what());
    }
  }
  return kSuccess;
}

// The seed slides' deterministic model: one piece, everyone serving one peer at a time.
int run_slides(const SimArgs& args, double file_bytes, double up) {
  const sim::SlidesResult r = sim::run_slides_model({args.peers, file_bytes, up});
  const Summary s = summarise(r.completion_s);
  const double client_server = args.peers * r.round_s;
  if (!args.csv.empty()) {
    std::ofstream out(args.csv);
    if (!out) return report("sim", args.csv, "cannot write the CSV file", kFailed);
    out << "peer,joined_s,completion_s\n";
    for (std::size_t i = 0; i < r.completion_s.size(); ++i) {
      out << fmt::format("{},0,{:.6f}\n", i, r.completion_s[i]);
    }
  }
  if (args.json) {
    Json j;
    j["model"] = "slides";
    j["peers"] = args.peers;
    j["completed"] = s.completed;
    j["mean_s"] = s.mean;
    j["p50_s"] = s.p50;
    j["p99_s"] = s.p99;
    j["max_s"] = s.max;
    j["round_s"] = r.round_s;
    j["predicted_max_s"] = r.predicted_last_s;
    j["client_server_s"] = client_server;
    fmt::print("{}\n", j.dump());
  } else {
    fmt::print("slides model: {} leechers + 1 seed, one piece of {}, everyone uploads at {}/s\n",
               args.peers, human_size(static_cast<std::int64_t>(file_bytes)),
               human_size(static_cast<std::int64_t>(up)));
    fmt::print(
        "last completion {:.3f} s = T x {:.3f} (T = {:.3f} s; T x ceil(log2 n) = {:.3f} s); "
        "client-server {:.1f} s\n",
        s.max, s.max / r.round_s, r.round_s, r.predicted_last_s, client_server);
  }
  return kSuccess;
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
  settings.grid = std::chrono::milliseconds(args.grid_ms);
  settings.have_delay = std::chrono::milliseconds(args.have_delay_ms);
  if (args.have_batch != "tick" && args.have_batch != "receiver") {
    return report("sim", args.have_batch, "--have-batch wants tick or receiver", kBadInput);
  }
  settings.have_delivery =
      args.have_batch == "tick" ? sim::HaveDelivery::tick : sim::HaveDelivery::per_receiver;
  settings.threads =
      args.threads > 0 ? args.threads
                       : static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1U, 2U));
  settings.neighbours = args.neighbours;
  settings.max_connections = args.max_connections;
  settings.time_limit = std::chrono::seconds(args.time_limit);
  settings.classes = args.classes;
  if (args.picker != "rarest" && args.picker != "random") {
    return report("sim", args.picker, "--picker wants rarest or random", kBadInput);
  }
  settings.selection =
      args.picker == "random" ? sim::PieceSelection::random : sim::PieceSelection::rarest_first;
  settings.timeline_step_s = args.timeline.empty() ? 0 : args.timeline_step;
  if (args.pipeline != "engine" && args.pipeline != "fixed") {
    return report("sim", args.pipeline, "--pipeline wants engine or fixed", kBadInput);
  }
  settings.engine_pipeline = args.pipeline == "engine";
  if (args.request_size != "pieces" && args.request_size != "depth") {
    return report("sim", args.request_size, "--request-size wants pieces or depth", kBadInput);
  }
  settings.whole_piece_requests = args.request_size == "pieces";
  if (args.end_game != "late" && args.end_game != "early") {
    return report("sim", args.end_game, "--end-game wants late or early", kBadInput);
  }
  settings.late_end_game = args.end_game == "late";
  if (args.model == "slides") {
    return run_slides(args, static_cast<double>(settings.file_size()), settings.up);
  }
  if (args.model != "swarm") {
    return report("sim", args.model, "--model wants swarm or slides", kBadInput);
  }

  const bool show_progress = stderr_is_terminal();
  const auto wall_start = std::chrono::steady_clock::now();
  auto last_print = wall_start;
  // Big swarms are memory-bound: huge pages under their state (-20 % CPU at 2,000 peers).
  if (args.peers >= 1000) {
    sim::reserve_huge_page_heap(static_cast<std::size_t>(args.peers + args.seeds) * 64 * 1024);
  }
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
    out << "peer,joined_s,completion_s,free_rider,class,uploaded_bytes,from_seeds_bytes\n";
    for (std::size_t i = 0; i < result.leechers.size(); ++i) {
      const sim::PeerOutcome& p = result.leechers[i];
      out << fmt::format("{},{:.6f},{:.6f},{},{},{:.0f},{:.0f}\n", i, p.joined_s, p.completion_s,
                         p.free_rider ? 1 : 0, p.capacity_class, p.uploaded, p.from_seeds);
    }
  }
  if (!args.timeline.empty()) {
    std::ofstream out(args.timeline);
    if (!out) return report("sim", args.timeline, "cannot write the timeline file", kFailed);
    out << "t_s,copies,entropy,utilisation,completed\n";
    for (const sim::TimelineSample& t : result.timeline) {
      out << fmt::format("{:.3f},{:.6f},{:.6f},{:.6f},{}\n", t.t_s, t.copies, t.entropy,
                         t.utilisation, t.completed);
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
    for (std::size_t c = 0; c < settings.classes.size(); ++c) {
      std::vector<double> times;
      for (const sim::PeerOutcome& peer : result.leechers) {
        if (peer.capacity_class == static_cast<int>(c) && peer.completion_s >= 0) {
          times.push_back(peer.completion_s);
        }
      }
      j["class_mean_s"].push_back(summarise(times).mean);
    }
    if (args.grid_ms > 0) j["grid_ms"] = args.grid_ms;  // the exact model's output is as before
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
    const std::string grid =
        args.grid_ms > 0 ? fmt::format("time grid {} ms", args.grid_ms) : "exact model (no grid)";
    fmt::print("run: {}, {:.1f} s simulated, {} events, {:.1f} s wall, {:.0f} MiB max RSS\n", grid,
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
  cmd->add_option("--have-delay", args->have_delay_ms,
                  "HAVEs reach a neighbour this late, ms, handled there in one batch")
      ->check(CLI::Range(0, 10000))
      ->default_str("100");
  cmd->add_option("--have-batch", args->have_batch,
                  "tick (every peer handles its HAVEs at one tick every --have-delay, on "
                  "--threads threads) or receiver (each peer --have-delay after its first HAVE)")
      ->default_str("tick");
  cmd->add_option("--threads", args->threads,
                  "Threads for the HAVE ticks and the grid's steps; the result is the same for "
                  "any number (default: 2 where there are two cores)")
      ->check(CLI::Range(0, 64))
      ->default_str("0");
  cmd->add_option("--latency", args->latency_ms, "Request round trip, ms")
      ->check(CLI::Range(0, 10000))
      ->default_str("50");
  cmd->add_option("--grid", args->grid_ms,
                  "Time grid, ms: every event on a multiple, rates refilled once per step, "
                  "CHOKE/UNCHOKE/INTERESTED take one step; 0: the exact event-driven model")
      ->check(CLI::Range(0, 10000))
      ->default_str("10");
  cmd->add_option("--neighbours", args->neighbours, "Peers in a tracker reply")
      ->check(CLI::Range(1, 1000))
      ->default_str("50");
  cmd->add_option("--max-connections", args->max_connections, "Connections per peer")
      ->check(CLI::Range(1, 1000))
      ->default_str("80");
  cmd->add_option("--time-limit", args->time_limit,
                  "Give up after this many simulated seconds (default: 50 x T_min)")
      ->check(CLI::Range(0, 100'000'000));
  cmd->add_option("--model", args->model,
                  "swarm (the real picker and choker) or slides (one piece, one upload at a time)")
      ->default_str("swarm");
  cmd->add_option("--picker", args->picker, "rarest (rarest first) or random piece selection")
      ->default_str("rarest");
  cmd->add_option("--pipeline", args->pipeline,
                  "engine (policy::RequestPipeline sets each connection's request depth) or fixed "
                  "(two piece-sized requests per connection)")
      ->default_str("engine");
  cmd->add_option("--request-size", args->request_size,
                  "On the grid: pieces (a connection asks in whole pieces once its depth allows) "
                  "or depth (whatever the pipeline's depth leaves free, as the exact model)")
      ->default_str("pieces");
  cmd->add_option("--end-game", args->end_game,
                  "On the grid: late (end game once every wanted piece is started or had) or "
                  "early (whenever the peer asked has nothing free: the engine's rule, as the "
                  "exact model)")
      ->default_str("late");
  cmd->add_option("--scenario", args->scenario,
                  "JSON scenario file (capacity classes and the flags' settings; flags win)");
  cmd->add_option("--csv", args->csv, "Write per-peer completion times to FILE");
  cmd->add_option("--timeline", args->timeline,
                  "Write copies, piece entropy and upload utilisation over time to FILE (CSV)");
  cmd->add_option("--timeline-step", args->timeline_step, "Seconds between timeline samples")
      ->check(CLI::Range(0.01, 1e6))
      ->default_str("1");
  cmd->add_flag("--json", args->json, "Print one JSON summary object");
  return [cmd, args]() {
    if (!cmd->parsed()) return -1;
    if (!args->scenario.empty()) {
      if (const int code = load_scenario(*cmd, *args); code != kSuccess) return code;
    }
    return run_sim(*args);
  };
}

}  // namespace starling::cli
