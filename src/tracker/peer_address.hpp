// Peer addresses as trackers exchange them: an IPv4 or IPv6 address plus a port, and their
// compact forms (BEP 23: 4-byte address + 2-byte port; BEP 7: 16-byte address + 2-byte port,
// both in network byte order). No sockets here: the servers and the future client convert.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/expected.hpp"

namespace starling::tracker {

struct IpAddress {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};  // IPv4 uses the first 4, in network order

  static IpAddress v4_from(std::uint32_t host_order);
  static IpAddress v4_bytes(const std::uint8_t* four);
  static IpAddress v6_bytes(const std::uint8_t* sixteen);
  // A numeric address ("10.0.0.1", "::1", "[::1]"); nullopt for anything else (no names).
  static std::optional<IpAddress> parse(std::string_view text);

  std::size_t size() const { return v6 ? 16 : 4; }
  bool is_loopback() const;
  // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) as plain IPv4; others unchanged.
  IpAddress unmapped() const;
  std::string to_string() const;

  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

struct PeerAddress {
  IpAddress ip;
  std::uint16_t port = 0;

  std::string to_string() const;  // "1.2.3.4:6881" or "[::1]:6881"
  friend bool operator==(const PeerAddress&, const PeerAddress&) = default;
};

inline constexpr std::size_t kCompactV4Size = 6;
inline constexpr std::size_t kCompactV6Size = 18;

// Appends the 6- or 18-byte compact form (chosen by the address family).
void append_compact(std::string& out, const PeerAddress& peer);
// Splits a compact peer string; its length must be a multiple of 6 (or 18 when `v6`).
Expected<std::vector<PeerAddress>> parse_compact_peers(std::string_view bytes, bool v6);

}  // namespace starling::tracker
