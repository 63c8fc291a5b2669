// Helpers shared by the tracker's store tests (the SwarmStore contract and PeerStore's own).
#pragma once

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "tracker/swarm_store.hpp"

namespace starling::tracker::test {

// A distinct, stable info-hash per n.
inline Sha1Digest torrent(std::uint32_t n) {
  Sha1Digest d;
  for (std::size_t i = 0; i < 20; ++i)
    d.bytes[i] =
        static_cast<std::uint8_t>((n * 2654435761U) >> (i % 4 * 8)) ^ static_cast<std::uint8_t>(i);
  return d;
}

inline StoreAnnounce from(const Sha1Digest& hash, std::string_view ip, std::uint16_t port,
                          bool seed = false, AnnounceEvent event = AnnounceEvent::none) {
  StoreAnnounce a;
  a.info_hash = hash;
  a.peer = {*IpAddress::parse(ip), port};
  a.seed = seed;
  a.event = event;
  return a;
}

struct Result {
  AnnounceStatus status;
  SwarmCounts counts;
  std::string peers4;
  std::string peers6;
};

inline Result announce(SwarmStore& store, const StoreAnnounce& a, std::int64_t now = 100) {
  Result r;
  r.status = store.announce(a, Seconds(now), r.counts, r.peers4, r.peers6);
  return r;
}

// The compact entries of a peers string (6 or 18 bytes each), as a set.
inline std::set<std::string> split(const std::string& compact, std::size_t entry) {
  std::set<std::string> out;
  for (std::size_t at = 0; at + entry <= compact.size(); at += entry) {
    out.insert(compact.substr(at, entry));
  }
  return out;
}

}  // namespace starling::tracker::test
