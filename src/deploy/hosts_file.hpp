// The fleet a deploy goes to: one agent per line, `HOST:PORT [RACK]` (the agent's API address
// and an optional rack name for locality), `#` starts a comment, blank lines are skipped.
// HOST is a name, an IPv4 address or a bracketed IPv6 address. Sans-IO: text in, hosts out.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/expected.hpp"

namespace starling::deploy {

struct HostEntry {
  std::string host;  // without brackets
  std::uint16_t port = 0;
  std::string rack;             // empty when the line names none
  int line = 0;                 // 1-based, for messages
  std::string address() const;  // "host:port" or "[v6]:port"
  friend bool operator==(const HostEntry&, const HostEntry&) = default;
};

struct HostsLimits {
  std::size_t max_hosts = 100'000;
  std::size_t max_line = 1024;
};

// Every error names its line: "line 7: port 70000 is not 1 to 65535". Duplicates are refused.
Expected<std::vector<HostEntry>> parse_hosts(std::string_view text, const HostsLimits& limits = {});

}  // namespace starling::deploy
