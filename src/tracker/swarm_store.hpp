// What the tracker service needs from a peer store, whichever keeps the peers: the in-memory
// PeerStore (one process) or RedisPeerStore (several tracker replicas sharing one Redis). Both
// take the time as an explicit input and answer with the same types, so one contract test runs
// against both (tests/tracker/swarm_store_test.cpp). The whitelist and the rack map are the
// tracker's configuration, not the swarm's: they live here, the same for every store.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/digest.hpp"
#include "core/expected.hpp"
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
  std::size_t shards = 64;  // rounded up to a power of two (in-memory store only)
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

// `unavailable`: the store could not be asked (Redis down or too slow); the client gets a
// failure reason and retries later, the tracker keeps serving.
enum class AnnounceStatus { ok, not_allowed, torrent_limit, unavailable };

struct StoreTotals {
  std::size_t torrents = 0;
  std::size_t peers = 0;
  std::size_t seeds = 0;
  std::size_t bytes = 0;  // the in-memory store's own accounting; 0 for Redis
};

class SwarmStore {
 public:
  explicit SwarmStore(PeerStoreLimits limits) : limits_(limits) {}
  virtual ~SwarmStore() = default;
  SwarmStore(const SwarmStore&) = delete;
  SwarmStore& operator=(const SwarmStore&) = delete;

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
  virtual AnnounceStatus announce(const StoreAnnounce& request, Seconds now, SwarmCounts& counts,
                                  std::string& peers4, std::string& peers6) = 0;

  // Counts for one torrent (zeros when unknown); an error when the store cannot be asked.
  virtual Expected<SwarmCounts> scrape(const Sha1Digest& info_hash) const = 0;

  // Drops peers silent for longer than peer_timeout, and torrents left without peers; returns
  // the number of peers dropped.
  virtual std::size_t sweep(Seconds now) = 0;

  virtual StoreTotals totals() const = 0;
  const PeerStoreLimits& limits() const { return limits_; }

 protected:
  // numwant as asked, defaulted and capped.
  std::size_t wanted(int numwant) const;
  // The requester's rack when rack-aware answers apply to it, else "".
  std::string_view rack_of(const IpAddress& ip) const {
    return racks_ ? racks_->rack_of(ip) : std::string_view();
  }
  const RackMap& racks() const { return *racks_; }
  const LocalitySettings& locality() const { return locality_; }

  PeerStoreLimits limits_;

 private:
  std::vector<Sha1Digest> whitelist_;  // sorted
  std::shared_ptr<const RackMap> racks_;
  LocalitySettings locality_;
};

}  // namespace starling::tracker
