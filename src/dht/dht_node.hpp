// A BEP 5 DHT node without sockets or clocks: datagrams and `now` in; datagrams, found peers
// and a deadline out (the quinn-proto style of the uTP module). It answers ping, find_node,
// get_peers and announce_peer (tokens that rotate, bounded peer storage, incoming queries rate
// limited per source IP and in all), keeps a k-bucket routing table, and runs iterative
// lookups with parallelism alpha for the info-hashes it is told to search, announcing on those
// it has. A node it has not seen before that is among the k closest to a hash we announce gets
// that announce at once, so a tiny private DHT (a test, a datacenter) finds a seed in seconds.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "dht/krpc.hpp"
#include "dht/lookup.hpp"
#include "dht/peer_storage.hpp"
#include "dht/routing_table.hpp"
#include "dht/tokens.hpp"

namespace starling::dht {

struct DhtSettings {
  RoutingSettings routing;
  LookupSettings lookup;
  PeerStorageLimits storage;
  KrpcLimits krpc;
  std::chrono::milliseconds query_timeout{2000};
  std::chrono::seconds token_rotation{300};
  std::chrono::seconds refresh_interval{900};   // buckets unchanged this long are looked up
  std::chrono::seconds announce_interval{900};  // hashes we have: looked up and announced
  std::chrono::seconds search_interval{20};     // hashes we want: looked up again
  std::chrono::seconds bootstrap_retry{10};     // while the table is empty
  // Incoming queries answered per second, from one address (IP and port) and in all; the rest
  // are dropped. Per address, not per IP: every node of a test shares 127.0.0.1.
  int max_queries_per_source = 50;
  int max_queries_total = 1000;
  std::size_t max_pending = 2000;  // our queries awaiting an answer
  std::string version{"ST\x00\x01", 4};
};

struct DhtCounters {
  std::uint64_t queries_in = 0;
  std::uint64_t queries_dropped = 0;  // over the rate limit
  std::uint64_t bad_messages = 0;
  std::uint64_t queries_out = 0;
  std::uint64_t timeouts = 0;
  std::uint64_t announces_stored = 0;
  std::uint64_t bad_tokens = 0;
  std::uint64_t lookups_done = 0;
};

class DhtNode {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  DhtNode(const NodeId& id, TimePoint now, std::uint64_t seed, DhtSettings settings = {});

  // --- input
  void on_datagram(const PeerAddress& from, std::string_view bytes, TimePoint now);
  // Expires queries, starts due lookups and housekeeping. Call at next_deadline() (earlier is
  // harmless).
  void handle_timeout(TimePoint now);
  TimePoint next_deadline() const;

  // --- output
  struct Outgoing {
    PeerAddress to;
    std::string bytes;
  };
  std::vector<Outgoing> take_outgoing();
  struct PeersFound {
    NodeId info_hash;
    std::vector<PeerAddress> peers;
    int hops = 0;  // responses that led to them (0: from our own storage)
  };
  std::vector<PeersFound> take_found();

  // --- commands
  // Joins through `address` (a bootstrap node): asked for the nodes closest to our id.
  void add_node(const PeerAddress& address, TimePoint now);
  // Looks up peers for `info_hash` now and then again (every search_interval; with an
  // announce port, every announce_interval, announcing us on that port).
  void search(const NodeId& info_hash, std::optional<std::uint16_t> announce_port, TimePoint now);
  void stop_search(const NodeId& info_hash);

  const NodeId& id() const { return id_; }
  const RoutingTable& table() const { return table_; }
  const PeerStorage& storage() const { return storage_; }
  const DhtCounters& counters() const { return counters_; }
  // Our address as other nodes see it (BEP 42 "ip" in their replies), when one said.
  const std::optional<tracker::IpAddress>& external_ip() const { return external_ip_; }
  // Hop counts of the lookups that found peers (for statistics).
  const std::vector<int>& hops_to_peers() const { return hops_to_peers_; }

 private:
  enum class Purpose : std::uint8_t { lookup, bootstrap, announce_probe, other };
  struct Pending {
    PeerAddress to;
    Method method = Method::ping;
    Purpose purpose = Purpose::other;
    TimePoint deadline;
    std::uint64_t lookup = 0;
    NodeId info_hash;
  };
  struct LookupRun {
    Lookup lookup;
    Method method;
    std::optional<std::uint16_t> announce_port;
    std::vector<PeerAddress> reported;
  };
  struct Search {
    std::optional<std::uint16_t> announce_port;
    TimePoint next_at;
    std::uint64_t running = 0;
  };

  void handle_query(const PeerAddress& from, const KrpcMessage& query, TimePoint now);
  void handle_reply(const PeerAddress& from, const KrpcMessage& reply, TimePoint now);
  bool allow_query(const PeerAddress& from, TimePoint now);
  void heard_from(const NodeInfo& node, TimePoint now, bool responded);
  void send_query(const PeerAddress& to, KrpcMessage query, Purpose purpose, TimePoint now,
                  std::uint64_t lookup = 0);
  void send(const PeerAddress& to, const KrpcMessage& message);
  std::uint64_t start_lookup(Method method, const NodeId& target,
                             std::optional<std::uint16_t> announce_port, TimePoint now);
  void step(std::uint64_t lookup, TimePoint now);
  void report(LookupRun& run, const NodeId& hash, const std::vector<PeerAddress>& peers, int hops);
  // Our own peer entry for a get_peers reply to `to`, when we announce `hash`.
  std::optional<PeerAddress> self_entry(const NodeId& hash, const PeerAddress& to) const;

  NodeId id_;
  DhtSettings settings_;
  std::mt19937_64 rng_;
  RoutingTable table_;
  TokenIssuer tokens_;
  PeerStorage storage_;
  DhtCounters counters_;
  std::optional<tracker::IpAddress> external_ip_;

  std::vector<Outgoing> outgoing_;
  std::vector<PeersFound> found_;
  std::vector<int> hops_to_peers_;
  std::map<std::string, Pending> pending_;
  std::uint32_t next_transaction_ = 0;
  std::map<std::uint64_t, LookupRun> lookups_;
  std::uint64_t next_lookup_ = 0;
  std::map<NodeId, Search> searches_;
  std::vector<PeerAddress> bootstrap_;
  TimePoint next_bootstrap_;
  TimePoint next_housekeeping_;
  bool self_lookup_started_ = false;
  // Incoming query counts in the current one-second window.
  TimePoint window_start_;
  int window_total_ = 0;
  std::map<std::string, int> window_per_source_;
};

}  // namespace starling::dht
