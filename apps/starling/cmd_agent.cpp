// starling agent --listen HOST:PORT --root DIR --secret-file FILE [--peer-listen HOST:PORT] ...
// The per-host daemon of a datacenter deploy: an HTTP/JSON API that takes signed jobs and runs
// them on one engine Session (see docs/deploy.md).
#include <fmt/format.h>

#include <boost/asio/signal_set.hpp>

#include "cli_common.hpp"
#include "deploy/agent.hpp"
#include "deploy/setup.hpp"
#include "http/server.hpp"
#include "session/session.hpp"
#include "transfer.hpp"

namespace starling::cli {
namespace {

namespace asio = boost::asio;

struct AgentArgs {
  std::string listen = "0.0.0.0:7070";
  std::string root;
  std::string secret_file;
  std::string peer_listen = "0.0.0.0:6881";
  std::string max_down;
  std::string max_up;
  int upload_slots = 8;
  bool utp = false;
  double stall_timeout = 120;
  double replay_window = 300;
  double hook_timeout = 600;
  bool verbose = false;
};

int run_agent(const AgentArgs& args) {
  auto secret = deploy::read_secret_file(args.secret_file);
  if (!secret) return report("agent", args.secret_file, secret.error(), kBadInput);
  const auto api = split_host_port(args.listen);
  if (!api)
    return report("agent", "--listen", "expected HOST:PORT, got '" + args.listen + "'", kBadInput);
  const auto peers = split_host_port(args.peer_listen);
  if (!peers) {
    return report("agent", "--peer-listen", "expected HOST:PORT, got '" + args.peer_listen + "'",
                  kBadInput);
  }
  boost::system::error_code ec;
  const auto api_address = asio::ip::make_address(api->first, ec);
  if (ec) return report("agent", "--listen", "not a numeric address: " + api->first, kBadInput);

  session::SessionSettings settings;
  deploy::tune_for_datacenter(settings, args.upload_slots);
  settings.enable_utp = args.utp;
  settings.max_download_rate = args.max_down.empty() ? 0 : parse_size(args.max_down).value_or(0);
  settings.max_upload_rate = args.max_up.empty() ? 0 : parse_size(args.max_up).value_or(0);
  session::Session session(settings);
  if (args.verbose) {
    session.logger = [](const std::string& line) { fmt::print(stderr, "{}\n", line); };
  }
  auto port = session.listen(peers->first, peers->second, false);
  if (!port) return report("agent", "--peer-listen " + args.peer_listen, port.error(), kFailed);

  deploy::AgentSettings agent_settings;
  agent_settings.root = args.root;
  agent_settings.secret = *secret;
  agent_settings.stall_timeout = std::chrono::seconds(static_cast<long>(args.stall_timeout));
  agent_settings.replay_window = static_cast<std::int64_t>(args.replay_window);
  agent_settings.hook_timeout = std::chrono::seconds(static_cast<long>(args.hook_timeout));
  deploy::Agent agent(session, agent_settings);
  if (auto s = agent.start(); !s) return report("agent", "--root " + args.root, s.error(), kFailed);

  http::Server server(
      session.io(), [&agent, &args](const http::Request& request, const http::Endpoint& remote,
                                    const http::Reply& reply) {
        const std::string method(request.method_string());
        const std::string target(request.target());
        const auto answer = agent.handle(method, target, request.body());
        if (args.verbose || answer.status >= 400) {
          fmt::print(stderr, "agent: {} {} {} from {}\n", method, target.substr(0, 80),
                     answer.status, remote.address().to_string());
        }
        reply(http::make_response(request, static_cast<http::Status>(answer.status), answer.body));
      });
  if (auto s = server.listen(http::Endpoint(api_address, api->second)); !s) {
    return report("agent", "--listen " + args.listen, s.error(), kFailed);
  }
  const auto bound = server.local_endpoint();
  fmt::print("agent: API http://{}:{}/v1/jobs, peers on port {}, root {}\n",
             bound.address().to_string(), bound.port(), *port,
             agent.state_dir().parent_path().string());
  std::fflush(stdout);

  asio::signal_set signals(session.io(), SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& error, int) {
    if (error) return;
    server.stop();
    agent.stop();
    session.stop();
    session.io().stop();
  });
  session.io().run();
  return kSuccess;
}

}  // namespace

Runner add_agent_command(CLI::App& app) {
  auto args = std::make_shared<AgentArgs>();
  auto* cmd = app.add_subcommand(
      "agent", "Run a deploy agent: take signed jobs over HTTP and fetch them with BitTorrent");
  cmd->add_option("--listen", args->listen, "API address, HOST:PORT (numeric; port 0 = any)")
      ->default_str("0.0.0.0:7070");
  cmd->add_option("--root", args->root, "Every job's destination lies below DIR")
      ->required()
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--secret-file", args->secret_file,
                  "The shared secret jobs are signed with (at least 16 bytes)")
      ->required();
  cmd->add_option("--peer-listen", args->peer_listen,
                  "Accept BitTorrent peers on HOST:PORT (port 0 = any)")
      ->default_str("0.0.0.0:6881");
  const CLI::Validator rate(
      [](const std::string& text) -> std::string {
        return parse_size(text) ? "" : "expected a rate in bytes per second such as 500k or 2m";
      },
      "RATE");
  cmd->add_option("--max-down", args->max_down, "Download at most RATE bytes/s (0 = no limit)")
      ->check(rate);
  cmd->add_option("--max-up", args->max_up, "Upload at most RATE bytes/s (0 = no limit)")
      ->check(rate);
  cmd->add_option("--upload-slots", args->upload_slots, "Peers uploaded to at once")
      ->check(CLI::Range(1, 1000))
      ->default_str("8");
  cmd->add_flag("--utp", args->utp,
                "Also use uTP (default TCP only: inside a datacenter there is no home uplink to "
                "yield to)");
  cmd->add_option("--stall-timeout", args->stall_timeout,
                  "Fail a download with no verified byte for SECONDS")
      ->check(CLI::Range(5.0, 86400.0))
      ->default_str("120");
  cmd->add_option("--replay-window", args->replay_window,
                  "Accept jobs signed at most SECONDS ago (or ahead); nonces are remembered")
      ->check(CLI::Range(10.0, 86400.0))
      ->default_str("300");
  cmd->add_option("--hook-timeout", args->hook_timeout,
                  "Kill a job's on_done command (and what it started) after SECONDS; the job fails")
      ->check(CLI::Range(1.0, 86400.0))
      ->default_str("600");
  cmd->add_flag("-v,--verbose", args->verbose, "Log every request and peer event on stderr");
  return [cmd, args] { return cmd->parsed() ? run_agent(*args) : -1; };
}

}  // namespace starling::cli
