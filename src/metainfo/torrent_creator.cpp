#include "metainfo/torrent_creator.hpp"

#include <algorithm>

#include "bencode/encoder.hpp"
#include "core/digest.hpp"
#include "metainfo/file_layout.hpp"
#include "metainfo/torrent_info.hpp"
#include "storage/piece_hasher.hpp"

namespace starling {
namespace fs = std::filesystem;
namespace {

constexpr std::int64_t kMinPiece = 16 << 10;
constexpr std::int64_t kMaxPiece = 16 << 20;
constexpr std::int64_t kTargetMaxPieces = 2000;

// Whether `outer` is `inner` or one of its parent directories (both canonical).
bool contains(const fs::path& outer, const fs::path& inner) {
  return std::mismatch(outer.begin(), outer.end(), inner.begin(), inner.end()).first == outer.end();
}

// Every regular file below `dir` (symlinks followed), as path components, sorted by joined path.
Expected<std::vector<FileEntry>> scan_directory(const fs::path& dir, const std::string& name) {
  std::vector<FileEntry> files;
  std::error_code ec;
  // The canonical paths of the directories from `dir` down to the current entry's parent. A
  // symlink to one of them (or to a directory holding one) would repeat the same files until the
  // kernel's ELOOP limit; it adds nothing that is not listed anyway, so it is not followed.
  std::vector<fs::path> ancestors{fs::canonical(dir, ec)};
  if (ec) return Error(ec, dir.string());
  fs::recursive_directory_iterator it(dir, fs::directory_options::follow_directory_symlink, ec);
  if (ec) return Error(ec, dir.string());
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return Error(ec, dir.string());
    ancestors.resize(static_cast<std::size_t>(it.depth()) + 1);
    if (it->is_directory(ec)) {
      fs::path real = fs::canonical(it->path(), ec);
      if (ec) return Error(ec, it->path().string());
      if (it->is_symlink(ec) && std::any_of(ancestors.begin(), ancestors.end(),
                                            [&](const fs::path& a) { return contains(real, a); })) {
        it.disable_recursion_pending();
        continue;
      }
      ancestors.push_back(std::move(real));
      continue;
    }
    if (!it->is_regular_file(ec)) continue;
    FileEntry f;
    f.path.push_back(name);
    // Lexically: fs::relative() resolves symlinks, which turns a file reached through a
    // symlinked directory into "../elsewhere/file".
    for (const auto& part : it->path().lexically_relative(dir)) {
      // A name such as "a\\b" is legal on disk but refused by every torrent parser.
      if (auto s = check_path_component(part.string()); !s) {
        return Error(Errc::invalid_argument, it->path().string() + ": " + s.error().detail);
      }
      f.path.push_back(part.string());
    }
    f.size = static_cast<std::int64_t>(it->file_size(ec));
    if (ec) return Error(ec, it->path().string());
    files.push_back(std::move(f));
  }
  if (ec) return Error(ec, dir.string());
  if (files.empty()) return Error(Errc::invalid_argument, dir.string() + ": no files to share");
  // Join each path once, not once per comparison.
  std::vector<std::pair<std::string, std::size_t>> keys;
  keys.reserve(files.size());
  for (std::size_t i = 0; i < files.size(); ++i) keys.emplace_back(files[i].path_string(), i);
  std::sort(keys.begin(), keys.end());
  std::vector<FileEntry> sorted;
  sorted.reserve(files.size());
  for (const auto& [key, i] : keys) sorted.push_back(std::move(files[i]));
  return sorted;
}

bencode::Value info_dictionary(const FileLayout& layout, const std::string& name, bool multi_file,
                               const std::string& pieces, bool is_private) {
  bencode::Dict info;
  info["name"] = name;
  info["piece length"] = layout.piece_length();
  info["pieces"] = pieces;
  if (is_private) info["private"] = 1;
  if (!multi_file) {
    info["length"] = layout.total_size();
    return info;
  }
  bencode::List files;
  for (const auto& f : layout.files()) {
    bencode::List path;
    for (std::size_t i = 1; i < f.path.size(); ++i) path.emplace_back(f.path[i]);
    files.emplace_back(bencode::Dict{{"length", f.size}, {"path", std::move(path)}});
  }
  info["files"] = std::move(files);
  return info;
}

}  // namespace

