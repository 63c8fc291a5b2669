// What `starling daemon` keeps across restarts, in CONFIG_DIR/state.json: the settings, the
// cumulative stats and, per torrent, what the .torrent file (CONFIG_DIR/torrents/HASH.torrent)
// and the resume data (CONFIG_DIR/resume/HASH.resume) do not say: its id, where it saves, paused
// or started, file choices, dates and transfer totals. Encoding is sans-IO; the file is replaced
// atomically (temporary file, fsync, rename).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/expected.hpp"
#include "rpc/model.hpp"

namespace starling::rpc {

struct SavedTorrent {
  int id = 0;
  std::string hash;    // 40 lowercase hex digits
  std::string magnet;  // the link, while the metadata is not fetched yet
  std::string name;
  std::string download_dir;
  bool paused = false;
  std::vector<bool> wanted;     // per file; empty = all
  std::vector<int> priorities;  // per file, -1/0/1; empty = all normal
  std::int64_t added_date = 0;
  std::int64_t done_date = 0;
  std::int64_t downloaded = 0;  // payload totals over every run
  std::int64_t uploaded = 0;
  std::int64_t corrupt = 0;
  std::int64_t download_limit = 0;
  bool download_limited = false;
  std::int64_t upload_limit = 0;
  bool upload_limited = false;
  double seed_ratio_limit = 2.0;
  int seed_ratio_mode = 0;
  bool honors_session_limits = true;
  friend bool operator==(const SavedTorrent&, const SavedTorrent&) = default;
};

struct DaemonState {
  int next_id = 1;
  SessionView settings;
  TransferCounts cumulative;
  std::vector<SavedTorrent> torrents;
};

std::string encode_state(const DaemonState& state);
// Missing keys keep their defaults (older files, hand edits); wrong types are errors naming the
// key.
Expected<DaemonState> parse_state(std::string_view text);

Status save_state_file(const std::filesystem::path& file, const DaemonState& state);
// A missing file is an empty state, not an error.
Expected<DaemonState> load_state_file(const std::filesystem::path& file);

}  // namespace starling::rpc
