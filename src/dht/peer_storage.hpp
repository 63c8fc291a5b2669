// What announce_peer stores (BEP 5): per info-hash, the peers that announced it, bounded in
// torrents and in peers per torrent, forgotten after `lifetime` without a re-announce.
// get_peers replies take a random sample. Time is an input.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <random>
#include <vector>

#include "dht/node_id.hpp"
#include "tracker/peer_address.hpp"

namespace starling::dht {

struct PeerStorageLimits {
  std::size_t max_torrents = 2000;
  std::size_t max_peers_per_torrent = 200;
  std::chrono::minutes lifetime{30};
  std::size_t max_reply_peers = 50;  // 50 x 6 bytes keeps a reply well under one MTU
};

class PeerStorage {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  explicit PeerStorage(PeerStorageLimits limits = {}) : limits_(limits) {}

  // False when it does not fit (too many torrents; a full torrent replaces its oldest peer).
  bool add(const NodeId& info_hash, const tracker::PeerAddress& peer, TimePoint now);
  std::vector<tracker::PeerAddress> get(const NodeId& info_hash, std::mt19937_64& rng) const;
  void expire(TimePoint now);
  std::size_t torrents() const { return torrents_.size(); }
  std::size_t peers() const;

 private:
  struct Stored {
    tracker::PeerAddress peer;
    TimePoint added;
  };
  PeerStorageLimits limits_;
  std::map<NodeId, std::vector<Stored>> torrents_;
};

}  // namespace starling::dht
