// Rack-aware peer lists for a datacenter deploy: the tracker answers a host mostly with peers in
// its own rack plus a few from elsewhere (so pieces still cross racks and every rack gets them),
// keeping most traffic off the links between racks. Sans-IO: compact peer strings in and out.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "tracker/peer_address.hpp"

namespace starling::tracker {

class RackMap {
 public:
  void assign(const IpAddress& ip, std::string rack);
  // The rack of `ip` (IPv4-mapped IPv6 counts as IPv4), or "" when unknown.
  std::string_view rack_of(const IpAddress& ip) const;
  bool empty() const { return racks_.empty(); }

 private:
  static std::array<std::uint8_t, 17> key(const IpAddress& ip);
  std::map<std::array<std::uint8_t, 17>, std::string> racks_;
};

struct LocalitySettings {
  double cross_fraction = 0.125;  // of the same-rack peers returned, from other racks (rounded up)
  std::size_t min_cross = 2;      // at least this many from other racks when there are
  // A reply holds at least this many peers when the swarm has them, other racks filling in for
  // a small rack: a host fills its downlink only from about as many peers as each peer has
  // upload slots (8 in a deploy). With 4 hosts to a rack, 3 rack peers and 2 others left the
  // last hosts to announce at a third of their link (12-host netns deploy: 13 s against 8.6 s).
  std::size_t min_peers = 10;
};

// From `candidates` (compact peers of `entry_size` bytes: 6 for IPv4, 18 for IPv6) appends at
// most `want` to `out`: max(min_cross, ceil(local × cross_fraction)) from other racks (when there
// are that many) and the rest, `local`, from `my_rack`; then other racks' peers up to
// `min_peers` in all. Not filled up further: a few cross-rack links carry every piece into the
// rack, and the rack shares it inside. With no peer of its own rack a requester gets any peers.
// Order within each group is kept.
void pick_by_rack(std::string_view candidates, std::size_t entry_size, std::string_view my_rack,
                  const RackMap& racks, std::size_t want, const LocalitySettings& settings,
                  std::string& out);

}  // namespace starling::tracker
