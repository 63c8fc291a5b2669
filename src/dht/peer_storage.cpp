#include "dht/peer_storage.hpp"

#include <algorithm>

namespace starling::dht {

bool PeerStorage::add(const NodeId& info_hash, const tracker::PeerAddress& peer, TimePoint now) {
  auto it = torrents_.find(info_hash);
  if (it == torrents_.end()) {
    if (torrents_.size() >= limits_.max_torrents) return false;
    it = torrents_.emplace(info_hash, std::vector<Stored>{}).first;
  }
  auto& peers = it->second;
  for (auto& s : peers) {
    if (s.peer == peer) {
      s.added = now;
      return true;
    }
  }
  if (peers.size() >= limits_.max_peers_per_torrent) {
    auto oldest =
        std::min_element(peers.begin(), peers.end(),
                         [](const Stored& a, const Stored& b) { return a.added < b.added; });
    *oldest = Stored{peer, now};
    return true;
  }
  peers.push_back(Stored{peer, now});
  return true;
}

std::vector<tracker::PeerAddress> PeerStorage::get(const NodeId& info_hash,
                                                   std::mt19937_64& rng) const {
  std::vector<tracker::PeerAddress> out;
  const auto it = torrents_.find(info_hash);
  if (it == torrents_.end()) return out;
  for (const auto& s : it->second) out.push_back(s.peer);
  if (out.size() > limits_.max_reply_peers) {
    std::shuffle(out.begin(), out.end(), rng);
    out.resize(limits_.max_reply_peers);
  }
  return out;
}

void PeerStorage::expire(TimePoint now) {
  for (auto it = torrents_.begin(); it != torrents_.end();) {
    std::erase_if(it->second, [&](const Stored& s) { return now - s.added >= limits_.lifetime; });
    it = it->second.empty() ? torrents_.erase(it) : std::next(it);
  }
}

std::size_t PeerStorage::peers() const {
  std::size_t n = 0;
  for (const auto& [hash, peers] : torrents_) n += peers.size();
  return n;
}

}  // namespace starling::dht
