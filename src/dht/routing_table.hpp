// The Kademlia routing table (BEP 5): one bucket of at most k nodes per length of the prefix a
// node shares with our id, each with a small replacement cache. Good nodes (heard from
// recently) stay; a node that fails `max_failures` queries in a row (one, if it never
// answered) is dropped and the freshest replacement takes its place. Time is an input.
#pragma once

#include <array>
#include <chrono>
#include <optional>
#include <random>
#include <vector>

#include "dht/krpc.hpp"
#include "dht/node_id.hpp"

namespace starling::dht {

using TimePoint = std::chrono::steady_clock::time_point;

struct RoutingSettings {
  std::size_t k = 8;                      // nodes per bucket
  std::size_t replacements = 8;           // waiting nodes per bucket
  int max_failures = 3;                   // timeouts in a row before a node that answered goes
  std::chrono::minutes questionable{15};  // unheard from this long: worth a ping
};

struct RoutingEntry {
  NodeInfo node;
  TimePoint last_seen{};
  bool confirmed = false;  // it has answered one of our queries
  int failures = 0;
};

class RoutingTable {
 public:
  explicit RoutingTable(const NodeId& own, RoutingSettings settings = {});

  enum class Heard { added, updated, ignored, replacement };
  // A query or response from `node`; `responded` when it answered one of ours. A known id at
  // another address, our own id and port 0 are ignored (no hijacking an entry by id).
  Heard heard_from(const NodeInfo& node, TimePoint now, bool responded);
  // One of our queries to `address` timed out.
  void failed(const PeerAddress& address);
  // Up to `count` nodes closest to `target`, closest first.
  std::vector<NodeInfo> closest(const NodeId& target, std::size_t count) const;
  bool contains(const NodeId& id) const;
  std::size_t size() const;
  // A bucket's index for `id`: the bits it shares with our id (at most 159).
  int bucket_of(const NodeId& id) const;
  // Targets for buckets that have not changed for `interval` (to look up, refreshing them),
  // only up to the deepest non-empty bucket.
  std::vector<NodeId> refresh_targets(TimePoint now, std::chrono::seconds interval,
                                      std::mt19937_64& rng);
  // Every entry (for persistence and stats).
  std::vector<RoutingEntry> entries() const;
  const NodeId& own_id() const { return own_; }

 private:
  struct Bucket {
    std::vector<RoutingEntry> nodes;
    std::vector<RoutingEntry> replacements;  // newest last
    TimePoint last_changed{};
  };
  NodeId own_;
  RoutingSettings settings_;
  std::array<Bucket, kIdBits> buckets_;
};

}  // namespace starling::dht
