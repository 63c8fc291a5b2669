// starling daemon: one long-running Session driven over Transmission's RPC (transmission-remote,
// the Transmission web client, scripts), with its state in a config directory.
#include <fmt/format.h>

#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "cli_common.hpp"
#include "rpc/daemon_backend.hpp"
#include "rpc/daemon_http.hpp"
#include "rpc/transport.hpp"
#include "session/session.hpp"
#include "transfer.hpp"

namespace starling::cli {
namespace fs = std::filesystem;
namespace {

constexpr const char* kDebianWebRoot = "/usr/share/transmission/web";

struct DaemonArgs {
  std::string rpc = "127.0.0.1:9091";
  std::string config_dir;
  std::string download_dir;
  std::string watch_dir;
  std::string web_root;
  std::string listen = "0.0.0.0:51413";
  std::vector<std::string> peers;
  std::string auth;  // USER:PASSWORD
  std::vector<std::string> allowed_hosts;
  bool no_host_check = false;
  bool metrics_per_torrent = false;
  bool tcp_only = false;
  bool no_dht = false;
  std::vector<std::string> dht_bootstrap;
  bool verbose = false;
};

fs::path default_config_dir() {
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg != nullptr && *xdg != '\0') {
    return fs::path(xdg) / "starling";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return fs::path(home) / ".config" / "starling";
  }
  return fs::current_path() / ".starling";
}

std::optional<boost::asio::ip::tcp::endpoint> endpoint_of(const std::string& text) {
  auto split = split_host_port(text);
  if (!split) return std::nullopt;
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(split->first, ec);
  if (ec) return std::nullopt;
  return boost::asio::ip::tcp::endpoint(address, split->second);
}

// Adds .torrent files that appear in the watch directory; renames each to NAME.added once
// taken (as Transmission does), or NAME.invalid when it cannot be added.
void scan_watch_dir(const fs::path& dir, rpc::DaemonBackend& backend, session::Session& session) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (!entry.is_regular_file(ec) || entry.path().extension() != ".torrent") continue;
    auto added = backend.add_path(entry.path());
    const fs::path renamed = entry.path().string() + (added ? ".added" : ".invalid");
    if (!added) {
      session.log("watch: " + entry.path().string() + ": " + added.error().message());
    } else {
      session.log(fmt::format("watch: {} {} as torrent {}", entry.path().string(),
                              added->duplicate ? "already known" : "added", added->id));
    }
    fs::rename(entry.path(), renamed, ec);
  }
}

