// What every subcommand shares: exit codes, size parsing, error reporting, human formatting.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/bitfield.hpp"
#include "core/error.hpp"
#include "metainfo/torrent_info.hpp"

namespace starling::cli {

// CLI.md: 0 success, 1 the work failed, 2 bad usage or bad input.
enum Exit : int { kSuccess = 0, kFailed = 1, kBadInput = 2 };

// A subcommand registers its flags and returns what to run once they are parsed.
using Runner = std::function<int()>;
Runner add_create_command(CLI::App& app);
Runner add_info_command(CLI::App& app);
Runner add_verify_command(CLI::App& app);
Runner add_download_command(CLI::App& app);
Runner add_seed_command(CLI::App& app);
Runner add_sim_command(CLI::App& app);
Runner add_daemon_command(CLI::App& app);
Runner add_agent_command(CLI::App& app);   // cmd_agent.cpp
Runner add_deploy_command(CLI::App& app);  // cmd_deploy.cpp

// Where a torrent's data lives given a user's DATA_PATH: normally the directory holding the
// torrent's file or top folder (as `download -o` lays it out); also the single file itself, or
// the top folder itself under another name. Returns the layout to use and its directory.
std::pair<FileLayout, std::filesystem::path> locate_data(const TorrentInfo& torrent,
                                                         const std::filesystem::path& data_path);

// "16k", "4M", "1g", "512": powers of 1024. nullopt when malformed or out of range.
std::optional<std::int64_t> parse_size(std::string_view text);

// "starling <command>: <subject>: <message>" on stderr; returns `code` for convenience.
int report(std::string_view command, std::string_view subject, const Error& error, int code);
int report(std::string_view command, std::string_view subject, std::string_view message, int code);

// Hash-checks the torrent's data (laid out as `layout` below `directory`) against its piece
// hashes, with a progress bar labelled `label` on a terminal when `show_progress`.
struct DataCheck {
  Bitfield good;                   // pieces that match
  std::vector<Error> read_errors;  // one per file that could not be read
  std::size_t bad() const { return good.size() - good.count(); }
};
DataCheck check_data(const TorrentInfo& torrent, const FileLayout& layout,
                     const std::filesystem::path& directory, const std::string& label,
                     bool show_progress, int threads = 0);

std::string human_size(std::int64_t bytes);  // "1.5 MiB"
bool stderr_is_terminal();

}  // namespace starling::cli
