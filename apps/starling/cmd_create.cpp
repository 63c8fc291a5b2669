// starling create PATH -o OUT.torrent
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "cli_common.hpp"
#include "metainfo/torrent_creator.hpp"
#include "progress_bar.hpp"

namespace starling::cli {
namespace {

struct CreateArgs {
  std::string source;
  std::string output;
  std::vector<std::string> trackers;
  std::vector<std::string> web_seeds;
  std::string piece_size;
  bool is_private = false;
  std::string comment;
  bool no_date = false;
  int threads = 0;
  bool quiet = false;
};

bool is_power_of_two(std::int64_t v) {
  return v > 0 && (v & (v - 1)) == 0;
}

// Written next to the target and renamed into place, so a failure never leaves half a file.
Status write_file_atomically(const std::filesystem::path& path, const std::string& bytes) {
  const auto temp = std::filesystem::path(path.string() + ".part");
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) return Error(std::make_error_code(std::errc::permission_denied), temp.string());
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) return Error(Errc::io_error, "writing " + temp.string());
  }
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  if (ec) {
    std::filesystem::remove(temp, ec);
    return Error(ec, path.string());
  }
  return ok();
}

int run_create(const CreateArgs& args) {
  CreateOptions options;
  options.source = args.source;
  options.trackers = args.trackers;
  options.web_seeds = args.web_seeds;
  options.is_private = args.is_private;
  options.comment = args.comment;
  options.threads = args.threads;
  options.created_by = "starling/" STARLING_VERSION;
  if (!args.no_date) {
    options.creation_date = std::chrono::duration_cast<std::chrono::seconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
  }
  if (!args.piece_size.empty()) {
    auto size = parse_size(args.piece_size);
    if (!size || !is_power_of_two(*size) || *size < (16 << 10) || *size > (std::int64_t{1} << 30)) {
      return report("create", "--piece-size",
                    "must be a power of two from 16k to 1g, got '" + args.piece_size + "'",
                    kBadInput);
    }
    options.piece_length = *size;
  }
  std::filesystem::path output = args.output;
  if (output.empty()) {
    auto name = std::filesystem::path(args.source).lexically_normal();
    if (!name.has_filename()) name = name.parent_path();
    output = name.filename().string() + ".torrent";
  }

  ProgressBar bar("hashing", !args.quiet && stderr_is_terminal());
  options.progress = [&bar](std::int64_t done, std::int64_t total) { bar.update(done, total); };
  const auto start = std::chrono::steady_clock::now();
  auto created = create_torrent(options);
  bar.finish();
  if (!created) return report("create", args.source, created.error(), kBadInput);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  if (auto s = write_file_atomically(output, created->bytes); !s) {
    return report("create", output.string(), s.error(), kFailed);
  }
  if (!args.quiet) {
    fmt::print("{}: {} in {} file{}, {} pieces of {}, info hash {} ({:.2f} s)\n", output.string(),
               human_size(created->total_size), created->num_files,
               created->num_files == 1 ? "" : "s", created->num_pieces,
               human_size(created->piece_length), created->info_hash, seconds);
  }
  return kSuccess;
}

}  // namespace

Runner add_create_command(CLI::App& app) {
  auto args = std::make_shared<CreateArgs>();
  auto* cmd = app.add_subcommand("create", "Make a v1 .torrent of a file or a directory");
  cmd->add_option("PATH", args->source, "File or directory to share")->required();
  cmd->add_option("-o,--output", args->output,
                  "Where to write the .torrent (default: NAME.torrent)");
  cmd->add_option("-t,--tracker", args->trackers,
                  "Tracker announce URL; repeat for more (each is its own tier, BEP 12)");
  cmd->add_option("-w,--web-seed", args->web_seeds, "Web seed URL (BEP 19); repeatable");
  cmd->add_option("--piece-size", args->piece_size,
                  "Piece size, a power of two such as 256k or 4m (default: from the total size, "
                  "16k..16m, about 1,000-2,000 pieces)");
  cmd->add_flag("--private", args->is_private, "Set the private flag (BEP 27): no DHT or PEX");
  cmd->add_option("--comment", args->comment, "Free-text comment stored in the torrent");
  cmd->add_flag("--no-date", args->no_date,
                "Leave out the creation date, so the same input gives the same file");
  cmd->add_option("--threads", args->threads, "Hashing threads (default: one per core)")
      ->check(CLI::Range(1, 256));
  cmd->add_flag("-q,--quiet", args->quiet, "Print nothing on success");
  return [cmd, args] { return cmd->parsed() ? run_create(*args) : -1; };
}

}  // namespace starling::cli
