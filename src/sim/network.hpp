// A flow-level network model: every node has an uplink and a downlink capacity (bytes/s) and
// every flow moves bytes from one node's uplink to another's downlink. Packets, TCP dynamics and
// the core are not modelled: access links are the bottleneck, as in the fluid models of
// BitTorrent (Qiu & Srikant; Kumar & Ross).
//
// Rates are max-min fair: progressive filling raises every flow's rate together and freezes the
// flows of a link once it is full. A global fill after every change would cost O(flows) per
// event; instead settle() refills only the flows that touch a node whose flow set changed, with
// the flows around them held at their rates (they keep their share of the links they cross).
// When that leaves capacity unused at a neighbour that has other flows, the neighbour is filled
// again too, for at most `spread_rounds` rounds. recompute_all() is the exact global fill.
//
// Sans-IO: time is a parameter (sim::TimePoint) and nothing is scheduled here; the caller asks
// which flows changed rate and when each will finish.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include "sim/engine.hpp"

namespace starling::sim {

using NodeId = std::uint32_t;
using FlowId = std::uint32_t;
inline constexpr FlowId kNoFlow = UINT32_MAX;

struct NetworkSettings {
  // Rounds of refilling neighbours that a change left with idle capacity (0: only the nodes whose
  // flow set changed). Each round reaches one node further; two get within a few percent of
  // the global fill in a BitTorrent swarm, where most flows are limited by their uplink.
  int spread_rounds = 2;
};

class Network {
 public:
  explicit Network(const NetworkSettings& settings = {}) : settings_(settings) {}

  NodeId add_node(double up_capacity, double down_capacity);
  std::size_t num_nodes() const { return nodes_.size(); }

  // A flow of `bytes` from `src` to `dst`; its rate is 0 until the next settle().
  FlowId add_flow(NodeId src, NodeId dst, double bytes, TimePoint now);
  // Stops the flow; returns the bytes it moved.
  double remove_flow(FlowId flow, TimePoint now);
  // More bytes for a running flow (the next request on the same connection): no rate changes.
  void add_bytes(FlowId flow, double bytes, TimePoint now);
  // The same for a flow whose bytes ran out before `now` (a time grid handles a finish at the
  // step end): what it would have moved since at its rate counts towards the new bytes, as if
  // they had been added when the old ones ran out.
  void continue_flow(FlowId flow, double bytes, TimePoint now);

  double rate(FlowId flow) const { return flows_[flow].rate; }
  // Starts loading a flow's state (kNoFlow: nothing), for a caller about to read many flows.
  void prefetch(FlowId flow) const {
    if (flow != kNoFlow) __builtin_prefetch(&flows_[flow]);
  }
  double remaining(FlowId flow, TimePoint now) const;
  double transferred(FlowId flow, TimePoint now) const;  // since add_flow
  // When the flow's bytes are all moved at its current rate; TimePoint::max() at rate 0.
  TimePoint finish_time(FlowId flow) const;
  std::size_t num_flows() const { return flows_.size() - free_flows_.size(); }

  // Refills the rates of the flows around the nodes whose flow set changed since the last call.
  // Returns the flows whose rate (so finish time) changed; valid until the next call.
  const std::vector<FlowId>& settle(TimePoint now);
  // The exact max-min fair allocation over every flow (tests, and to measure settle's error).
  const std::vector<FlowId>& recompute_all(TimePoint now);

  double up_capacity(NodeId node) const { return nodes_[node].up; }
  // Sum of the rates of the flows leaving / entering a node.
  double up_load(NodeId node) const;
  double down_load(NodeId node) const;

 private:
  // A fill reads the rate and the selected flag of every flow of a link around the nodes it
  // refills: they come first, in one cache line whatever the flow's place (48 bytes: 16-aligned).
  struct Flow {
    double rate = 0;
    // Scratch for one fill.
    bool selected = false;
    bool fixed = false;
    bool live = false;
    NodeId src = 0;
    NodeId dst = 0;
    double remaining = 0;    // as of `updated`
    double transferred = 0;  // as of `updated`
    double updated = 0;      // seconds
  };
  struct Node {
    double up = 0;
    double down = 0;
    std::vector<FlowId> out;  // flows using the uplink
    std::vector<FlowId> in;   // flows using the downlink
    bool dirty = false;
    // up_load / down_load as they sum it, valid while the flag is set: cleared when one of the
    // node's flows comes, goes or changes rate (fill's test for a flow that can grow reads the
    // loads of the same untouched neighbours fill after fill).
    bool up_load_known = false;
    bool down_load_known = false;
    double up_load = 0;
    double down_load = 0;
    // Scratch for one fill: index of this node's uplink / downlink among the fill's links.
    std::int32_t up_link = -1;
    std::int32_t down_link = -1;
  };
  struct Link {
    NodeId node;
    bool uplink;
    double residual;        // capacity minus the rates already given
    int unfixed;            // selected flows on it without a rate yet
    double share;           // residual / unfixed, while in the heap
    std::int32_t heap_pos;  // index in heap_, or -1
  };

  void advance(Flow& f, double now) const;
  void mark_dirty(NodeId node);
  void fill(const std::vector<NodeId>& centre, double now);
  double known_load(NodeId node, bool uplink);  // up_load / down_load, kept while valid
  void forget_loads(const Flow& f);
  // fill()'s heap of links by share, with each link's place in it (so a changed share moves its
  // link instead of adding an entry).
  bool fills_before(std::uint32_t a, std::uint32_t b) const;
  void heap_place(std::size_t pos, std::uint32_t link);
  void heap_sift_up(std::size_t pos);
  void heap_sift_down(std::size_t pos);
  void heap_remove(std::uint32_t link);
  static void erase_id(std::vector<FlowId>& ids, FlowId id);

  NetworkSettings settings_;
  std::vector<Node> nodes_;
  std::vector<Flow> flows_;
  std::vector<FlowId> free_flows_;
  std::vector<NodeId> dirty_;
  std::vector<FlowId> changed_;
  // Scratch, kept to avoid allocations per fill.
  std::vector<FlowId> selected_;
  std::vector<Link> links_;
  std::vector<NodeId> next_round_;
  std::vector<NodeId> centre_;    // settle()'s nodes of one round
  std::vector<double> old_rate_;  // fill()'s rates before it
  // fill()'s links with unfixed flows, a binary heap: earliest (smallest share, then lowest
  // index) first.
  std::vector<std::uint32_t> heap_;
};

}  // namespace starling::sim
