// KRPC (BEP 5): the bencoded query / response / error messages DHT nodes exchange over UDP.
// Sans-IO codec: a datagram's bytes in, a KrpcMessage out, and back. Decoding is strict where
// a field is unusable (no transaction id, no node id, a malformed id) and lenient where clients
// differ (unknown keys, unsorted keys, a peer value of the wrong length is skipped).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/expected.hpp"
#include "dht/node_id.hpp"
#include "tracker/peer_address.hpp"

namespace starling::dht {

using tracker::PeerAddress;

struct NodeInfo {
  NodeId id;
  PeerAddress address;
  friend bool operator==(const NodeInfo&, const NodeInfo&) = default;
};

enum class MessageKind : std::uint8_t { query, response, error };
enum class Method : std::uint8_t { ping, find_node, get_peers, announce_peer, unknown };

// Compact node info: 20-byte id + 6-byte IPv4 address and port.
inline constexpr std::size_t kCompactNodeSize = 26;
// Standard KRPC error codes.
inline constexpr int kErrorGeneric = 201;
inline constexpr int kErrorServer = 202;
inline constexpr int kErrorProtocol = 203;
inline constexpr int kErrorMethodUnknown = 204;

struct KrpcMessage {
  std::string transaction;  // t: echoed in the reply
  MessageKind kind = MessageKind::query;
  Method method = Method::unknown;  // queries
  std::string method_name;          // queries: q as sent
  NodeId id;                        // the sender's id (queries and responses)
  NodeId target;                    // find_node
  NodeId info_hash;                 // get_peers, announce_peer
  std::string token;                // get_peers response, announce_peer query
  std::uint16_t port = 0;           // announce_peer
  bool implied_port = false;        // announce_peer: use the UDP source port instead
  std::vector<NodeInfo> nodes;      // find_node / get_peers responses (IPv4)
  std::vector<PeerAddress> values;  // get_peers responses
  // BEP 42: the requester's address as the responder saw it (how a node learns its own).
  std::optional<PeerAddress> ip;
  int error_code = 0;  // errors
  std::string error_message;
  std::string version;     // v: client and version, optional
  bool read_only = false;  // BEP 43 ro=1: the sender answers no queries; not for routing
};

struct KrpcLimits {
  std::size_t max_datagram = 2048;  // larger datagrams are refused unread
  std::size_t max_transaction = 32;
  std::size_t max_token = 64;
  std::size_t max_values = 200;
  std::size_t max_nodes = 64;
};

// Errc::dht_bad_message with the field at fault.
Expected<KrpcMessage> decode_krpc(std::string_view datagram, const KrpcLimits& limits = {});
std::string encode_krpc(const KrpcMessage& message);

std::string_view method_name(Method method);
Method method_from_name(std::string_view name);

}  // namespace starling::dht
