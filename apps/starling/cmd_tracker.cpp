// starling tracker [--http HOST:PORT] [--udp HOST:PORT] [--store memory|redis://...] ...
#include "cmd_tracker.hpp"

#include <fmt/format.h>
#include <sys/resource.h>

#include <boost/asio/signal_set.hpp>
#include <fstream>
#include <optional>
#include <string>

#include "core/digest.hpp"
#include "net/host_port.hpp"
#include "tracker/connection_id.hpp"
#include "tracker/peer_store.hpp"
#include "tracker/redis_peer_store.hpp"
#include "tracker/tracker_server.hpp"
#include "tracker/tracker_service.hpp"

namespace starling::cli {
namespace {

namespace asio = boost::asio;
using net::format_endpoint;
using net::HostPort;
using net::parse_host_port;

struct TrackerArgs {
  std::string http = "0.0.0.0:6969";
  std::optional<std::string> udp;
  std::uint32_t interval = 1800;
  std::optional<std::uint32_t> min_interval;
  std::optional<std::uint32_t> peer_timeout;
  std::string whitelist;
  std::size_t threads = 0;
  std::size_t max_peers = 10'000'000;
  std::size_t max_peers_per_torrent = 100'000;
  std::size_t max_torrents = 1'000'000;
  int numwant = 50;
  int max_numwant = 200;
  std::size_t max_connections = 16384;
  std::string store = "memory";
};

// One 40-hex info-hash per line; blank lines and '#' comments are skipped.
std::optional<std::vector<Sha1Digest>> load_whitelist(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    report("tracker", path, "cannot open the whitelist", 0);
    return std::nullopt;
  }
  std::vector<Sha1Digest> hashes;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    const std::size_t begin = line.find_first_not_of(" \t\r");
    if (begin == std::string::npos || line[begin] == '#') continue;
    const std::size_t end = line.find_last_not_of(" \t\r");
    auto hash = Sha1Digest::from_hex(std::string_view(line).substr(begin, end - begin + 1));
    if (!hash) {
      report("tracker", fmt::format("{}:{}", path, number),
             "not a 40-hex-digit info-hash: '" + line.substr(0, 60) + "'", 0);
      return std::nullopt;
    }
    hashes.push_back(*hash);
  }
  return hashes;
}

// Each connection is a descriptor: take the hard limit rather than the usual 1024.
void raise_descriptor_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

int run_tracker(const TrackerArgs& args) {
  const auto http = args.http == "off" ? std::optional<HostPort>() : parse_host_port(args.http);
  if (args.http != "off" && !http) {
    return report("tracker", args.http, "--http wants HOST:PORT (e.g. 0.0.0.0:6969) or off",
                  kBadInput);
  }
  const std::string udp_text = args.udp.value_or(args.http);
  const auto udp = udp_text == "off" ? std::optional<HostPort>() : parse_host_port(udp_text);
  if (udp_text != "off" && !udp) {
    return report("tracker", udp_text, "--udp wants HOST:PORT (e.g. 0.0.0.0:6969) or off",
                  kBadInput);
  }
  if (!http && !udp) return report("tracker", "", "both --http and --udp are off", kBadInput);

  tracker::TrackerSettings settings;
  settings.interval = args.interval;
  settings.min_interval = args.min_interval.value_or(args.interval / 2);
  settings.store.max_peers = args.max_peers;
  settings.store.max_peers_per_torrent = args.max_peers_per_torrent;
  settings.store.max_torrents = args.max_torrents;
  settings.store.default_numwant = std::min(args.numwant, args.max_numwant);
  settings.store.max_numwant = args.max_numwant;
  settings.store.peer_timeout =
      tracker::Seconds(args.peer_timeout.value_or(2 * args.interval + 120));

  std::vector<Sha1Digest> whitelist;
  if (!args.whitelist.empty()) {
    auto loaded = load_whitelist(args.whitelist);
    if (!loaded) return kBadInput;
    whitelist = std::move(*loaded);
  }
  const std::size_t whitelisted = whitelist.size();

  tracker::ServerOptions options;
  options.threads = args.threads;
  options.http_limits.max_connections =
      args.max_connections /
      std::max<std::size_t>(1, args.threads ? args.threads : std::thread::hardware_concurrency());
  if (http) options.http = asio::ip::tcp::endpoint(http->address, http->port);
  if (udp) options.udp = asio::ip::udp::endpoint(udp->address, udp->port);
  // --udp defaults to --http: with port 0, UDP takes the port HTTP was given.
  if (http && udp && !args.udp && http->port == 0) options.udp_port_from_http = true;
  options.sweep_every = tracker::Seconds(std::clamp<std::uint32_t>(args.interval / 4, 1, 60));

  std::unique_ptr<tracker::SwarmStore> store;
  std::string store_text = "in memory";
  if (args.store == "memory") {
    store = std::make_unique<tracker::PeerStore>(settings.store);
  } else {
    auto url = tracker::parse_redis_url(args.store);
    if (!url) return report("tracker", "--store", url.error(), kBadInput);
    auto redis = tracker::RedisPeerStore::open(*url, settings.store);
    if (!redis) return report("tracker", "--store", redis.error(), kFailed);
    // Operators see Redis going away and coming back; clients get a failure reason meanwhile.
    (*redis)->on_state_change([](bool available, const std::string& detail) {
      if (available) {
        fmt::print(stderr, "starling tracker: redis answers again\n");
      } else {
        fmt::print(stderr, "starling tracker: redis unavailable, announces refused: {}\n", detail);
      }
    });
    store = std::move(*redis);
    store_text = "in " + url->text();
    options.wall_clock = true;  // every replica stamps peers with the same clock
  }

  raise_descriptor_limit();
  tracker::TrackerService service(
      settings, tracker::ConnectionIds::with_random_key(),
      options.threads ? options.threads : std::max(1U, std::thread::hardware_concurrency()),
      std::move(store));
  service.store().set_whitelist(std::move(whitelist));
  tracker::TrackerServer server(service, options);
  if (auto bound = server.bind(); !bound) return report("tracker", "", bound.error(), kFailed);

  if (auto e = server.http_endpoint()) {
    fmt::print("listening: http://{}/announce\n", format_endpoint(e->address(), e->port()));
  }
  if (auto e = server.udp_endpoint()) {
    fmt::print("listening: udp://{}\n", format_endpoint(e->address(), e->port()));
  }
  fmt::print("tracker: {} threads, interval {} s, {}, peers {}\n", server.threads(),
             settings.interval,
             whitelisted == 0 ? std::string("open (any torrent)")
                              : fmt::format("whitelist of {} torrents", whitelisted),
             store_text);
  std::fflush(stdout);

  asio::signal_set signals(server.main_context(), SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (!ec) server.stop();
  });
  server.run();
  return kSuccess;
}

}  // namespace

