#include "tracker/announce_reply.hpp"

#include "bencode/decoder.hpp"

namespace starling::tracker {
namespace {

void append_key(std::string& out, std::string_view key) {
  out += std::to_string(key.size());
  out += ':';
  out += key;
}

void append_int(std::string& out, std::string_view key, std::int64_t value) {
  append_key(out, key);
  out += 'i';
  out += std::to_string(value);
  out += 'e';
}

void append_peer_dicts(std::string& out, std::string_view compact, bool v6) {
  const std::size_t entry = v6 ? kCompactV6Size : kCompactV4Size;
  const auto* p = reinterpret_cast<const std::uint8_t*>(compact.data());
  for (std::size_t at = 0; at + entry <= compact.size(); at += entry) {
    const IpAddress ip = v6 ? IpAddress::v6_bytes(p + at) : IpAddress::v4_bytes(p + at);
    const int port = (p[at + entry - 2] << 8) | p[at + entry - 1];
    out += 'd';
    append_key(out, "ip");
    append_key(out, ip.to_string());
    append_int(out, "port", port);
    out += 'e';
  }
}

Error bad(std::string detail, std::size_t at = Error::no_offset) {
  return Error(Errc::tracker_bad_reply, std::move(detail), at);
}

}  // namespace

void append_announce_reply(std::string& out, const AnnounceReplyFields& f) {
  out += 'd';
  append_int(out, "complete", f.complete);
  if (f.downloaded >= 0) append_int(out, "downloaded", f.downloaded);
  append_int(out, "incomplete", f.incomplete);
  append_int(out, "interval", f.interval);
  if (f.min_interval > 0) append_int(out, "min interval", f.min_interval);
  append_key(out, "peers");
  if (f.compact) {
    append_key(out, f.peers4);
    append_key(out, "peers6");
    append_key(out, f.peers6);
  } else {
    out += 'l';
    append_peer_dicts(out, f.peers4, false);
    append_peer_dicts(out, f.peers6, true);
    out += 'e';
  }
  out += 'e';
}

void append_failure_reply(std::string& out, std::string_view reason) {
  out += 'd';
  append_key(out, "failure reason");
  append_key(out, reason);
  out += 'e';
}

Expected<AnnounceReply> decode_announce_reply(std::string_view body) {
  bencode::DecodeLimits limits;
  limits.require_sorted_keys = false;
  limits.max_elements = 1'000'000;
  auto doc = bencode::decode(body, limits);
  if (!doc) return bad(doc.error().message(), doc.error().offset);
  const bencode::Node root = doc->root();
  if (!root.is_dict()) return bad("reply is not a dictionary", 0);

  AnnounceReply reply;
  if (auto failure = root.find_string("failure reason")) {
    reply.failure_reason = std::string(*failure);
    return reply;
  }
  if (auto warning = root.find_string("warning message")) reply.warning_message = *warning;
  const auto interval = root.find_int("interval");
  if (!interval) return bad("no 'interval' and no 'failure reason'");
  if (*interval < 0) return bad("negative 'interval'", root.find("interval")->offset());
  reply.interval = *interval;
  reply.min_interval = root.find_int("min interval");
  reply.complete = root.find_int("complete");
  reply.incomplete = root.find_int("incomplete");
  reply.downloaded = root.find_int("downloaded");
  if (auto id = root.find_string("tracker id")) reply.tracker_id = std::string(*id);

  if (auto peers = root.find("peers")) {
    if (peers->is_string()) {
      auto list = parse_compact_peers(peers->as_string(), false);
      if (!list) return bad(list.error().detail, peers->offset());
      for (const auto& a : *list) reply.peers.push_back({a, {}});
    } else if (peers->is_list()) {
      for (const bencode::Node& entry : peers->elements()) {
        if (!entry.is_dict()) return bad("a 'peers' entry is not a dictionary", entry.offset());
        const auto ip = entry.find_string("ip");
        const auto port = entry.find_int("port");
        if (!ip || !port || *port < 0 || *port > 65535) {
          return bad("a 'peers' entry lacks a valid 'ip' or 'port'", entry.offset());
        }
        const auto address = IpAddress::parse(*ip);
        if (!address) continue;  // a host name: not resolved here
        AnnouncePeer peer{{*address, static_cast<std::uint16_t>(*port)}, {}};
        if (auto id = entry.find_string("peer id")) peer.peer_id = std::string(*id);
        reply.peers.push_back(std::move(peer));
      }
    } else {
      return bad("'peers' is neither a string nor a list", peers->offset());
    }
  }
  if (auto peers6 = root.find("peers6")) {
    if (!peers6->is_string()) return bad("'peers6' is not a string", peers6->offset());
    auto list = parse_compact_peers(peers6->as_string(), true);
    if (!list) return bad(list.error().detail, peers6->offset());
    for (const auto& a : *list) reply.peers.push_back({a, {}});
  }
  return reply;
}

}  // namespace starling::tracker
