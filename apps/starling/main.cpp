// starling — BitTorrent-compatible content distribution. One file per subcommand; see CLI.md.
#include <malloc.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "cli_common.hpp"
#include "cmd_tracker.hpp"

namespace {

int run(int argc, char** argv) {
  using namespace starling::cli;
  CLI::App app{"starling: BitTorrent-compatible peer-to-peer content distribution", "starling"};
  app.set_version_flag("-V,--version", "starling " STARLING_VERSION);
  app.require_subcommand(1);
  app.fallthrough(false);

  const std::vector<Runner> runners = {add_create_command(app), add_info_command(app),
                                       add_verify_command(app), add_download_command(app),
                                       add_seed_command(app),   add_tracker_command(app),
                                       add_sim_command(app),    add_daemon_command(app),
                                       add_agent_command(app),  add_deploy_command(app)};
  if (argc < 2) {
    fmt::print(stderr, "{}", app.help());
    return kBadInput;
  }
  const auto subcommands = app.get_subcommands([](const CLI::App*) { return true; });
  const bool known = std::any_of(subcommands.begin(), subcommands.end(),
                                 [&](const CLI::App* sub) { return sub->check_name(argv[1]); });
  if (argv[1][0] != '-' && !known) {
    fmt::print(stderr, "starling: unknown command '{}'\nRun 'starling --help' for the commands.\n",
               argv[1]);
    return kBadInput;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "starling: {}\nRun 'starling --help' for usage.\n", e.what());
    return kBadInput;
  }
  for (const auto& runner : runners) {
    if (int code = runner(); code >= 0) return code;
  }
  return kBadInput;
}

}  // namespace

int main(int argc, char** argv) {
  // Receive buffers of ~100 KiB come and go at 10,000 a second while downloading. glibc's
  // defaults would hand them back to the kernel (munmap, or trimming the heap) and fault fresh
  // zeroed pages in again: ~7% of a fast download's CPU. Keep freed memory for reuse instead.
  ::mallopt(M_MMAP_THRESHOLD, 8 << 20);
  ::mallopt(M_TRIM_THRESHOLD, 64 << 20);
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    // Only a bug or an exhausted resource (std::bad_alloc) gets here: say so rather than abort.
    std::fprintf(stderr, "starling: internal error: %s\n", e.what());
    return starling::cli::kFailed;
  }
}
