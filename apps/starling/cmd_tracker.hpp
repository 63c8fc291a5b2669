// starling tracker: registered by main.cpp like the other subcommands (see cli_common.hpp).
#pragma once

#include "cli_common.hpp"

namespace starling::cli {
Runner add_tracker_command(CLI::App& app);
}  // namespace starling::cli
