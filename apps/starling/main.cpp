// starling — BitTorrent-compatible content distribution. One file per subcommand; see CLI.md.
#include <fmt/format.h>

#include <cstdio>
#include <vector>

#include "cli_common.hpp"

int main(int argc, char** argv) {
  using namespace starling::cli;
  CLI::App app{"starling: BitTorrent-compatible peer-to-peer content distribution"};
  app.set_version_flag("-V,--version", "starling " STARLING_VERSION);
  app.require_subcommand(1);
  app.fallthrough(false);

  const std::vector<Runner> runners = {add_create_command(app), add_info_command(app),
                                       add_verify_command(app)};
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
  for (const auto& run : runners) {
    if (int code = run(); code >= 0) return code;
  }
  return kBadInput;
}
