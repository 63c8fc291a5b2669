// A parsed v1 .torrent (BEP 3) with BEP 12 tracker tiers, BEP 19 web seeds, BEP 27 private flag
// and BEP 47 padding files. Loading a hostile file fails with a reason; it never yields a path
// that leaves the download directory.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/digest.hpp"
#include "core/expected.hpp"
#include "metainfo/file_layout.hpp"

namespace starling {

struct TorrentLimits {
  std::size_t max_torrent_bytes = 64 << 20;  // larger .torrent files are refused
  std::size_t max_files = 1 << 20;
  std::int64_t max_piece_length = std::int64_t{1} << 30;
  std::int32_t max_pieces = 1 << 24;
};

struct TorrentInfo {
  std::string name;
  Sha1Digest info_hash;
  std::string info_bytes;  // the info dictionary exactly as it appears in the file
  FileLayout layout;
  std::vector<Sha1Digest> piece_hashes;
  bool is_private = false;
  bool multi_file = false;

  std::vector<std::vector<std::string>> trackers;  // tiers, in order
  std::vector<std::string> web_seeds;
  std::string comment;
  std::string created_by;
  std::optional<std::int64_t> creation_date;  // seconds since the epoch

  std::int32_t num_pieces() const { return layout.num_pieces(); }
  std::int64_t total_size() const { return layout.total_size(); }
  std::int64_t piece_length() const { return layout.piece_length(); }
};

Expected<TorrentInfo> parse_torrent(std::string_view bytes, const TorrentLimits& limits = {});
// Reads and parses a file. Errors do not repeat the file name: the caller adds it.
Expected<TorrentInfo> load_torrent(const std::filesystem::path& file,
                                   const TorrentLimits& limits = {});

// Ok when the name is one safe path component: not empty, ".", "..", and without '/', '\\' or NUL.
Status check_path_component(std::string_view component);

}  // namespace starling
