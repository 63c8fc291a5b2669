// The bencoded reply to an HTTP announce (BEP 3, compact peers of BEP 23, peers6 of BEP 7):
// the server's encoder writes straight from the peer store's compact bytes; the decoder turns
// any tracker's reply (compact or dictionary peers, failure, warning) into a struct for a client.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/expected.hpp"
#include "tracker/peer_address.hpp"

namespace starling::tracker {

// What a server puts in a successful reply. The peers are compact bytes (6 per IPv4 peer, 18
// per IPv6 peer) as the peer store writes them.
struct AnnounceReplyFields {
  std::int64_t interval = 1800;
  std::int64_t min_interval = 0;  // 0: not sent
  std::int64_t complete = 0;
  std::int64_t incomplete = 0;
  std::int64_t downloaded = -1;  // < 0: not sent
  std::string_view peers4;       // compact IPv4 peers
  std::string_view peers6;       // compact IPv6 peers
  bool compact = true;  // false: one "peers" list of {ip, port} dictionaries (both families)
};

// Appends the bencoded reply (keys in canonical order).
void append_announce_reply(std::string& out, const AnnounceReplyFields& fields);
// Appends d14:failure reason<len>:<reason>e.
void append_failure_reply(std::string& out, std::string_view reason);

struct AnnouncePeer {
  PeerAddress address;
  std::string peer_id;  // empty when the tracker sent compact peers or omitted it
  friend bool operator==(const AnnouncePeer&, const AnnouncePeer&) = default;
};

// A decoded reply. On a failure reply only failure_reason is meaningful.
struct AnnounceReply {
  std::optional<std::string> failure_reason;
  std::optional<std::string> warning_message;
  std::int64_t interval = 0;
  std::optional<std::int64_t> min_interval;
  std::optional<std::int64_t> complete;
  std::optional<std::int64_t> incomplete;
  std::optional<std::int64_t> downloaded;
  std::optional<std::string> tracker_id;
  std::vector<AnnouncePeer> peers;  // from "peers" (compact or list) then "peers6"
};

// Decodes a reply body. Keys need not be sorted (trackers in the wild do not all sort them);
// dictionary peers whose "ip" is a host name rather than an address are skipped. A reply with
// neither "failure reason" nor "interval" is an error.
Expected<AnnounceReply> decode_announce_reply(std::string_view body);

}  // namespace starling::tracker
