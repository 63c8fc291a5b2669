#include "tracker/peer_address.hpp"

#include <arpa/inet.h>

#include <cstring>

namespace starling::tracker {

IpAddress IpAddress::v4_from(std::uint32_t host_order) {
  IpAddress a;
  a.bytes[0] = static_cast<std::uint8_t>(host_order >> 24);
  a.bytes[1] = static_cast<std::uint8_t>(host_order >> 16);
  a.bytes[2] = static_cast<std::uint8_t>(host_order >> 8);
  a.bytes[3] = static_cast<std::uint8_t>(host_order);
  return a;
}

IpAddress IpAddress::v4_bytes(const std::uint8_t* four) {
  IpAddress a;
  std::memcpy(a.bytes.data(), four, 4);
  return a;
}

IpAddress IpAddress::v6_bytes(const std::uint8_t* sixteen) {
  IpAddress a;
  a.v6 = true;
  std::memcpy(a.bytes.data(), sixteen, 16);
  return a;
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  char buffer[INET6_ADDRSTRLEN];
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';
  IpAddress a;
  if (inet_pton(AF_INET, buffer, a.bytes.data()) == 1) return a;
  if (inet_pton(AF_INET6, buffer, a.bytes.data()) == 1) {
    a.v6 = true;
    return a;
  }
  return std::nullopt;
}

bool IpAddress::is_loopback() const {
  if (!v6) return bytes[0] == 127;
  const IpAddress plain = unmapped();
  if (!plain.v6) return plain.is_loopback();
  for (std::size_t i = 0; i < 15; ++i) {
    if (bytes[i] != 0) return false;
  }
  return bytes[15] == 1;
}

IpAddress IpAddress::unmapped() const {
  if (!v6) return *this;
  for (std::size_t i = 0; i < 10; ++i) {
    if (bytes[i] != 0) return *this;
  }
  if (bytes[10] != 0xff || bytes[11] != 0xff) return *this;
  return v4_bytes(bytes.data() + 12);
}

std::string IpAddress::to_string() const {
  char buffer[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buffer, sizeof buffer);
  return buffer;
}

std::string PeerAddress::to_string() const {
  if (ip.v6) return "[" + ip.to_string() + "]:" + std::to_string(port);
  return ip.to_string() + ":" + std::to_string(port);
}

void append_compact(std::string& out, const PeerAddress& peer) {
  out.append(reinterpret_cast<const char*>(peer.ip.bytes.data()), peer.ip.size());
  out.push_back(static_cast<char>(peer.port >> 8));
  out.push_back(static_cast<char>(peer.port & 0xff));
}

Expected<std::vector<PeerAddress>> parse_compact_peers(std::string_view bytes, bool v6) {
  const std::size_t entry = v6 ? kCompactV6Size : kCompactV4Size;
  if (bytes.size() % entry != 0) {
    return Error(Errc::tracker_bad_reply,
                 std::string(v6 ? "peers6" : "peers") + " length " + std::to_string(bytes.size()) +
                     " is not a multiple of " + std::to_string(entry),
                 bytes.size() - bytes.size() % entry);
  }
  std::vector<PeerAddress> peers;
  peers.reserve(bytes.size() / entry);
  const auto* p = reinterpret_cast<const std::uint8_t*>(bytes.data());
  for (std::size_t at = 0; at < bytes.size(); at += entry) {
    PeerAddress peer;
    peer.ip = v6 ? IpAddress::v6_bytes(p + at) : IpAddress::v4_bytes(p + at);
    const std::size_t port_at = at + entry - 2;
    peer.port = static_cast<std::uint16_t>((p[port_at] << 8) | p[port_at + 1]);
    peers.push_back(peer);
  }
  return peers;
}

}  // namespace starling::tracker
