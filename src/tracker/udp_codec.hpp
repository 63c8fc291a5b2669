// BEP 15 UDP tracker packets, encoded and parsed in both directions: a server parses requests
// and encodes responses; a client encodes requests and parses responses. All integers are big
// endian. Parsers check every length before reading and return an Error naming the packet,
// the field and its offset.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/digest.hpp"
#include "core/expected.hpp"
#include "tracker/announce_request.hpp"
#include "tracker/peer_address.hpp"
#include "tracker/scrape.hpp"

namespace starling::tracker::udp {

inline constexpr std::uint64_t kProtocolId = 0x41727101980ULL;
enum class Action : std::uint32_t { connect = 0, announce = 1, scrape = 2, error = 3 };

inline constexpr std::size_t kConnectRequestSize = 16;
inline constexpr std::size_t kAnnounceRequestSize = 98;  // BEP 41 options may follow
inline constexpr std::size_t kAnnounceResponseHeader = 20;
inline constexpr std::size_t kScrapeEntrySize = 12;
inline constexpr std::size_t kMaxScrapeHashes = 74;  // what fits a 1500-byte datagram

struct ConnectRequest {
  std::uint32_t transaction_id = 0;
  friend bool operator==(const ConnectRequest&, const ConnectRequest&) = default;
};
struct ConnectResponse {
  std::uint32_t transaction_id = 0;
  std::uint64_t connection_id = 0;
  friend bool operator==(const ConnectResponse&, const ConnectResponse&) = default;
};

struct AnnounceRequest {
  std::uint64_t connection_id = 0;
  std::uint32_t transaction_id = 0;
  Sha1Digest info_hash;
  PeerId peer_id{};
  std::int64_t downloaded = 0;
  std::int64_t left = 0;
  std::int64_t uploaded = 0;
  AnnounceEvent event = AnnounceEvent::none;
  std::uint32_t ip = 0;  // IPv4, host order; 0: the sender's address
  std::uint32_t key = 0;
  std::int32_t num_want = -1;  // -1: the tracker's default
  std::uint16_t port = 0;
  friend bool operator==(const AnnounceRequest&, const AnnounceRequest&) = default;
};
struct AnnounceResponse {
  std::uint32_t transaction_id = 0;
  std::uint32_t interval = 0;
  std::uint32_t leechers = 0;
  std::uint32_t seeders = 0;
  std::vector<PeerAddress> peers;  // all IPv4 or all IPv6 (the family the request came over)
  friend bool operator==(const AnnounceResponse&, const AnnounceResponse&) = default;
};

struct ScrapeRequest {
  std::uint64_t connection_id = 0;
  std::uint32_t transaction_id = 0;
  std::vector<Sha1Digest> info_hashes;  // 1..kMaxScrapeHashes
  friend bool operator==(const ScrapeRequest&, const ScrapeRequest&) = default;
};
struct ScrapeResponse {
  std::uint32_t transaction_id = 0;
  std::vector<ScrapeEntry> entries;  // info_hash is not on the wire: left zero when parsed
  friend bool operator==(const ScrapeResponse&, const ScrapeResponse&) = default;
};

struct ErrorResponse {
  std::uint32_t transaction_id = 0;
  std::string message;
  friend bool operator==(const ErrorResponse&, const ErrorResponse&) = default;
};

using Request = std::variant<ConnectRequest, AnnounceRequest, ScrapeRequest>;
using Response = std::variant<ConnectResponse, AnnounceResponse, ScrapeResponse, ErrorResponse>;

// Server side: a request datagram. A scrape with more than kMaxScrapeHashes is cut there.
Expected<Request> parse_request(std::span<const std::uint8_t> datagram);
// The transaction id of a datagram long enough to carry one (bytes 12..15), for error replies.
std::uint32_t transaction_id_of(std::span<const std::uint8_t> datagram);

// Client side: a response datagram; `ipv6_peers` says whether announce peers are 18-byte
// entries (the request went over IPv6) rather than 6-byte ones.
Expected<Response> parse_response(std::span<const std::uint8_t> datagram, bool ipv6_peers);

// Each appends the packet to `out`.
void encode(std::string& out, const ConnectRequest& packet);
void encode(std::string& out, const ConnectResponse& packet);
void encode(std::string& out, const AnnounceRequest& packet);
void encode(std::string& out, const AnnounceResponse& packet);
void encode(std::string& out, const ScrapeRequest& packet);
void encode(std::string& out, const ScrapeResponse& packet);
void encode(std::string& out, const ErrorResponse& packet);

// The server's fast path: an announce response whose peers are compact bytes already.
void append_announce_response(std::string& out, std::uint32_t transaction_id,
                              std::uint32_t interval, std::uint32_t leechers, std::uint32_t seeders,
                              std::string_view compact_peers);

}  // namespace starling::tracker::udp
