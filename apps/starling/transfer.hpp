// What `download` and `seed` share: peer and listen flags, running a Session until the work is
// done, progress on a terminal or as JSON lines, signals and the time limits.
#pragma once

#include <CLI/CLI.hpp>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/bitfield.hpp"
#include "core/expected.hpp"
#include "metainfo/magnet.hpp"
#include "metainfo/torrent_info.hpp"

namespace starling::cli {

struct TransferArgs {
  std::vector<std::string> peers;
  std::string listen = "0.0.0.0:6881";
  bool tcp_only = false;
  bool utp_only = false;
  double seed_ratio = 0;
  double seed_time = 0;  // seconds
  double timeout = 0;    // seconds; 0 = none
  std::string max_down;  // RATE ("2m" = 2 MiB/s); empty or 0 = unlimited
  std::string max_up;
  bool direct_io = false;      // write whole pieces with O_DIRECT
  bool no_direct_io = false;   // the default; kept so that older scripts still run
  int disk_threads = 0;        // reads, writes and piece hashes; 0 = 2, or 4 with direct I/O
  bool no_block_runs = false;  // single 16 KiB requests to other starlings too (benchmarks)
  int upload_slots = 4;        // peers unchoked at once; 0 = never upload
  bool json = false;
  bool quiet = false;
  bool verbose = false;
  // Downloads: BEP 19 web seeds beside the torrent's url-list, and the switches that show what
  // pipelining and end game are worth (benchmarks).
  std::vector<std::string> web_seeds;
  bool no_pipelining = false;
  bool no_end_game = false;
  // The DHT (BEP 5): on unless --no-dht; bootstrap only from these HOST:PORTs (no default
  // public routers); node id and good nodes kept in `dht_state` when given.
  bool no_dht = false;
  std::vector<std::string> dht_bootstrap;
  std::string dht_state;
};

// Registers --peer, --listen, --tcp-only, --utp-only, --max-down, --max-up, --upload-slots,
// --json, --quiet,
// --verbose, --seed-time and, for downloads, --seed-ratio and --timeout.
void add_transfer_flags(CLI::App& cmd, TransferArgs& args, bool downloading);

struct TransferJob {
  const char* command = "";           // "download" or "seed"
  TorrentInfo torrent{};              // layout already pointing at the data
  std::filesystem::path directory{};  // where the layout's paths start
  Bitfield verified{};                // pieces already checked on disk
  std::vector<int> file_priorities{};
  bool sequential = false;
  std::filesystem::path resume_file{};  // saved while downloading; removed when complete
  // A magnet link: `torrent` is empty until its metadata is fetched from peers (BEP 9); then
  // `after_metadata` fills in what depends on it (priorities, resume file, verified pieces).
  std::optional<Magnet> magnet{};
  std::function<Status(TransferJob&)> after_metadata{};
  std::filesystem::path save_torrent{};  // magnet: write the fetched metadata here
  bool super_seed = false;               // seed: BEP 16 initial seeding
};

// Runs the transfer to its end and returns the exit code (CLI.md).
int run_transfer(const TransferArgs& args, const TransferJob& job);

// "host:port", "[v6]:port" -> host and port; nullopt when malformed.
std::optional<std::pair<std::string, std::uint16_t>> split_host_port(std::string_view text);

}  // namespace starling::cli
