#include "tracker/rack_locality.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace starling::tracker {

std::array<std::uint8_t, 17> RackMap::key(const IpAddress& ip) {
  const IpAddress plain = ip.unmapped();
  std::array<std::uint8_t, 17> k{};
  k[0] = plain.v6 ? 1 : 0;
  std::copy_n(plain.bytes.begin(), plain.size(), k.begin() + 1);
  return k;
}

void RackMap::assign(const IpAddress& ip, std::string rack) {
  racks_[key(ip)] = std::move(rack);
}

std::string_view RackMap::rack_of(const IpAddress& ip) const {
  const auto it = racks_.find(key(ip));
  return it == racks_.end() ? std::string_view() : std::string_view(it->second);
}

void pick_by_rack(std::string_view candidates, std::size_t entry_size, std::string_view my_rack,
                  const RackMap& racks, std::size_t want, const LocalitySettings& settings,
                  std::string& out) {
  if (entry_size != kCompactV4Size && entry_size != kCompactV6Size) return;
  std::vector<std::string_view> same;
  std::vector<std::string_view> other;
  for (std::size_t at = 0; at + entry_size <= candidates.size(); at += entry_size) {
    const std::string_view entry = candidates.substr(at, entry_size);
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(entry.data());
    const IpAddress ip =
        entry_size == kCompactV4Size ? IpAddress::v4_bytes(bytes) : IpAddress::v6_bytes(bytes);
    const std::string_view rack = racks.rack_of(ip);
    (!my_rack.empty() && rack == my_rack ? same : other).push_back(entry);
  }
  if (same.empty()) {
    // Nothing to prefer (no rack, or alone in it): any peers.
    for (std::size_t i = 0; i < std::min(want, other.size()); ++i) out.append(other[i]);
    return;
  }
  const auto quota = std::max<std::size_t>(
      settings.min_cross,
      static_cast<std::size_t>(
          std::ceil(static_cast<double>(std::min(same.size(), want)) * settings.cross_fraction)));
  std::size_t cross = std::min({quota, other.size(), want});
  const std::size_t local = std::min(same.size(), want - cross);
  const std::size_t floor = std::min(settings.min_peers, want);
  if (local + cross < floor) cross = std::min(other.size(), floor - local);
  for (std::size_t i = 0; i < local; ++i) out.append(same[i]);
  for (std::size_t i = 0; i < cross; ++i) out.append(other[i]);
}

}  // namespace starling::tracker
