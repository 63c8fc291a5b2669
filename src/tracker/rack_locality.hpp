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
  double cross_fraction = 0.125;  // of `want`, from other racks (rounded up)
  std::size_t min_cross = 2;      // at least this many from other racks when there are
};

// From `candidates` (compact peers of `entry_size` bytes: 6 for IPv4, 18 for IPv6) appends at
// most `want` to `out`: at least max(min_cross, ceil(want × cross_fraction)) from other racks
// when there are that many, the rest from `my_rack`, and any room left filled from the others.
// Candidates keep their order within each group.
void pick_by_rack(std::string_view candidates, std::size_t entry_size, std::string_view my_rack,
                  const RackMap& racks, std::size_t want, const LocalitySettings& settings,
                  std::string& out);

}  // namespace starling::tracker
