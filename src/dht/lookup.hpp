// One iterative lookup (BEP 5 / Kademlia): the candidates closest to a target, queried at most
// `alpha` at a time, each response adding the nodes it names; done when the k closest
// candidates that did not fail have all answered. Sans-IO: the node sends the queries this
// picks and reports responses and timeouts. Hops count how many responses led to a node
// (a starting node is hop 1).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "dht/krpc.hpp"
#include "dht/node_id.hpp"

namespace starling::dht {

struct LookupSettings {
  std::size_t k = 8;
  std::size_t alpha = 3;
  std::size_t max_candidates = 100;
};

class Lookup {
 public:
  Lookup(const NodeId& target, LookupSettings settings = {});

  const NodeId& target() const { return target_; }
  // Candidates (from the routing table, or named in a response at `hops`).
  void add_candidates(const std::vector<NodeInfo>& nodes, int hops);
  // Candidates to query now, at most alpha in flight; marks them in flight.
  std::vector<NodeInfo> next_queries();
  // A queried node answered; `nodes` go in as candidates one hop further. Returns its hop
  // count (0 when it was not one of ours).
  int on_response(const PeerAddress& from, const NodeId& id, const std::vector<NodeInfo>& nodes,
                  const std::string& token);
  void on_failure(const PeerAddress& from);
  bool done() const;
  std::size_t in_flight() const { return in_flight_; }
  std::size_t queried() const { return queried_; }

  struct Answered {
    NodeInfo node;
    std::string token;  // from its get_peers response
  };
  // The k closest nodes that answered, closest first (where to announce).
  std::vector<Answered> closest_answered() const;

 private:
  enum class State { fresh, in_flight, answered, failed };
  struct Candidate {
    NodeInfo node;
    State state = State::fresh;
    int hops = 1;
    std::string token;
  };
  Candidate* find(const PeerAddress& from);

  NodeId target_;
  LookupSettings settings_;
  std::vector<Candidate> candidates_;  // sorted by distance to target
  std::size_t in_flight_ = 0;
  std::size_t queried_ = 0;
};

}  // namespace starling::dht
