#include "tracker/swarm_store.hpp"

#include <algorithm>

namespace starling::tracker {

void SwarmStore::set_whitelist(std::vector<Sha1Digest> hashes) {
  std::sort(hashes.begin(), hashes.end());
  hashes.erase(std::unique(hashes.begin(), hashes.end()), hashes.end());
  whitelist_ = std::move(hashes);
}

bool SwarmStore::allowed(const Sha1Digest& info_hash) const {
  return whitelist_.empty() || std::binary_search(whitelist_.begin(), whitelist_.end(), info_hash);
}

void SwarmStore::set_racks(std::shared_ptr<const RackMap> racks, LocalitySettings settings) {
  racks_ = std::move(racks);
  locality_ = settings;
}

std::size_t SwarmStore::wanted(int numwant) const {
  const int asked = numwant < 0 ? limits_.default_numwant : numwant;
  return static_cast<std::size_t>(std::clamp(asked, 0, limits_.max_numwant));
}

}  // namespace starling::tracker
