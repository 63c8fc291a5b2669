// URL query strings as BitTorrent trackers use them: `key=value` pairs joined by '&', with
// binary values (info_hash, peer_id) percent-encoded byte by byte. '+' is a literal '+' here
// (RFC 3986), not a space: clients percent-encode every byte outside the unreserved set.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace starling::tracker {

// Appends `raw` with every byte outside [A-Za-z0-9-._~] written as %XX (uppercase hex).
void append_percent_encoded(std::string& out, std::string_view raw);

// Decodes `text` into `out`. Returns the decoded length, or -1 when a '%' is not followed by two
// hex digits, or -2 when the result does not fit in `out`.
std::ptrdiff_t percent_decode(std::string_view text, std::span<std::uint8_t> out);

// Calls f(key, value, offset) for every parameter of `query` (offset: where the key starts in
// `query`); an empty parameter ("a=1&&b=2") is skipped and a missing '=' gives an empty value.
// Stops early and returns false as soon as f returns false.
template <class F>
bool for_each_query_param(std::string_view query, F&& f) {
  std::size_t at = 0;
  while (at <= query.size()) {
    std::size_t end = query.find('&', at);
    if (end == std::string_view::npos) end = query.size();
    const std::string_view param = query.substr(at, end - at);
    if (!param.empty()) {
      const std::size_t eq = param.find('=');
      const std::string_view key = param.substr(0, eq);
      const std::string_view value =
          eq == std::string_view::npos ? std::string_view() : param.substr(eq + 1);
      if (!f(key, value, at)) return false;
    }
    at = end + 1;
  }
  return true;
}

}  // namespace starling::tracker
