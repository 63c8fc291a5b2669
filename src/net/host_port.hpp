// "HOST:PORT" as users type it on command lines and in hosts files, and back.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace starling::net {

struct HostPort {
  boost::asio::ip::address address;
  std::uint16_t port = 0;
};

// "HOST:PORT", "[V6]:PORT" or ":PORT" (all IPv4 addresses); HOST is numeric or "localhost"
// (no resolver: these name listeners and fleet hosts, where a lookup would only hide typos).
std::optional<HostPort> parse_host_port(std::string_view text);

// "1.2.3.4:80" or "[::1]:80".
std::string format_endpoint(const boost::asio::ip::address& address, std::uint16_t port);

}  // namespace starling::net
