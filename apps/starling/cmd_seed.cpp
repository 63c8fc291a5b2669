// starling seed TORRENT DATA_PATH
#include <fmt/format.h>

#include <filesystem>

#include "cli_common.hpp"
#include "transfer.hpp"

namespace starling::cli {
namespace fs = std::filesystem;
namespace {

struct SeedArgs {
  std::string torrent;
  std::string data;
  bool skip_check = false;
  bool super_seed = false;
  TransferArgs transfer;
};

int run_seed(SeedArgs& args) {
  auto torrent = load_torrent(args.torrent);
  if (!torrent) return report("seed", args.torrent, torrent.error(), kBadInput);
  std::error_code ec;
  if (!fs::exists(args.data, ec))
    return report("seed", args.data, "no such file or directory", kFailed);
  auto [layout, directory] = locate_data(*torrent, args.data);
  Bitfield verified(static_cast<std::size_t>(torrent->num_pieces()), true);
  if (!args.skip_check) {
    const DataCheck check = check_data(*torrent, layout, directory, "checking",
                                       !args.transfer.json && !args.transfer.quiet);
    if (check.bad() > 0) {
      for (const auto& e : check.read_errors) report("seed", "", e, 0);
      return report("seed", args.data,
                    fmt::format("{} of {} pieces do not match the torrent; `starling verify` "
                                "lists them",
                                check.bad(), check.good.size()),
                    kFailed);
    }
  }
  torrent->layout = std::move(layout);
  TransferJob job{.command = "seed",
                  .torrent = std::move(*torrent),
                  .directory = directory,
                  .verified = std::move(verified),
                  .super_seed = args.super_seed};
  return run_transfer(args.transfer, job);
}

}  // namespace

Runner add_seed_command(CLI::App& app) {
  auto args = std::make_shared<SeedArgs>();
  auto* cmd = app.add_subcommand("seed", "Serve a torrent's complete data to peers");
  cmd->add_option("TORRENT", args->torrent, "The .torrent file")->required();
  cmd->add_option("DATA_PATH", args->data,
                  "Directory holding the torrent's file (single-file) or top folder (multi-file)")
      ->required();
  cmd->add_flag("--skip-check", args->skip_check, "Trust the data without hashing it first");
  cmd->add_flag("--super-seed", args->super_seed,
                "Initial seeding (BEP 16): offer each peer a few pieces at a time so that every "
                "piece leaves this seed once before any leaves twice");
  add_transfer_flags(*cmd, args->transfer, false);
  return [cmd, args] { return cmd->parsed() ? run_seed(*args) : -1; };
}

}  // namespace starling::cli
