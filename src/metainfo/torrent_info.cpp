#include "metainfo/torrent_info.hpp"

#include <fstream>
#include <iterator>
#include <set>

#include "bencode/decoder.hpp"

namespace starling {
namespace {

using bencode::Node;

Error bad(const Node& node, std::string what) {
  return Error(Errc::metainfo_bad_field, std::move(what), node.offset());
}

Error missing(const Node& dict, std::string what) {
  return Error(Errc::metainfo_missing_field, std::move(what), dict.offset());
}

// Torrents larger than this (2^53 bytes, 8 PiB) are refused: sizes stay exact in a double and
// far from int64 overflow in offset arithmetic.
constexpr std::int64_t kMaxTotalSize = std::int64_t{1} << 53;

// A field, preferring its ".utf-8" variant when that has the expected type (as other clients do):
// a string for "name" and "comment", a list for "path".
std::optional<Node> utf8_field(const Node& dict, const std::string& key, bencode::Type type) {
  if (auto n = dict.find(key + ".utf-8"); n && n->type() == type) return n;
  return dict.find(key);
}

Expected<std::vector<std::string>> parse_path(const Node& file) {
  auto path = utf8_field(file, "path", bencode::Type::list);
  if (!path) return missing(file, "file without 'path'");
  if (!path->is_list()) return bad(*path, "'path' is not a list");
  std::vector<std::string> components;
  for (const Node& c : path->elements()) {
    if (!c.is_string()) return bad(c, "'path' element is not a string");
    if (auto s = check_path_component(c.as_string()); !s) {
      return Error(Errc::metainfo_unsafe_path, s.error().detail, c.offset());
    }
    components.emplace_back(c.as_string());
  }
  if (components.empty()) return bad(*path, "empty 'path'");
  return components;
}

Expected<std::int64_t> parse_length(const Node& file) {
  auto length = file.find("length");
  if (!length) return missing(file, "file without 'length'");
  if (!length->is_int() || length->as_int() < 0) return bad(*length, "'length' is not a size");
  if (length->as_int() > kMaxTotalSize) return bad(*length, "'length' too large");
  return length->as_int();
}

// The file list, in order, with the torrent's name as every path's first component.
Expected<std::vector<FileEntry>> parse_files(const Node& info, TorrentInfo& t,
                                             const TorrentLimits& limits) {
  std::vector<FileEntry> files;
  auto list = info.find("files");
  if (!list) {
    auto length = parse_length(info);
    if (!length) return length.error();
    files.push_back(FileEntry{{t.name}, *length, 0, false});
  } else {
    if (!list->is_list()) return bad(*list, "'files' is not a list");
    if (list->size() == 0) return bad(*list, "'files' is empty");
    if (list->size() > limits.max_files) return bad(*list, "too many files");
    t.multi_file = true;
    std::set<std::string> seen;
    std::int64_t total = 0;
    for (const Node& f : list->elements()) {
      if (!f.is_dict()) return bad(f, "'files' entry is not a dictionary");
      auto length = parse_length(f);
      if (!length) return length.error();
      auto path = parse_path(f);
      if (!path) return path.error();
      if (*length > kMaxTotalSize - total) return bad(f, "total size too large");
      total += *length;
      FileEntry entry{{t.name}, *length, 0, false};
      entry.path.insert(entry.path.end(), path->begin(), path->end());
      if (auto attr = f.find_string("attr")) entry.pad = attr->find('p') != std::string_view::npos;
      if (!seen.insert(entry.path_string()).second) {
        return Error(Errc::metainfo_unsafe_path,
                     "duplicate file path '" + entry.path_string() + "'", f.offset());
      }
      files.push_back(std::move(entry));
    }
  }
  return files;
}

Status parse_info(const Node& info, TorrentInfo& t, const TorrentLimits& limits) {
  if (auto canonical = info.check_canonical(); !canonical) {
    return Error(Errc::metainfo_not_canonical, canonical.error().code.message(),
                 canonical.error().offset);
  }
  auto name = utf8_field(info, "name", bencode::Type::string);
  if (!name) return missing(info, "'info' without 'name'");
  if (!name->is_string()) return bad(*name, "'name' is not a string");
  if (auto s = check_path_component(name->as_string()); !s) {
    return Error(Errc::metainfo_unsafe_path, "name: " + s.error().detail, name->offset());
  }
  t.name = std::string(name->as_string());

  auto piece_length = info.find("piece length");
  if (!piece_length) return missing(info, "'info' without 'piece length'");
  if (!piece_length->is_int() || piece_length->as_int() <= 0 ||
      piece_length->as_int() > limits.max_piece_length) {
    return bad(*piece_length, "'piece length' out of range");
  }

  auto files = parse_files(info, t, limits);
  if (!files) return files.error();
  std::int64_t total = 0;
  for (const auto& f : *files) total += f.size;  // at most kMaxTotalSize: checked per file
  if (total == 0) return bad(info, "torrent holds no data (total size 0)");

  auto pieces = info.find("pieces");
  if (!pieces) return missing(info, "'info' without 'pieces'");
  if (!pieces->is_string() || pieces->as_string().size() % 20 != 0) {
    return bad(*pieces, "'pieces' is not a string of 20-byte hashes");
  }
  const std::string_view hashes = pieces->as_string();
  const std::size_t count = hashes.size() / 20;
  // Counted in 64 bits before the layout narrows it: 2^32 + 1 pieces must not pass for 1.
  const std::int64_t needed = (total + piece_length->as_int() - 1) / piece_length->as_int();
  if (needed > limits.max_pieces) {
    return bad(*pieces, "the files need " + std::to_string(needed) + " pieces, more than " +
                            std::to_string(limits.max_pieces));
  }
  if (static_cast<std::int64_t>(count) != needed) {
    return bad(*pieces, "'pieces' has " + std::to_string(count) + " hashes but the files need " +
                            std::to_string(needed));
  }
  t.layout = FileLayout(std::move(*files), piece_length->as_int());
  t.piece_hashes.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    t.piece_hashes.push_back(*Sha1Digest::from_bytes(hashes.substr(i * 20, 20)));
  }
  if (auto p = info.find_int("private")) t.is_private = *p == 1;
  return ok();
}

void parse_trackers(const Node& root, TorrentInfo& t) {
  if (auto tiers = root.find_list("announce-list")) {
    for (const Node& tier : tiers->elements()) {
      if (!tier.is_list()) continue;
      std::vector<std::string> urls;
      for (const Node& url : tier.elements()) {
        if (url.is_string() && !url.as_string().empty()) urls.emplace_back(url.as_string());
      }
      if (!urls.empty()) t.trackers.push_back(std::move(urls));
    }
  }
  // BEP 12: 'announce' is only used when there is no usable 'announce-list'.
  if (t.trackers.empty()) {
    if (auto url = root.find_string("announce"); url && !url->empty()) {
      t.trackers.push_back({std::string(*url)});
    }
  }
}

void parse_web_seeds(const Node& root, TorrentInfo& t) {
  auto urls = root.find("url-list");
  if (!urls) return;
  if (urls->is_string() && !urls->as_string().empty()) {
    t.web_seeds.emplace_back(urls->as_string());
  } else if (urls->is_list()) {
    for (const Node& url : urls->elements()) {
      if (url.is_string() && !url.as_string().empty()) t.web_seeds.emplace_back(url.as_string());
    }
  }
}

}  // namespace

