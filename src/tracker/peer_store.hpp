// The tracker's memory: for each torrent, the peers that announced recently (IPv4 and IPv6 kept
// apart), seed and leecher counts and the number of completed downloads. Sharded by info-hash,
// one mutex per shard, so server threads rarely meet. Sans-IO: time is an explicit input
// (seconds on any monotonic clock), and nothing here touches a socket.
//
// Memory is bounded three ways (PeerStoreLimits): peers per torrent, peers in total, torrents.
// A peer that does not fit is answered but not remembered; a new torrent beyond the limit is
// refused. See docs/architecture.md for bytes per peer.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/digest.hpp"
#include "tracker/announce_request.hpp"
#include "tracker/peer_address.hpp"
#include "tracker/rack_locality.hpp"

namespace starling::tracker {

using Seconds = std::chrono::seconds;

struct PeerStoreLimits {
  std::size_t max_torrents = 1'000'000;
  std::size_t max_peers = 10'000'000;  // in all torrents together
  std::size_t max_peers_per_torrent = 100'000;
  int default_numwant = 50;
  int max_numwant = 200;
  // A peer that has not announced for this long is dropped by sweep(): 2 x interval + grace.
  Seconds peer_timeout{2 * 1800 + 120};
  std::size_t shards = 64;  // rounded up to a power of two
};

struct SwarmCounts {
  std::uint32_t complete = 0;    // seeds
  std::uint32_t incomplete = 0;  // leechers
  std::uint32_t downloaded = 0;  // `completed` events seen
  friend bool operator==(const SwarmCounts&, const SwarmCounts&) = default;
};

struct StoreAnnounce {
  Sha1Digest info_hash;
  PeerAddress peer;  // the address the request came from, with the announced port
  AnnounceEvent event = AnnounceEvent::none;
  bool seed = false;
  int numwant = -1;     // < 0: default_numwant; capped at max_numwant
  bool want_v4 = true;  // which families to return peers of
  bool want_v6 = true;
};

enum class AnnounceStatus { ok, not_allowed, torrent_limit };

struct StoreTotals {
  std::size_t torrents = 0;
  std::size_t peers = 0;
  std::size_t seeds = 0;
  std::size_t bytes = 0;  // the store's own accounting: table capacities + per-torrent overhead
};

class PeerStore {
 public:
  // A fixed cost per torrent (hash node, counters, empty tables), for the accounting.
  static constexpr std::size_t kTorrentOverhead = 160;

  explicit PeerStore(PeerStoreLimits limits = {});
  ~PeerStore();
  PeerStore(const PeerStore&) = delete;
  PeerStore& operator=(const PeerStore&) = delete;

  // Only these info-hashes are served (call before serving; empty: every torrent).
  void set_whitelist(std::vector<Sha1Digest> hashes);
  bool allowed(const Sha1Digest& info_hash) const;

  // Rack-aware answers (a datacenter deploy): a requester whose address has a rack gets mostly
  // peers of its own rack and a few others (rack_locality.hpp), chosen from all of the swarm's
  // peers (O(swarm) per announce, fine for a fleet). Call before serving; nullptr: random.
  void set_racks(std::shared_ptr<const RackMap> racks, LocalitySettings settings = {});

  // Records the announce and appends up to numwant other peers' compact forms (6 bytes each to
  // peers4, 18 to peers6), picked at random. `counts` gets the swarm's counts after the
  // announce. A `stopped` peer is removed and gets no peers.
  AnnounceStatus announce(const StoreAnnounce& request, Seconds now, SwarmCounts& counts,
                          std::string& peers4, std::string& peers6);

  // Counts for one torrent (zeros when unknown).
  SwarmCounts scrape(const Sha1Digest& info_hash) const;

  // Drops peers silent for longer than peer_timeout, and torrents left without peers; returns
  // the number of peers dropped.
  std::size_t sweep(Seconds now);

  StoreTotals totals() const;
  const PeerStoreLimits& limits() const { return limits_; }

 private:
  struct Shard;
  Shard& shard_for(const Sha1Digest& info_hash) const;

  PeerStoreLimits limits_;
  std::uint64_t seed_;  // keys the hash tables, so peers cannot aim at one probe run
  std::size_t shard_mask_;
  std::unique_ptr<Shard[]> shards_;
  std::vector<Sha1Digest> whitelist_;  // sorted
  std::shared_ptr<const RackMap> racks_;
  LocalitySettings locality_;
  std::atomic<std::size_t> peers_{0};
  std::atomic<std::size_t> torrents_{0};
};

}  // namespace starling::tracker
