// starling download SOURCE -o DIR
#include <fmt/format.h>

#include <charconv>
#include <filesystem>

#include "cli_common.hpp"
#include "core/digest.hpp"
#include "metainfo/magnet.hpp"
#include "storage/resume_data.hpp"
#include "transfer.hpp"

namespace starling::cli {
namespace fs = std::filesystem;
namespace {

struct DownloadArgs {
  std::string source;
  std::string output = ".";
  std::string select;
  bool sequential = false;
  std::string save_torrent;  // magnet: write the fetched metadata as a .torrent here
  TransferArgs transfer;
};

// "1,3-5" -> priority 1 for those file indices, 0 for the others.
Expected<std::vector<int>> parse_select(std::string_view text, std::size_t files) {
  std::vector<int> priorities(files, 0);
  while (!text.empty()) {
    const auto comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    const auto dash = item.find('-');
    std::size_t first = 0;
    std::size_t last = 0;
    const std::string_view a = item.substr(0, dash);
    const std::string_view b = dash == std::string_view::npos ? a : item.substr(dash + 1);
    const bool ok_a =
        std::from_chars(a.data(), a.data() + a.size(), first).ptr == a.data() + a.size();
    const bool ok_b =
        std::from_chars(b.data(), b.data() + b.size(), last).ptr == b.data() + b.size();
    if (a.empty() || b.empty() || !ok_a || !ok_b || first > last || last >= files) {
      return Error(Errc::invalid_argument, "--select: '" + std::string(item) +
                                               "' is not a file index or range below " +
                                               std::to_string(files) + " (see `starling info`)");
    }
    for (std::size_t i = first; i <= last; ++i) priorities[i] = 1;
  }
  return priorities;
}

// Pieces already on disk: from the resume file when every file still matches it, otherwise by
// hashing whatever exists.
Bitfield existing_pieces(const TorrentInfo& torrent, const fs::path& dir,
                         const fs::path& resume_file, bool show_progress) {
  const auto stamps = stamp_files(torrent.layout, dir);
  if (auto resume = load_resume(resume_file, torrent.info_hash, torrent.layout)) {
    if (resume->files == stamps) return resume->have;
  }
  const bool any_file =
      std::any_of(stamps.begin(), stamps.end(), [](const FileStamp& s) { return s.size > 0; });
  if (!any_file) return Bitfield(static_cast<std::size_t>(torrent.num_pieces()));
  return check_data(torrent, torrent.layout, dir, "checking existing data", show_progress).good;
}

// Everything that needs the torrent's metadata: file selection, the directory, the resume file
// and what is already on disk.
Status prepare_job(const DownloadArgs& args, TransferJob& job) {
  if (!args.select.empty()) {
    auto priorities = parse_select(args.select, job.torrent.layout.files().size());
    if (!priorities) return priorities.error();
    job.file_priorities = std::move(*priorities);
  }
  std::error_code ec;
  fs::create_directories(job.directory, ec);
  if (ec) return Error(ec, args.output);
  job.resume_file = job.directory / (job.torrent.name + ".starling");
  job.verified =
      existing_pieces(job.torrent, job.directory, job.resume_file,
                      !args.transfer.json && !args.transfer.quiet && stderr_is_terminal());
  return ok();
}

int run_download(DownloadArgs& args) {
  TransferJob job{
      .command = "download", .directory = fs::path(args.output), .sequential = args.sequential};
  job.save_torrent = args.save_torrent;
  if (args.source.rfind("magnet:", 0) == 0 || Sha1Digest::from_hex(args.source)) {
    Magnet magnet;
    if (auto hash = Sha1Digest::from_hex(args.source)) {
      magnet.info_hash = *hash;
    } else {
      auto parsed = parse_magnet(args.source);
      if (!parsed) return report("download", args.source.substr(0, 60), parsed.error(), kBadInput);
      magnet = std::move(*parsed);
    }
    // x.pe peers are dialled like --peer ones.
    args.transfer.peers.insert(args.transfer.peers.end(), magnet.peers.begin(), magnet.peers.end());
    job.magnet = std::move(magnet);
    job.after_metadata = [&args](TransferJob& j) { return prepare_job(args, j); };
    return run_transfer(args.transfer, job);
  }
  auto torrent = load_torrent(args.source);
  if (!torrent) return report("download", args.source, torrent.error(), kBadInput);
  job.torrent = std::move(*torrent);
  if (auto s = prepare_job(args, job); !s) {
    return report("download", s.error().code == Errc::invalid_argument ? "" : args.output,
                  s.error(), s.error().code == Errc::invalid_argument ? kBadInput : kFailed);
  }
  return run_transfer(args.transfer, job);
}

}  // namespace

Runner add_download_command(CLI::App& app) {
  auto args = std::make_shared<DownloadArgs>();
  auto* cmd = app.add_subcommand("download", "Download a torrent's data from peers");
  cmd->add_option("SOURCE", args->source,
                  "A .torrent file, a magnet link or a bare info-hash (40 hex digits)")
      ->required();
  cmd->add_option("-o,--output", args->output,
                  "Directory to download into (single file: DIR/NAME; multi-file: DIR/NAME/...)");
  cmd->add_option("--select", args->select, "Only these files: indices from `info`, e.g. 1,3-5");
  cmd->add_flag("--sequential", args->sequential, "Download pieces in order (for previews)");
  cmd->add_option("--save-torrent", args->save_torrent,
                  "Magnet: write the metadata fetched from peers as a .torrent FILE");
  add_transfer_flags(*cmd, args->transfer, true);
  return [cmd, args] { return cmd->parsed() ? run_download(*args) : -1; };
}

}  // namespace starling::cli