int run_daemon(const DaemonArgs& args) {
  const auto rpc_endpoint = endpoint_of(args.rpc);
  if (!rpc_endpoint) return report("daemon", args.rpc, "--rpc wants HOST:PORT", kBadInput);
  const auto listen = split_host_port(args.listen);
  if (!listen) return report("daemon", args.listen, "--listen wants HOST:PORT", kBadInput);
  std::vector<boost::asio::ip::tcp::endpoint> peers;
  for (const auto& p : args.peers) {
    auto e = endpoint_of(p);
    if (!e) return report("daemon", p, "--peer wants IP:PORT", kBadInput);
    peers.push_back(*e);
  }
  rpc::DaemonHttpSettings http_settings;
  http_settings.transport.session_id = rpc::make_session_id();
  if (!args.auth.empty()) {
    const auto colon = args.auth.find(':');
    if (colon == std::string::npos)
      return report("daemon", "--rpc-auth", "wants USER:PASSWORD", kBadInput);
    http_settings.transport.credentials =
        std::make_pair(args.auth.substr(0, colon), args.auth.substr(colon + 1));
  }
  http_settings.transport.allowed_hosts = args.allowed_hosts;
  http_settings.transport.host_allow_list_enabled = !args.no_host_check;
  http_settings.metrics_per_torrent = args.metrics_per_torrent;
  if (!args.web_root.empty()) {
    http_settings.web_root = args.web_root;
  } else if (fs::exists(fs::path(kDebianWebRoot) / "index.html")) {
    http_settings.web_root = kDebianWebRoot;
  }
  const fs::path config_dir =
      args.config_dir.empty() ? default_config_dir() : fs::path(args.config_dir);

  session::SessionSettings settings;
  settings.enable_utp = !args.tcp_only;
  settings.enable_dht = !args.no_dht;
  // A daemon can be killed at any moment: keep the resume data fresher than a one-shot download.
  settings.resume_interval = std::chrono::seconds(10);
  session::Session session(settings);
  if (args.verbose) {
    session.logger = [](const std::string& line) {
      fmt::print(stderr, "starling daemon: {}\n", line);
    };
  }
  auto port = session.listen(listen->first, listen->second, true);
  if (!port) return report("daemon", args.listen, port.error(), kFailed);
  std::error_code ec;
  fs::create_directories(config_dir, ec);
  if (ec) return report("daemon", config_dir.string(), ec.message(), kFailed);
  if (settings.enable_dht) {
    std::vector<boost::asio::ip::udp::endpoint> bootstrap;
    for (const auto& text : args.dht_bootstrap) {
      auto e = endpoint_of(text);
      if (!e) return report("daemon", text, "--dht-bootstrap wants IP:PORT", kBadInput);
      bootstrap.emplace_back(e->address(), e->port());
    }
    if (auto s = session.start_dht(bootstrap, config_dir / "dht.dat"); !s) {
      report("daemon", "DHT", s.error(), 0);
    }
  }

  rpc::DaemonConfig config;
  config.config_dir = config_dir;
  if (!args.download_dir.empty()) config.download_dir = fs::absolute(args.download_dir);
  config.version = std::string(STARLING_VERSION) + " (starling)";
  config.peers = peers;
  rpc::DaemonBackend backend(session, config);
  if (auto s = backend.restore(); !s)
    return report("daemon", config_dir.string(), s.error(), kFailed);

  rpc::DaemonHttp http(session.io(), backend, http_settings);
  if (auto s = http.listen(*rpc_endpoint); !s)
    return report("daemon", args.rpc, s.error(), kFailed);
  const auto bound = http.local_endpoint();
  fmt::print(
      stderr,
      "starling daemon: rpc on http://{}:{}/transmission/rpc, peers on port {}, config in {}\n",
      bound.address().to_string(), bound.port(), *port, config_dir.string());

  boost::asio::steady_timer tick(session.io());
  int ticks = 0;
  std::function<void()> schedule = [&] {
    tick.expires_after(std::chrono::seconds(1));
    tick.async_wait([&](boost::system::error_code e) {
      if (e) return;
      backend.tick();
      if (!args.watch_dir.empty() && ++ticks % 2 == 0)
        scan_watch_dir(args.watch_dir, backend, session);
      schedule();
    });
  };
  if (!args.watch_dir.empty()) {
    fs::create_directories(args.watch_dir, ec);
    scan_watch_dir(args.watch_dir, backend, session);
  }
  schedule();

  boost::asio::signal_set signals(session.io(), SIGINT, SIGTERM);
  boost::asio::steady_timer grace(session.io());
  signals.async_wait([&](boost::system::error_code e, int signal) {
    if (e) return;
    fmt::print(stderr, "starling daemon: {}, saving state and stopping\n",
               signal == SIGTERM ? "SIGTERM" : "SIGINT");
    tick.cancel();
    http.stop();
    backend.shutdown();
    session.stop();
    // Closing connections get a moment to send; the disk pool finishes its queue on exit.
    grace.expires_after(std::chrono::milliseconds(300));
    grace.async_wait([&](boost::system::error_code) { session.io().stop(); });
  });
  session.io().run();
  return kSuccess;
}

}  // namespace

Runner add_daemon_command(CLI::App& app) {
  auto args = std::make_shared<DaemonArgs>();
  auto* cmd = app.add_subcommand(
      "daemon", "Run torrents in the background, driven over Transmission's RPC and web client");
  cmd->add_option("--rpc", args->rpc, "Where the RPC, web client and /metrics listen (HOST:PORT)")
      ->capture_default_str();
  cmd->add_option("--config-dir", args->config_dir,
                  "State directory (default $XDG_CONFIG_HOME/starling)");
  cmd->add_option(
      "--download-dir", args->download_dir,
      "Where new torrents save (default: the saved setting, else CONFIG_DIR/downloads)");
  cmd->add_option("--watch-dir", args->watch_dir, "Add .torrent files that appear here");
  cmd->add_option("--web-root", args->web_root,
                  "The Transmission web client's files (default /usr/share/transmission/web)");
  cmd->add_option("--listen", args->listen, "Peer port (HOST:PORT; the next free one if taken)")
      ->capture_default_str();
  cmd->add_option("--peer", args->peers, "Also dial this peer for every torrent (IP:PORT)");
  cmd->add_option("--rpc-auth", args->auth, "Require HTTP Basic auth (USER:PASSWORD)");
  cmd->add_option("--rpc-allowed-host", args->allowed_hosts,
                  "Host names accepted besides IP literals and localhost (\"*.lan\" allowed)");
  cmd->add_flag("--no-host-check", args->no_host_check,
                "Accept any Host header (turns off the DNS-rebinding guard)");
  cmd->add_flag("--metrics-per-torrent", args->metrics_per_torrent,
                "Per-torrent series on /metrics (labelled by info-hash)");
  cmd->add_flag("--tcp-only", args->tcp_only, "No uTP");
  cmd->add_flag("--no-dht", args->no_dht, "No DHT node");
  cmd->add_option("--dht-bootstrap", args->dht_bootstrap, "Join the DHT through IP:PORT");
  cmd->add_flag("-v,--verbose", args->verbose, "Log connections and failures");
  return [cmd, args] { return cmd->parsed() ? run_daemon(*args) : -1; };
}

}  // namespace starling::cli
