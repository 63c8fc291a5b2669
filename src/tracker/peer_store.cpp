#include "tracker/peer_store.hpp"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <numeric>
#include <random>
#include <unordered_map>

#include "tracker/peer_table.hpp"

namespace starling::tracker {
namespace {

struct DigestHash {
  std::size_t operator()(const Sha1Digest& d) const {
    std::uint64_t h;
    std::memcpy(&h, d.bytes.data(), sizeof h);
    return static_cast<std::size_t>(h);
  }
};

struct Torrent {
  PeerTable<PeerEntry4> v4;
  PeerTable<PeerEntry6> v6;
  std::uint32_t seeds = 0;
  std::uint32_t downloaded = 0;

  std::size_t peers() const { return v4.size() + v6.size(); }
  std::size_t bytes() const { return PeerStore::kTorrentOverhead + v4.bytes() + v6.bytes(); }
};

// xoshiro-style generator, one per thread: the per-announce sampling needs speed, not secrecy.
std::uint64_t next_random() {
  thread_local std::uint64_t state = [] {
    std::random_device device;
    return (std::uint64_t{device()} << 32) ^ device() ^ 0x9E3779B97F4A7C15ULL;
  }();
  state ^= state >> 12;
  state ^= state << 25;
  state ^= state >> 27;
  return state * 0x2545F4914F6CDD1DULL;
}

// Appends up to `want` compact peers from `table`, skipping index `self`: runs of neighbours
// from a random start, walking with a random stride (so every entry is reachable and different
// requesters see different subsets).
template <class Entry>
void sample(const PeerTable<Entry>& table, std::uint32_t self, std::size_t want, std::string& out) {
  const std::size_t n = table.size();
  const std::size_t others = n - (self == PeerTable<Entry>::npos ? 0 : 1);
  if (want == 0 || others == 0) return;
  constexpr std::size_t kSize = sizeof(Entry::compact);
  if (others <= want) {
    for (std::size_t i = 0; i < n; ++i) {
      if (i != self) out.append(reinterpret_cast<const char*>(table[i].compact.data()), kSize);
    }
    return;
  }
  // Runs of kRun neighbours from a random start, stepping by a random stride coprime with the
  // number of runs: every entry at most once, and ~want/kRun cache misses instead of want.
  constexpr std::size_t kRun = 8;
  const std::size_t runs = (n + kRun - 1) / kRun;
  const std::uint64_t r = next_random();
  std::size_t run = static_cast<std::size_t>(r % runs);
  std::size_t stride = 1;
  for (int attempt = 0; attempt < 4 && runs > 2; ++attempt) {
    const std::size_t candidate = 1 + static_cast<std::size_t>((r >> 32) + attempt) % (runs - 1);
    if (std::gcd(candidate, runs) == 1) {
      stride = candidate;
      break;
    }
  }
  // The runs are far apart in memory: ask for all of their cache lines first, so the misses
  // overlap instead of being paid one after the other.
  const std::size_t runs_needed = std::min(runs, (want + 1) / kRun + 2);
  for (std::size_t i = 0, p = run; i < runs_needed; ++i) {
    __builtin_prefetch(&table[p * kRun]);
    __builtin_prefetch(reinterpret_cast<const char*>(&table[p * kRun]) + 64);
    p += stride;
    if (p >= runs) p -= runs;
  }
  for (std::size_t taken = 0; taken < want;) {
    const std::size_t end = std::min(run * kRun + kRun, n);
    for (std::size_t at = run * kRun; at < end && taken < want; ++at) {
      if (at != self) {
        out.append(reinterpret_cast<const char*>(table[at].compact.data()), kSize);
        ++taken;
      }
    }
    run += stride;
    if (run >= runs) run -= runs;
  }
}

}  // namespace

struct alignas(64) PeerStore::Shard {
  mutable std::mutex mutex;
  std::unordered_map<Sha1Digest, Torrent, DigestHash> torrents;
  std::size_t peers = 0;
  std::size_t seeds = 0;
  std::size_t bytes = 0;
};

PeerStore::PeerStore(PeerStoreLimits limits) : SwarmStore(limits) {
  // A table indexes at most kMaxEntries peers (the per-torrent limit applies per family too).
  limits_.max_peers_per_torrent =
      std::min(limits_.max_peers_per_torrent, PeerTable<PeerEntry4>::kMaxEntries);
  std::size_t shards = 1;
  while (shards < std::max<std::size_t>(1, limits_.shards)) shards *= 2;
  shard_mask_ = shards - 1;
  shards_ = std::make_unique<Shard[]>(shards);
  std::random_device device;
  seed_ = (std::uint64_t{device()} << 32) ^ device();
}

PeerStore::~PeerStore() = default;

PeerStore::Shard& PeerStore::shard_for(const Sha1Digest& info_hash) const {
  return shards_[info_hash.bytes[19] & shard_mask_];
}

namespace {

// The announce on one family's table; returns the requester's index (npos when not stored).
template <class Entry>
std::uint32_t record(PeerTable<Entry>& table, const Entry& entry, AnnounceEvent event,
                     std::uint64_t seed, bool room, Torrent& torrent, std::size_t& seeds_delta,
                     std::ptrdiff_t& peers_delta) {
  std::uint32_t at = table.find(entry.compact, seed);
  if (event == AnnounceEvent::stopped) {
    if (at != PeerTable<Entry>::npos) {
      if (table[at].seed) {
        --torrent.seeds;
        --seeds_delta;
      }
      table.erase(at, seed);
      --peers_delta;
    }
    return PeerTable<Entry>::npos;
  }
  if (at == PeerTable<Entry>::npos) {
    if (!room) return at;
    at = table.insert(entry, seed);
    ++peers_delta;
    if (entry.seed) {
      ++torrent.seeds;
      ++seeds_delta;
    }
    if (event == AnnounceEvent::completed) ++torrent.downloaded;
    return at;
  }
  Entry& existing = table[at];
  if (!existing.seed && entry.seed) {
    ++torrent.seeds;
    ++seeds_delta;
    if (event == AnnounceEvent::completed) ++torrent.downloaded;
  } else if (existing.seed && !entry.seed) {
    --torrent.seeds;
    --seeds_delta;
  }
  existing.seed = entry.seed;
  existing.last_seen = entry.last_seen;
  return at;
}

}  // namespace

AnnounceStatus PeerStore::announce(const StoreAnnounce& request, Seconds now, SwarmCounts& counts,
                                   std::string& peers4, std::string& peers6) {
  Shard& shard = shard_for(request.info_hash);
  const std::lock_guard lock(shard.mutex);

  auto it = shard.torrents.find(request.info_hash);
  if (it == shard.torrents.end()) {
    // A torrent in the store passed the (fixed) whitelist when it was added.
    if (!allowed(request.info_hash)) return AnnounceStatus::not_allowed;
    if (request.event == AnnounceEvent::stopped) {
      counts = {};
      return AnnounceStatus::ok;
    }
    if (torrents_.load(std::memory_order_relaxed) >= limits_.max_torrents) {
      return AnnounceStatus::torrent_limit;
    }
    it = shard.torrents.try_emplace(request.info_hash).first;
    torrents_.fetch_add(1, std::memory_order_relaxed);
    shard.bytes += kTorrentOverhead;
  }
  Torrent& torrent = it->second;
  const std::size_t bytes_before = torrent.bytes();
  const bool room = torrent.peers() < limits_.max_peers_per_torrent &&
                    peers_.load(std::memory_order_relaxed) < limits_.max_peers;
  const auto stamp = static_cast<std::uint32_t>(now.count());
  std::size_t seeds_delta = 0;  // wraps for decrements; added back modulo 2^64
  std::ptrdiff_t peers_delta = 0;
  std::uint32_t self4 = PeerTable<PeerEntry4>::npos;
  std::uint32_t self6 = PeerTable<PeerEntry6>::npos;
  const IpAddress ip = request.peer.ip;
  const std::uint8_t port_bytes[2] = {static_cast<std::uint8_t>(request.peer.port >> 8),
                                      static_cast<std::uint8_t>(request.peer.port)};
  if (ip.v6) {
    PeerEntry6 entry{};
    std::memcpy(entry.compact.data(), ip.bytes.data(), 16);
    std::memcpy(entry.compact.data() + 16, port_bytes, 2);
    entry.seed = request.seed ? 1 : 0;
    entry.last_seen = stamp;
    self6 =
        record(torrent.v6, entry, request.event, seed_, room, torrent, seeds_delta, peers_delta);
  } else {
    PeerEntry4 entry{};
    std::memcpy(entry.compact.data(), ip.bytes.data(), 4);
    std::memcpy(entry.compact.data() + 4, port_bytes, 2);
    entry.seed = request.seed ? 1 : 0;
    entry.last_seen = stamp;
    self4 =
        record(torrent.v4, entry, request.event, seed_, room, torrent, seeds_delta, peers_delta);
  }
  shard.seeds += seeds_delta;
  shard.peers += static_cast<std::size_t>(peers_delta);
  peers_.fetch_add(static_cast<std::size_t>(peers_delta), std::memory_order_relaxed);

  counts.complete = torrent.seeds;
  counts.incomplete = static_cast<std::uint32_t>(torrent.peers()) - torrent.seeds;
  counts.downloaded = torrent.downloaded;

  if (request.event != AnnounceEvent::stopped) {
    const std::size_t want = wanted(request.numwant);
    std::size_t from_v4 = 0;
    const std::string_view rack = rack_of(ip);
    if (!rack.empty()) {
      // Every other peer, then the rack's choice among them.
      std::string all;
      if (request.want_v4) {
        const std::size_t before = peers4.size();
        sample(torrent.v4, self4, torrent.v4.size(), all);
        pick_by_rack(all, kCompactV4Size, rack, racks(), want, locality(), peers4);
        from_v4 = (peers4.size() - before) / kCompactV4Size;
      }
      if (request.want_v6) {
        all.clear();
        sample(torrent.v6, self6, torrent.v6.size(), all);
        pick_by_rack(all, kCompactV6Size, rack, racks(), want - from_v4, locality(), peers6);
      }
    } else {
      if (request.want_v4) {
        const std::size_t before = peers4.size();
        sample(torrent.v4, self4, want, peers4);
        from_v4 = (peers4.size() - before) / sizeof(PeerEntry4::compact);
      }
      // Both families share the numwant budget.
      if (request.want_v6) sample(torrent.v6, self6, want - from_v4, peers6);
    }
  }
  shard.bytes += torrent.bytes() - bytes_before;
  return AnnounceStatus::ok;
}

Expected<SwarmCounts> PeerStore::scrape(const Sha1Digest& info_hash) const {
  const Shard& shard = shard_for(info_hash);
  const std::lock_guard lock(shard.mutex);
  const auto it = shard.torrents.find(info_hash);
  if (it == shard.torrents.end()) return SwarmCounts{};
  const Torrent& t = it->second;
  return SwarmCounts{t.seeds, static_cast<std::uint32_t>(t.peers()) - t.seeds, t.downloaded};
}

namespace {

template <class Entry>
std::size_t expire(PeerTable<Entry>& table, std::uint32_t cutoff, std::uint64_t seed,
                   std::uint32_t& seeds) {
  std::size_t dropped = 0;
  for (std::size_t i = table.size(); i-- > 0;) {
    if (table[i].last_seen < cutoff) {
      if (table[i].seed) --seeds;
      table.erase(static_cast<std::uint32_t>(i), seed);
      ++dropped;
    }
  }
  table.compact_memory(seed);
  return dropped;
}

}  // namespace

std::size_t PeerStore::sweep(Seconds now) {
  const std::int64_t cut = now.count() - limits_.peer_timeout.count();
  if (cut <= 0) return 0;
  const auto cutoff = static_cast<std::uint32_t>(cut);
  std::size_t dropped_total = 0;
  for (std::size_t s = 0; s <= shard_mask_; ++s) {
    Shard& shard = shards_[s];
    const std::lock_guard lock(shard.mutex);
    for (auto it = shard.torrents.begin(); it != shard.torrents.end();) {
      Torrent& t = it->second;
      const std::size_t bytes_before = t.bytes();
      const std::uint32_t seeds_before = t.seeds;
      const std::size_t dropped =
          expire(t.v4, cutoff, seed_, t.seeds) + expire(t.v6, cutoff, seed_, t.seeds);
      shard.seeds -= seeds_before - t.seeds;
      shard.peers -= dropped;
      peers_.fetch_sub(dropped, std::memory_order_relaxed);
      dropped_total += dropped;
      if (t.peers() == 0) {
        shard.bytes -= bytes_before;
        it = shard.torrents.erase(it);
        torrents_.fetch_sub(1, std::memory_order_relaxed);
      } else {
        shard.bytes -= bytes_before - t.bytes();
        ++it;
      }
    }
  }
  return dropped_total;
}

StoreTotals PeerStore::totals() const {
  StoreTotals totals;
  for (std::size_t s = 0; s <= shard_mask_; ++s) {
    const Shard& shard = shards_[s];
    const std::lock_guard lock(shard.mutex);
    totals.torrents += shard.torrents.size();
    totals.peers += shard.peers;
    totals.seeds += shard.seeds;
    totals.bytes += shard.bytes;
  }
  return totals;
}

}  // namespace starling::tracker
