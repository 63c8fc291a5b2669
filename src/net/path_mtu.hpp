// The largest UDP payload worth sending to a destination without IP fragmentation, as a
// starting ceiling for uTP's packet size (MTU probing refines it on the path itself).
#pragma once

#include <boost/asio/ip/address.hpp>
#include <cstddef>

namespace starling::net {

// The most a UDP datagram can carry at all: a 65,535-byte IPv4 packet minus the IPv4 (20) and
// UDP (8) headers. Also the bound of one GSO send, whose segments share one such packet.
inline constexpr std::size_t kMaxUdpPayload = 65535 - 20 - 8;

// Loopback (MTU 65,536): the whole IP packet, as big as UDP allows — but only when the peer
// reads datagrams that big: many uTP implementations (libtorrent among them) read into a
// 1,500-byte buffer and take a truncated datagram for a short one, which corrupts the stream
// without any loss for MTU probing to notice. Any other destination, or a peer not known to
// read large datagrams: an Ethernet MTU of 1,500 minus IP and UDP headers (1,472 for IPv4,
// 1,452 for IPv6); paths with a smaller MTU (PPPoE, tunnels) are found by probing.
std::size_t udp_payload_ceiling(const boost::asio::ip::address& destination,
                                bool peer_reads_large = true);

}  // namespace starling::net
