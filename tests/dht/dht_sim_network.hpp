// An in-memory UDP network for DHT nodes: every datagram arrives after a fixed latency, in
// send order; time is simulated, so hundreds of nodes run in milliseconds of real time.
#pragma once

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <queue>
#include <vector>

#include "dht/dht_node.hpp"

namespace starling::dht::testing {

struct SimNode {
  PeerAddress address;
  std::unique_ptr<DhtNode> node;
  std::map<NodeId, std::vector<PeerAddress>> found_peers;

  std::vector<PeerAddress> found(const NodeId& hash) const {
    auto it = found_peers.find(hash);
    return it == found_peers.end() ? std::vector<PeerAddress>{} : it->second;
  }
};

class SimNetwork {
 public:
  using TimePoint = DhtNode::TimePoint;
  explicit SimNetwork(std::uint64_t seed,
                      std::chrono::milliseconds latency = std::chrono::milliseconds(5))
      : rng_(seed), latency_(latency), now_(TimePoint{} + std::chrono::hours(1)) {}

  // Nodes live on 127.0.0.1, one port each (as on a test machine's loopback).
  SimNode& add_node(DhtSettings settings = {}) {
    auto n = std::make_unique<SimNode>();
    n->address = PeerAddress{*tracker::IpAddress::parse("127.0.0.1"),
                             static_cast<std::uint16_t>(20000 + nodes_.size())};
    n->node = std::make_unique<DhtNode>(random_node_id(rng_), now_, rng_(), settings);
    nodes_.push_back(std::move(n));
    return *nodes_.back();
  }
  std::vector<std::unique_ptr<SimNode>>& nodes() { return nodes_; }
  TimePoint now() const { return now_; }

  // Runs until `done` holds or `limit` of simulated time passed; true when it holds.
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit) {
    const TimePoint end = now_ + limit;
    for (;;) {
      collect();
      if (done()) return true;
      TimePoint next = end;
      if (!in_flight_.empty()) next = std::min(next, in_flight_.top().at);
      for (const auto& n : nodes_) next = std::min(next, n->node->next_deadline());
      if (next >= end) {
        now_ = end;
        return done();
      }
      now_ = std::max(now_, next);
      while (!in_flight_.empty() && in_flight_.top().at <= now_) {
        Flight f = in_flight_.top();
        in_flight_.pop();
        if (is_down(f.to)) continue;
        if (auto* to = find(f.to)) to->node->on_datagram(f.from, f.bytes, now_);
      }
      for (const auto& n : nodes_) {
        if (n->node->next_deadline() <= now_) n->node->handle_timeout(now_);
      }
    }
  }
  void run_for(std::chrono::milliseconds duration) {
    run_until([] { return false; }, duration);
  }
  std::uint64_t datagrams() const { return datagrams_; }
  // A node that went away without a word: datagrams to it are lost, it sends nothing.
  void set_down(const SimNode& node) { down_.push_back(node.address); }
  bool is_down(const PeerAddress& address) const {
    return std::find(down_.begin(), down_.end(), address) != down_.end();
  }

 private:
  struct Flight {
    TimePoint at;
    std::uint64_t order;
    PeerAddress from;
    PeerAddress to;
    std::string bytes;
    bool operator>(const Flight& o) const { return at != o.at ? at > o.at : order > o.order; }
  };
  SimNode* find(const PeerAddress& address) {
    const auto i = static_cast<std::size_t>(address.port) - 20000;
    if (address.port < 20000 || i >= nodes_.size()) return nullptr;
    return nodes_[i].get();
  }
  void collect() {
    for (const auto& n : nodes_) {
      if (is_down(n->address)) {
        (void)n->node->take_outgoing();
        continue;
      }
      for (auto& out : n->node->take_outgoing()) {
        ++datagrams_;
        in_flight_.push(
            Flight{now_ + latency_, ++order_, n->address, out.to, std::move(out.bytes)});
      }
      for (auto& found : n->node->take_found()) {
        auto& list = n->found_peers[found.info_hash];
        list.insert(list.end(), found.peers.begin(), found.peers.end());
      }
    }
  }

  std::mt19937_64 rng_;
  std::chrono::milliseconds latency_;
  TimePoint now_;
  std::vector<std::unique_ptr<SimNode>> nodes_;
  std::priority_queue<Flight, std::vector<Flight>, std::greater<>> in_flight_;
  std::uint64_t order_ = 0;
  std::uint64_t datagrams_ = 0;
  std::vector<PeerAddress> down_;
};

}  // namespace starling::dht::testing
