// Makes a v1 .torrent from a file or a directory tree. Files are ordered by their path (bytewise)
// so the same tree always gives the same info-hash; pieces are hashed in parallel.
#pragma once

#include <cstdint>
#include <ctime>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/expected.hpp"

namespace starling {

struct CreateOptions {
  std::filesystem::path source;        // a file or a directory
  std::vector<std::string> trackers;   // one tier each (BEP 12), unless trackers_one_tier
  bool trackers_one_tier = false;      // all in one tier: replicas of one tracker
  std::vector<std::string> web_seeds;  // BEP 19 url-list
  std::int64_t piece_length = 0;       // 0: chosen from the total size
  bool is_private = false;
  std::string comment;
  std::optional<std::int64_t> creation_date;  // nullopt: no date (deterministic output)
  std::string created_by;
  int threads = 0;  // 0: one per core
  std::function<void(std::int64_t done, std::int64_t total)> progress;
};

// 16 KiB … 16 MiB, a power of two giving at most about 2,000 pieces.
std::int64_t default_piece_length(std::int64_t total_size);

struct CreatedTorrent {
  std::string bytes;      // the bencoded .torrent
  std::string info_hash;  // lowercase hex
  std::int64_t total_size = 0;
  std::int32_t num_pieces = 0;
  std::int64_t piece_length = 0;
  std::size_t num_files = 0;
};

Expected<CreatedTorrent> create_torrent(const CreateOptions& options);

}  // namespace starling
