// `--store redis://HOST[:PORT][/DB][?prefix=NAME]`: where a tracker replica finds the shared peer
// store. HOST is a name, an IPv4 address or a bracketed IPv6 address; PORT defaults to 6379, DB
// to 0 and the key prefix to "starling" (two fleets sharing one Redis use two prefixes).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/expected.hpp"

namespace starling::tracker {

struct RedisUrl {
  std::string host;  // without brackets
  std::uint16_t port = 6379;
  int db = 0;
  std::string prefix = "starling";

  // "redis://host:port/db?prefix=p", brackets around an IPv6 host (for logs and errors).
  std::string text() const;
};

// Errors name the URL and what is wrong with it.
Expected<RedisUrl> parse_redis_url(std::string_view url);

}  // namespace starling::tracker
