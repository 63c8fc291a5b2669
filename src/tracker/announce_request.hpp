// The announce request of BEP 3 (with BEP 7's ipv6 and BEP 23's compact), in both directions:
// the server parses the query string of `GET /announce?...`; a client builds it.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/digest.hpp"
#include "core/expected.hpp"

namespace starling::tracker {

using PeerId = std::array<std::uint8_t, 20>;

// Numbered as in BEP 15, so the UDP codec can use the value directly.
enum class AnnounceEvent : std::uint8_t { none = 0, completed = 1, started = 2, stopped = 3 };

std::string_view event_name(AnnounceEvent event);  // "" for none

struct AnnounceRequest {
  static constexpr std::int64_t kLeftUnknown = -1;
  static constexpr std::int32_t kNumwantDefault = -1;

  Sha1Digest info_hash;
  PeerId peer_id{};
  std::uint16_t port = 0;
  std::int64_t uploaded = 0;
  std::int64_t downloaded = 0;
  std::int64_t left = kLeftUnknown;  // kLeftUnknown: not sent; the peer counts as a leecher
  AnnounceEvent event = AnnounceEvent::none;
  std::int32_t numwant = kNumwantDefault;  // kNumwantDefault: not sent, the tracker decides
  bool compact = true;
  bool no_peer_id = false;
  std::string key;   // opaque, as sent
  std::string ip;    // `ip=` as sent (a server uses the socket address instead)
  std::string ipv6;  // BEP 7 `ipv6=` as sent

  bool is_seed() const { return left == 0; }
  friend bool operator==(const AnnounceRequest&, const AnnounceRequest&) = default;
};

// Parses the query string (the part after '?'). info_hash, peer_id (20 bytes each once
// %-decoded) and port (1..65535) are required; numbers are unsigned decimal; numwant above
// INT32_MAX is clamped (the tracker caps it further); unknown parameters are ignored. Errors
// name the parameter, with the offset of its key in `query`.
Expected<AnnounceRequest> parse_announce_query(std::string_view query);

// The query string (without '?') for a request; ip/ipv6/key only when set, left only when known,
// numwant only when not kNumwantDefault. Append it to "announce_url?" (or "&" if the URL already
// has a query).
std::string build_announce_query(const AnnounceRequest& request);

}  // namespace starling::tracker
