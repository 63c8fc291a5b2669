// The tracker's memory: for each torrent, the peers that announced recently (IPv4 and IPv6 kept
// apart), seed and leecher counts and the number of completed downloads. Sharded by info-hash,
// one mutex per shard, so server threads rarely meet. Sans-IO: time is an explicit input
// (seconds on any monotonic clock), and nothing here touches a socket. The default SwarmStore;
// RedisPeerStore is the shared one for several tracker replicas.
//
// Memory is bounded three ways (PeerStoreLimits): peers per torrent, peers in total, torrents.
// A peer that does not fit is answered but not remembered; a new torrent beyond the limit is
// refused. See docs/architecture.md for bytes per peer.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "tracker/swarm_store.hpp"

namespace starling::tracker {

class PeerStore final : public SwarmStore {
 public:
  // A fixed cost per torrent (hash node, counters, empty tables), for the accounting.
  static constexpr std::size_t kTorrentOverhead = 160;

  explicit PeerStore(PeerStoreLimits limits = {});
  ~PeerStore() override;

  AnnounceStatus announce(const StoreAnnounce& request, Seconds now, SwarmCounts& counts,
                          std::string& peers4, std::string& peers6) override;
  Expected<SwarmCounts> scrape(const Sha1Digest& info_hash) const override;
  std::size_t sweep(Seconds now) override;
  StoreTotals totals() const override;

 private:
  struct Shard;
  Shard& shard_for(const Sha1Digest& info_hash) const;

  std::uint64_t seed_;  // keys the hash tables, so peers cannot aim at one probe run
  std::size_t shard_mask_;
  std::unique_ptr<Shard[]> shards_;
  std::atomic<std::size_t> peers_{0};
  std::atomic<std::size_t> torrents_{0};
};

}  // namespace starling::tracker
