// Announce URLs as .torrent files and magnet links carry them: http://host[:port]/path[?query]
// and udp://host:port[/path]. https is recognised so it can be reported, not used (no TLS yet).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/expected.hpp"

namespace starling::tracker {

enum class TrackerScheme { http, https, udp };

struct TrackerUrl {
  TrackerScheme scheme = TrackerScheme::http;
  std::string host;        // a name or an address; IPv6 without its brackets
  std::uint16_t port = 0;  // 80 / 443 when the URL has none; required for udp
  std::string target;      // http(s): path and query as written ("/announce?passkey=x")
  std::string text;        // the URL as given

  // `target` plus the announce query, joined with '?' or '&'.
  std::string target_with_query(std::string_view query) const;
};

// Errc::invalid_argument naming the URL when it is not one of the forms above.
Expected<TrackerUrl> parse_tracker_url(std::string_view url);

}  // namespace starling::tracker