std::int64_t default_piece_length(std::int64_t total_size) {
  std::int64_t piece = kMinPiece;
  while (piece < kMaxPiece && total_size / piece > kTargetMaxPieces) piece *= 2;
  return piece;
}

Expected<CreatedTorrent> create_torrent(const CreateOptions& options) {
  std::error_code ec;
  // Lexical, not canonical: a symlink keeps its own name, as in other tools.
  fs::path source = fs::absolute(options.source, ec).lexically_normal();
  if (ec) return Error(ec, options.source.string());
  if (!source.has_filename()) source = source.parent_path();  // "dir/" names "dir"
  const auto status = fs::status(source, ec);
  if (ec || !fs::exists(status)) {
    return Error(std::make_error_code(std::errc::no_such_file_or_directory),
                 options.source.string());
  }
  const std::string name = source.filename().string();
  if (auto s = check_path_component(name); !s) {
    return Error(Errc::invalid_argument, options.source.string() + ": " + s.error().detail);
  }
  const bool multi_file = fs::is_directory(status);
  std::vector<FileEntry> files;
  if (multi_file) {
    auto scanned = scan_directory(source, name);
    if (!scanned) return scanned.error();
    files = std::move(*scanned);
  } else if (fs::is_regular_file(status)) {
    files.push_back(FileEntry{{name}, static_cast<std::int64_t>(fs::file_size(source, ec)), 0});
    if (ec) return Error(ec, source.string());
  } else {
    return Error(Errc::invalid_argument, options.source.string() + ": not a file or directory");
  }

  std::int64_t total = 0;
  for (const auto& f : files) total += f.size;
  if (total == 0)
    return Error(Errc::invalid_argument, options.source.string() + ": no data (0 bytes)");
  const std::int64_t piece_length =
      options.piece_length > 0 ? options.piece_length : default_piece_length(total);
  FileLayout layout(std::move(files), piece_length);

  HashResult hashed =
      hash_pieces(layout, source.parent_path(), {options.threads, options.progress});
  if (!hashed.read_errors.empty()) return hashed.read_errors.front();
  std::string pieces;
  pieces.reserve(hashed.pieces.size() * Sha1Digest::size);
  for (const auto& digest : hashed.pieces) pieces += digest->view();

  bencode::Dict root;
  std::string info_bytes =
      bencode::encode(info_dictionary(layout, name, multi_file, pieces, options.is_private));
  if (!options.trackers.empty()) {
    root["announce"] = options.trackers.front();
    if (options.trackers.size() > 1) {
      bencode::List tiers;
      if (options.trackers_one_tier) {
        tiers.emplace_back(bencode::List(options.trackers.begin(), options.trackers.end()));
      } else {
        for (const auto& url : options.trackers) tiers.emplace_back(bencode::List{url});
      }
      root["announce-list"] = std::move(tiers);
    }
  }
  if (!options.web_seeds.empty()) {
    bencode::List urls(options.web_seeds.begin(), options.web_seeds.end());
    root["url-list"] = std::move(urls);
  }
  if (!options.comment.empty()) root["comment"] = options.comment;
  if (!options.created_by.empty()) root["created by"] = options.created_by;
  if (options.creation_date) root["creation date"] = *options.creation_date;

  // Encode the outer dict around the already-encoded info dict, keys in order ("info" sits
  // between "creation date" and "url-list").
  std::string out;
  bencode::Encoder e(out);
  e.begin_dict();
  bool info_written = false;
  for (const auto& [key, value] : root) {
    if (!info_written && key > "info") {
      e.string("info");
      e.raw(info_bytes);
      info_written = true;
    }
    e.string(key);
    value.encode_to(e);
  }
  if (!info_written) {
    e.string("info");
    e.raw(info_bytes);
  }
  e.end();

  CreatedTorrent created;
  created.bytes = std::move(out);
  created.info_hash = sha1(info_bytes).hex();
  created.total_size = layout.total_size();
  created.num_pieces = layout.num_pieces();
  created.piece_length = layout.piece_length();
  created.num_files = layout.files().size();
  return created;
}

}  // namespace starling