Runner add_tracker_command(CLI::App& app) {
  auto args = std::make_shared<TrackerArgs>();
  auto* cmd = app.add_subcommand(
      "tracker", "Run a BitTorrent tracker: HTTP /announce, /scrape, /stats and BEP 15 UDP");
  cmd->add_option("--http", args->http,
                  "Address for HTTP (BEP 3, 7, 23, 48): HOST:PORT, [V6]:PORT, or off")
      ->default_str("0.0.0.0:6969");
  cmd->add_option("--udp", args->udp,
                  "Address for UDP (BEP 15): HOST:PORT or off (default: the same as --http)");
  cmd->add_option("--interval", args->interval, "Seconds between announces asked of clients")
      ->check(CLI::Range(10U, 86400U))
      ->default_str("1800");
  cmd->add_option("--min-interval", args->min_interval,
                  "\"min interval\" in HTTP replies (default: interval / 2)")
      ->check(CLI::Range(0U, 86400U));
  cmd->add_option("--peer-timeout", args->peer_timeout,
                  "Seconds without an announce before a peer is dropped (default: 2 x interval "
                  "+ 120)")
      ->check(CLI::Range(10U, 7U * 86400U));
  cmd->add_option("--whitelist", args->whitelist,
                  "Serve only the info-hashes in FILE (40 hex digits per line; '#' comments). "
                  "Default: any torrent");
  cmd->add_option("--threads", args->threads, "Server threads (default: one per core)")
      ->check(CLI::Range(1, 256));
  cmd->add_option("--max-peers", args->max_peers,
                  "Peers remembered in all torrents together; beyond it, announces are answered "
                  "but not stored")
      ->default_str("10000000");
  cmd->add_option("--max-peers-per-torrent", args->max_peers_per_torrent,
                  "Peers remembered per torrent")
      ->default_str("100000");
  cmd->add_option("--max-torrents", args->max_torrents,
                  "Torrents tracked; announces for new ones beyond it get a failure reason")
      ->default_str("1000000");
  cmd->add_option("--numwant", args->numwant, "Peers returned when a client does not say")
      ->check(CLI::Range(0, 1000))
      ->default_str("50");
  cmd->add_option("--max-numwant", args->max_numwant, "Most peers returned in one reply")
      ->check(CLI::Range(0, 1000))
      ->default_str("200");
  cmd->add_option("--max-connections", args->max_connections, "Open HTTP connections at most")
      ->default_str("16384");
  cmd->add_option("--store", args->store,
                  "Where the peers live: memory, or redis://HOST[:PORT][/DB][?prefix=NAME] "
                  "(shared by several tracker replicas; port 6379, db 0, prefix starling by "
                  "default)")
      ->default_str("memory");
  cmd->footer(
      "A peer's address is the one its request came from; `ip=` (HTTP) and the IP field (UDP) "
      "are ignored.\nPeers are kept in memory (about 30 bytes per IPv4 peer), or in Redis with "
      "--store, and dropped after --peer-timeout.\nGET /stats returns JSON counters (torrents, "
      "peers, seeds, "
      "announces, errors). SIGINT or SIGTERM stops it (exit 0).\nExample: starling tracker "
      "--http 0.0.0.0:6969 --whitelist allowed.txt");
  return [cmd, args] { return cmd->parsed() ? run_tracker(*args) : -1; };
}

}  // namespace starling::cli
