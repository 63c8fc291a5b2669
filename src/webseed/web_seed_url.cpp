#include "webseed/web_seed_url.hpp"

#include <algorithm>
#include <charconv>

#include "metainfo/file_layout.hpp"

namespace starling::webseed {
namespace {

bool unreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

bool hex_digit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// A name or an IPv4 address (letters, digits, '-', '.', '_', '~'), or inside brackets an IPv6
// address (hex digits, ':' and '.'): anything else would not survive a round trip through text().
bool valid_host(std::string_view host, bool bracketed) {
  if (host.empty()) return false;
  if (bracketed) {
    return host.find(':') != std::string_view::npos &&
           std::all_of(host.begin(), host.end(),
                       [](char c) { return hex_digit(c) || c == ':' || c == '.'; });
  }
  return std::all_of(host.begin(), host.end(), unreserved);
}

}  // namespace

std::string HttpUrl::host_header() const {
  const bool v6 = host.find(':') != std::string::npos;
  std::string h = v6 ? "[" + host + "]" : host;
  if (port != 80) h += ":" + std::to_string(port);
  return h;
}

std::string HttpUrl::text() const {
  return "http://" + host_header() + target;
}

Expected<HttpUrl> parse_http_url(std::string_view text) {
  const std::string shown(text.substr(0, 200));
  if (starts_with_nocase(text, "https://")) {
    return Error(Errc::webseed_bad_url, "'" + shown + "': https is not supported");
  }
  if (!starts_with_nocase(text, "http://")) {
    return Error(Errc::webseed_bad_url, "'" + shown + "': expected http://HOST[:PORT]/PATH");
  }
  std::string_view rest = text.substr(7);
  for (char c : rest) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
      return Error(Errc::webseed_bad_url, "'" + shown + "': spaces or control characters");
    }
  }
  const auto slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  HttpUrl url;
  url.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (url.target.front() == '?') url.target.insert(0, "/");
  if (const auto fragment = url.target.find('#'); fragment != std::string::npos) {
    url.target.resize(fragment);
  }
  if (authority.find('@') != std::string_view::npos) {
    return Error(Errc::webseed_bad_url, "'" + shown + "': credentials in URLs are not supported");
  }
  std::string_view port;
  const bool bracketed = !authority.empty() && authority.front() == '[';
  if (bracketed) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) {
      return Error(Errc::webseed_bad_url, "'" + shown + "': unclosed '['");
    }
    url.host = std::string(authority.substr(1, close - 1));
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return Error(Errc::webseed_bad_url, "'" + shown + "': bad host");
      port = after.substr(1);
    }
  } else {
    const auto colon = authority.find(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (url.host.empty()) return Error(Errc::webseed_bad_url, "'" + shown + "': no host");
  if (!valid_host(url.host, bracketed)) {
    return Error(Errc::webseed_bad_url, "'" + shown + "': bad host");
  }
  if (!port.empty()) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      return Error(Errc::webseed_bad_url, "'" + shown + "': bad port");
    }
    url.port = static_cast<std::uint16_t>(value);
  }
  return url;
}

Expected<HttpUrl> resolve_location(const HttpUrl& base, std::string_view location) {
  if (location.empty()) return Error(Errc::webseed_bad_reply, "redirect without a Location");
  if (location.find("://") != std::string_view::npos) return parse_http_url(location);
  if (location.size() >= 2 && location.substr(0, 2) == "//") {
    return parse_http_url("http:" + std::string(location));
  }
  HttpUrl url = base;
  if (location.front() == '/') {
    url.target = std::string(location);
  } else {
    const std::string path = base.target.substr(0, base.target.find('?'));
    url.target = path.substr(0, path.rfind('/') + 1) + std::string(location);
  }
  return parse_http_url(url.text());  // the same checks as any other URL
}

std::string encode_path_component(std::string_view component) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(component.size());
  for (char c : component) {
    if (unreserved(c)) {
      out += c;
    } else {
      const auto byte = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 15];
    }
  }
  return out;
}

HttpUrl file_url(const HttpUrl& seed, const FileLayout& layout, bool multi_file, FileIndex file) {
  HttpUrl url = seed;
  const bool folder = !url.target.empty() && url.target.back() == '/';
  if (!multi_file && !folder) return url;  // the URL names the file itself
  if (!folder) url.target += '/';
  // path[0] is the torrent's name: the file itself (single-file) or its top folder.
  const auto& path = layout.file(file).path;
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (i > 0) url.target += '/';
    url.target += encode_path_component(path[i]);
  }
  return url;
}

std::vector<FileRange> map_run(const FileLayout& layout, PieceIndex piece, std::int64_t offset,
                               std::int64_t length) {
  std::vector<FileRange> out;
  std::int64_t at = 0;
  for (const FileSpan& span : layout.map_block(piece, offset, length)) {
    out.push_back(
        FileRange{span.file, span.file_offset, span.length, at, layout.file(span.file).pad});
    at += span.length;
  }
  return out;
}

bool starts_with_nocase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    const char a = text[i] >= 'A' && text[i] <= 'Z' ? static_cast<char>(text[i] + 32) : text[i];
    if (a != prefix[i]) return false;
  }
  return true;
}

}  // namespace starling::webseed
