#include "tracker/tracker_url.hpp"

#include <charconv>

namespace starling::tracker {
namespace {

Error bad_url(std::string_view url, std::string_view why) {
  return Error(Errc::invalid_argument,
               "tracker URL '" + std::string(url) + "': " + std::string(why));
}

}  // namespace

std::string TrackerUrl::target_with_query(std::string_view query) const {
  std::string out = target;
  out += target.find('?') == std::string::npos ? '?' : '&';
  out += query;
  return out;
}

Expected<TrackerUrl> parse_tracker_url(std::string_view url) {
  TrackerUrl parsed;
  parsed.text = std::string(url);
  std::string_view rest;
  if (url.starts_with("http://")) {
    parsed.scheme = TrackerScheme::http;
    parsed.port = 80;
    rest = url.substr(7);
  } else if (url.starts_with("https://")) {
    parsed.scheme = TrackerScheme::https;
    parsed.port = 443;
    rest = url.substr(8);
  } else if (url.starts_with("udp://")) {
    parsed.scheme = TrackerScheme::udp;
    rest = url.substr(6);
  } else {
    return bad_url(url, "expected http://, https:// or udp://");
  }
  const std::size_t slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  parsed.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (parsed.target.front() == '?') parsed.target.insert(0, "/");
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);  // user:password@ is never sent to trackers
  }
  std::string_view host = authority;
  std::string_view port;
  if (authority.starts_with('[')) {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad_url(url, "unclosed '[' in the host");
    host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad_url(url, "unexpected text after ']'");
      port = after.substr(1);
    }
  } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) return bad_url(url, "no host");
  parsed.host = std::string(host);
  if (!port.empty()) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      return bad_url(url, "bad port '" + std::string(port) + "'");
    }
    parsed.port = static_cast<std::uint16_t>(value);
  }
  if (parsed.scheme == TrackerScheme::udp && parsed.port == 0) {
    return bad_url(url, "a udp tracker needs a port");
  }
  return parsed;
}

}  // namespace starling::tracker
