// BEP 19 addressing: which URL holds which bytes. A web seed URL names the file of a single-file
// torrent (or, ending in '/', the folder holding it: the torrent's name is appended); for a
// multi-file torrent it names the folder holding the torrent's top folder, so a file is
// URL + name + '/' + path. A run of torrent bytes (a piece, or part of one) maps to ranges of one
// or more files: a piece that spans files needs one HTTP request per file. Pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/expected.hpp"
#include "core/strong_index.hpp"

namespace starling {
class FileLayout;
}

namespace starling::webseed {

// An http:// URL split for a request line and a Host header. https is refused (no TLS here).
struct HttpUrl {
  std::string host;  // a name, an IPv4 address or an IPv6 address without brackets
  std::uint16_t port = 80;
  std::string target;  // path and query, starting with '/', as given (already encoded)

  std::string host_header() const;  // "host", "host:port", "[v6]:port"
  std::string text() const;         // back to "http://..."
};

Expected<HttpUrl> parse_http_url(std::string_view text);
// Whether `text` begins with `prefix` (given in lower case), ignoring ASCII case: URL schemes.
bool starts_with_nocase(std::string_view text, std::string_view prefix);
// A Location header: absolute ("http://..."), host-relative ("/path") or relative to `base`'s
// folder ("name").
Expected<HttpUrl> resolve_location(const HttpUrl& base, std::string_view location);

// Percent-encodes one path component (RFC 3986 unreserved characters stay as they are).
std::string encode_path_component(std::string_view component);

// The URL of one file of the torrent at a web seed whose url-list entry is `seed`.
HttpUrl file_url(const HttpUrl& seed, const FileLayout& layout, bool multi_file, FileIndex file);

// Part of a run of torrent bytes that lives in one file.
struct FileRange {
  FileIndex file;
  std::int64_t file_offset = 0;
  std::int64_t length = 0;
  std::int64_t run_offset = 0;  // where these bytes go in the run
  bool pad = false;             // BEP 47 padding: zeros, never fetched
  friend bool operator==(const FileRange&, const FileRange&) = default;
};

// The file ranges holding `length` bytes from `offset` into `piece` (inside the piece).
std::vector<FileRange> map_run(const FileLayout& layout, PieceIndex piece, std::int64_t offset,
                               std::int64_t length);

}  // namespace starling::webseed
