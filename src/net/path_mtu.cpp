#include "net/path_mtu.hpp"

#include <algorithm>

namespace starling::net {

namespace {

constexpr std::size_t kIpv4Header = 20;
constexpr std::size_t kIpv6Header = 40;
constexpr std::size_t kUdpHeader = 8;
constexpr std::size_t kEthernetMtu = 1500;
constexpr std::size_t kLoopbackMtu = 65536;

}  // namespace

std::size_t udp_payload_ceiling(const boost::asio::ip::address& destination,
                                bool peer_reads_large) {
  boost::asio::ip::address to = destination;
  // An IPv4 peer reached through a dual-stack IPv6 socket still travels as IPv4.
  if (to.is_v6() && to.to_v6().is_v4_mapped()) {
    to = boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, to.to_v6());
  }
  const std::size_t ip_header = to.is_v4() ? kIpv4Header : kIpv6Header;
  const std::size_t mtu = to.is_loopback() && peer_reads_large ? kLoopbackMtu : kEthernetMtu;
  return std::min(mtu - ip_header - kUdpHeader, kMaxUdpPayload);
}

}  // namespace starling::net
