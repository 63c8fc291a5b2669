#include "tracker/redis_url.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace starling::tracker {
namespace {

Error bad_url(std::string_view url, std::string_view why) {
  return Error(Errc::invalid_argument, fmt::format("store URL '{}': {}", url, why));
}

template <class Int>
bool parse_number(std::string_view text, Int& out) {
  if (text.empty() || text.size() > 9) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

bool prefix_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.' || c == ':';
}

bool host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

}  // namespace

std::string RedisUrl::text() const {
  const bool v6 = host.find(':') != std::string::npos;
  return fmt::format("redis://{}{}{}:{}/{}?prefix={}", v6 ? "[" : "", host, v6 ? "]" : "", port, db,
                     prefix);
}

Expected<RedisUrl> parse_redis_url(std::string_view url) {
  constexpr std::string_view kScheme = "redis://";
  if (!url.starts_with(kScheme)) {
    if (url.starts_with("rediss://")) return bad_url(url, "TLS (rediss://) is not supported");
    return bad_url(url, "expected redis://HOST[:PORT][/DB][?prefix=NAME]");
  }
  RedisUrl parsed;
  std::string_view rest = url.substr(kScheme.size());
  const std::size_t query_at = rest.find('?');
  const std::string_view query =
      query_at == std::string_view::npos ? std::string_view() : rest.substr(query_at + 1);
  rest = rest.substr(0, query_at);
  const std::size_t path_at = rest.find('/');
  const std::string_view authority = rest.substr(0, path_at);
  if (authority.find('@') != std::string_view::npos) {
    return bad_url(url, "user names and passwords are not supported");
  }

  // HOST[:PORT] or [V6][:PORT]
  std::string_view host;
  std::string_view port_text;
  if (authority.starts_with('[')) {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad_url(url, "'[' without ']' around the host");
    host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad_url(url, "expected ':PORT' after ']'");
      port_text = after.substr(1);
      if (port_text.empty()) return bad_url(url, "empty port after ':'");
    }
    if (host.empty() || !std::all_of(host.begin(), host.end(), [](char c) {
          return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
        })) {
      return bad_url(url, "not an IPv6 address between '[' and ']'");
    }
  } else {
    const std::size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return bad_url(url, "empty port after ':'");
    }
    if (host.empty()) return bad_url(url, "no host");
    if (!std::all_of(host.begin(), host.end(), host_char)) {
      return bad_url(url, fmt::format("host '{}' has characters a host name cannot have", host));
    }
  }
  parsed.host = std::string(host);
  if (!port_text.empty()) {
    unsigned port = 0;
    if (!parse_number(port_text, port) || port == 0 || port > 65535) {
      return bad_url(url, fmt::format("port '{}' is not a number from 1 to 65535", port_text));
    }
    parsed.port = static_cast<std::uint16_t>(port);
  }

  // [/DB]
  if (path_at != std::string_view::npos) {
    const std::string_view db = rest.substr(path_at + 1);
    if (!db.empty() && (!parse_number(db, parsed.db) || parsed.db < 0 || parsed.db > 1'000'000)) {
      return bad_url(url, fmt::format("database '{}' is not a number from 0 to 1000000", db));
    }
  }

  // [?prefix=NAME]: the only parameter.
  for (std::size_t at = 0; at < query.size();) {
    const std::size_t amp = std::min(query.find('&', at), query.size());
    const std::string_view pair = query.substr(at, amp - at);
    at = amp + 1;
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    const std::string_view key = pair.substr(0, eq);
    if (key != "prefix") {
      return bad_url(url, fmt::format("unknown parameter '{}' (only prefix= is known)", key));
    }
    const std::string_view value = eq == std::string_view::npos ? "" : pair.substr(eq + 1);
    if (value.empty() || value.size() > 64 ||
        !std::all_of(value.begin(), value.end(), prefix_char)) {
      return bad_url(url, "prefix must be 1 to 64 of A-Z a-z 0-9 _ - . :");
    }
    parsed.prefix = std::string(value);
  }
  return parsed;
}

}  // namespace starling::tracker