Status check_path_component(std::string_view component) {
  if (component.empty()) return Error(Errc::metainfo_unsafe_path, "empty path component");
  if (component == "." || component == "..") {
    return Error(Errc::metainfo_unsafe_path, "path component '" + std::string(component) + "'");
  }
  if (component.find_first_of(std::string_view("/\\\0", 3)) != std::string_view::npos) {
    return Error(Errc::metainfo_unsafe_path, "path component with '/', '\\' or NUL: '" +
                                                 std::string(component.substr(0, 64)) + "'");
  }
  return ok();
}

Expected<TorrentInfo> parse_torrent(std::string_view bytes, const TorrentLimits& limits) {
  if (bytes.size() > limits.max_torrent_bytes) {
    return Error(Errc::metainfo_bad_field,
                 "file larger than " + std::to_string(limits.max_torrent_bytes) + " bytes");
  }
  bencode::DecodeLimits decode_limits;
  decode_limits.require_sorted_keys = false;  // outside 'info' key order does not matter
  auto doc = bencode::decode(bytes, decode_limits);
  if (!doc) return doc.error();
  const Node root = doc->root();
  if (!root.is_dict()) return Error(Errc::metainfo_not_a_dict, "top level", 0);
  auto info = root.find("info");
  if (!info) return missing(root, "no 'info' dictionary");
  if (!info->is_dict()) return bad(*info, "'info' is not a dictionary");

  TorrentInfo t;
  t.info_bytes = std::string(info->raw());
  t.info_hash = sha1(t.info_bytes);
  if (auto s = parse_info(*info, t, limits); !s) return s.error();
  parse_trackers(root, t);
  parse_web_seeds(root, t);
  if (auto c = utf8_field(root, "comment", bencode::Type::string); c && c->is_string()) {
    t.comment = c->as_string();
  }
  if (auto c = root.find_string("created by")) t.created_by = *c;
  if (auto d = root.find_int("creation date")) t.creation_date = *d;
  return t;
}

Expected<TorrentInfo> load_torrent(const std::filesystem::path& file, const TorrentLimits& limits) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);
  if (ec) return Error(ec, "");
  if (size > limits.max_torrent_bytes) {
    return Error(Errc::metainfo_bad_field,
                 "larger than " + std::to_string(limits.max_torrent_bytes) + " bytes");
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return Error(std::make_error_code(std::errc::permission_denied), "");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return parse_torrent(bytes, limits);
}

}  // namespace starling
