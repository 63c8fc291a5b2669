// starling verify TORRENT DATA_PATH [--json]
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli_common.hpp"
#include "metainfo/torrent_info.hpp"

namespace starling::cli {
namespace fs = std::filesystem;
namespace {

struct VerifyArgs {
  std::string torrent;
  std::string data;
  bool json = false;
  int threads = 0;
  bool quiet = false;
};

int run_verify(const VerifyArgs& args) {
  auto torrent = load_torrent(args.torrent);
  if (!torrent) return report("verify", args.torrent, torrent.error(), kBadInput);
  const fs::path data = fs::path(args.data).lexically_normal();
  std::error_code ec;
  if (!fs::exists(data, ec)) {
    return report("verify", args.data, "no such file or directory", kFailed);
  }
  auto [layout, root] = locate_data(*torrent, data);

  const DataCheck check =
      check_data(*torrent, layout, root, "verifying", !args.quiet && !args.json, args.threads);
  std::vector<std::int32_t> bad;
  for (std::size_t i = 0; i < check.good.size(); ++i) {
    if (!check.good[i]) bad.push_back(static_cast<std::int32_t>(i));
  }
  const auto pieces = static_cast<std::int64_t>(check.good.size());
  const auto good = pieces - static_cast<std::int64_t>(bad.size());
  for (const auto& e : check.read_errors) {
    if (!args.quiet) report("verify", "", e, 0);
  }
  if (args.json) {
    nlohmann::ordered_json j = {{"pieces", pieces}, {"good", good}, {"bad", bad}};
    fmt::print("{}\n", j.dump());
  } else if (!args.quiet) {
    fmt::print("{}: {} of {} pieces good", torrent->name, good, pieces);
    if (bad.empty()) {
      fmt::print(", data is complete\n");
    } else {
      constexpr std::size_t kShown = 20;
      fmt::print(
          "; bad: {}{}\n",
          fmt::join(bad.begin(),
                    bad.begin() + static_cast<std::ptrdiff_t>(std::min(bad.size(), kShown)), ","),
          bad.size() > kShown ? fmt::format(" and {} more", bad.size() - kShown) : "");
    }
  }
  return bad.empty() ? kSuccess : kFailed;
}

}  // namespace

Runner add_verify_command(CLI::App& app) {
  auto args = std::make_shared<VerifyArgs>();
  auto* cmd = app.add_subcommand("verify", "Hash-check a torrent's data on disk");
  cmd->add_option("TORRENT", args->torrent, "The .torrent file")->required();
  cmd->add_option("DATA_PATH", args->data,
                  "Directory holding the torrent's file (single-file) or top folder (multi-file)")
      ->required();
  cmd->add_flag("--json", args->json, R"(Print {"pieces","good","bad":[indices]})");
  cmd->add_option("--threads", args->threads, "Hashing threads (default: one per core)")
      ->check(CLI::Range(1, 256));
  cmd->add_flag("-q,--quiet", args->quiet, "Print nothing; the exit code tells");
  return [cmd, args] { return cmd->parsed() ? run_verify(*args) : -1; };
}

}  // namespace starling::cli
