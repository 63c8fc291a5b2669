#include "sim/network.hpp"

#include <algorithm>
#include <cmath>

namespace starling::sim {

NodeId Network::add_node(double up_capacity, double down_capacity) {
  Node node;
  node.up = std::max(up_capacity, 0.0);
  node.down = std::max(down_capacity, 0.0);
  nodes_.push_back(std::move(node));
  return static_cast<NodeId>(nodes_.size() - 1);
}

FlowId Network::add_flow(NodeId src, NodeId dst, double bytes, TimePoint now) {
  FlowId id = 0;
  if (free_flows_.empty()) {
    id = static_cast<FlowId>(flows_.size());
    flows_.emplace_back();
  } else {
    id = free_flows_.back();
    free_flows_.pop_back();
  }
  Flow& f = flows_[id];
  f = Flow{};
  f.src = src;
  f.dst = dst;
  f.remaining = bytes;
  f.updated = to_seconds(now);
  f.live = true;
  nodes_[src].out.push_back(id);
  nodes_[dst].in.push_back(id);
  forget_loads(f);
  mark_dirty(src);
  mark_dirty(dst);
  return id;
}

double Network::remove_flow(FlowId flow, TimePoint now) {
  Flow& f = flows_[flow];
  advance(f, to_seconds(now));
  erase_id(nodes_[f.src].out, flow);
  erase_id(nodes_[f.dst].in, flow);
  forget_loads(f);
  mark_dirty(f.src);
  mark_dirty(f.dst);
  f.live = false;
  f.rate = 0;
  free_flows_.push_back(flow);
  return f.transferred;
}

void Network::add_bytes(FlowId flow, double bytes, TimePoint now) {
  Flow& f = flows_[flow];
  advance(f, to_seconds(now));
  f.remaining += bytes;
}

void Network::continue_flow(FlowId flow, double bytes, TimePoint now) {
  Flow& f = flows_[flow];
  const double t = to_seconds(now);
  const double overrun = std::max(0.0, f.rate * (t - f.updated) - f.remaining);
  advance(f, t);
  const double carried = std::min(overrun, bytes);
  f.transferred += carried;
  f.remaining += bytes - carried;
}

double Network::remaining(FlowId flow, TimePoint now) const {
  const Flow& f = flows_[flow];
  return std::max(0.0, f.remaining - f.rate * (to_seconds(now) - f.updated));
}

double Network::transferred(FlowId flow, TimePoint now) const {
  const Flow& f = flows_[flow];
  return f.transferred + std::min(f.remaining, f.rate * (to_seconds(now) - f.updated));
}

TimePoint Network::finish_time(FlowId flow) const {
  const Flow& f = flows_[flow];
  if (f.remaining <= 0) return from_seconds(f.updated);
  if (f.rate <= 0) return TimePoint::max();
  return from_seconds(f.updated + f.remaining / f.rate);
}

double Network::up_load(NodeId node) const {
  double sum = 0;
  for (FlowId id : nodes_[node].out) sum += flows_[id].rate;
  return sum;
}

double Network::down_load(NodeId node) const {
  double sum = 0;
  for (FlowId id : nodes_[node].in) sum += flows_[id].rate;
  return sum;
}

double Network::known_load(NodeId node, bool uplink) {
  Node& n = nodes_[node];
  bool& known = uplink ? n.up_load_known : n.down_load_known;
  double& load = uplink ? n.up_load : n.down_load;
  if (!known) {
    load = uplink ? up_load(node) : down_load(node);
    known = true;
  }
  return load;
}

void Network::forget_loads(const Flow& f) {
  nodes_[f.src].up_load_known = false;
  nodes_[f.dst].down_load_known = false;
}

void Network::advance(Flow& f, double now) const {
  const double moved = std::min(f.remaining, f.rate * (now - f.updated));
  if (moved > 0) {
    f.remaining -= moved;
    f.transferred += moved;
  }
  f.updated = now;
}

void Network::mark_dirty(NodeId node) {
  if (nodes_[node].dirty) return;
  nodes_[node].dirty = true;
  dirty_.push_back(node);
}

void Network::erase_id(std::vector<FlowId>& ids, FlowId id) {
  const auto it = std::find(ids.begin(), ids.end(), id);
  if (it == ids.end()) return;
  *it = ids.back();
  ids.pop_back();
}

const std::vector<FlowId>& Network::settle(TimePoint now) {
  changed_.clear();
  const double t = to_seconds(now);
  for (int round = 0; !dirty_.empty() && round <= settings_.spread_rounds; ++round) {
    std::vector<NodeId>& centre = centre_;
    centre.clear();
    centre.swap(dirty_);
    for (NodeId n : centre) nodes_[n].dirty = false;
    fill(centre, t);
    if (round == settings_.spread_rounds) break;
    for (NodeId n : next_round_) mark_dirty(n);
  }
  for (NodeId n : dirty_) nodes_[n].dirty = false;
  dirty_.clear();
  // A flow refilled in two rounds appears twice.
  std::sort(changed_.begin(), changed_.end());
  changed_.erase(std::unique(changed_.begin(), changed_.end()), changed_.end());
  return changed_;
}

const std::vector<FlowId>& Network::recompute_all(TimePoint now) {
  changed_.clear();
  for (NodeId n : dirty_) nodes_[n].dirty = false;
  dirty_.clear();
  std::vector<NodeId> all(nodes_.size());
  for (NodeId n = 0; n < nodes_.size(); ++n) all[n] = n;
  fill(all, to_seconds(now));
  std::sort(changed_.begin(), changed_.end());
  changed_.erase(std::unique(changed_.begin(), changed_.end()), changed_.end());
  return changed_;
}

bool Network::fills_before(std::uint32_t a, std::uint32_t b) const {
  const double share_a = links_[a].share;
  const double share_b = links_[b].share;
  return share_a != share_b ? share_a < share_b : a < b;
}

void Network::heap_place(std::size_t pos, std::uint32_t link) {
  if (pos == heap_.size()) {
    heap_.push_back(link);
  } else {
    heap_[pos] = link;
  }
  links_[link].heap_pos = static_cast<std::int32_t>(pos);
}

void Network::heap_sift_up(std::size_t pos) {
  const std::uint32_t link = heap_[pos];
  while (pos > 0) {
    const std::size_t parent = (pos - 1) / 2;
    if (!fills_before(link, heap_[parent])) break;
    heap_place(pos, heap_[parent]);
    pos = parent;
  }
  heap_place(pos, link);
}

void Network::heap_sift_down(std::size_t pos) {
  const std::uint32_t link = heap_[pos];
  const std::size_t n = heap_.size();
  for (;;) {
    std::size_t child = 2 * pos + 1;
    if (child >= n) break;
    if (child + 1 < n && fills_before(heap_[child + 1], heap_[child])) ++child;
    if (!fills_before(heap_[child], link)) break;
    heap_place(pos, heap_[child]);
    pos = child;
  }
  heap_place(pos, link);
}

void Network::heap_remove(std::uint32_t link) {
  const auto pos = static_cast<std::size_t>(links_[link].heap_pos);
  links_[link].heap_pos = -1;
  const std::uint32_t last = heap_.back();
  heap_.pop_back();
  if (last == link) return;
  heap_place(pos, last);
  heap_sift_up(pos);
  heap_sift_down(static_cast<std::size_t>(links_[last].heap_pos));
}

// Progressive filling of the flows touching `centre`. Every other flow keeps its rate and so its
// part of each link's capacity.
void Network::fill(const std::vector<NodeId>& centre, double now) {
  selected_.clear();
  links_.clear();
  next_round_.clear();
  const auto select = [&](FlowId id) {
    Flow& f = flows_[id];
    if (f.selected) return;
    f.selected = true;
    f.fixed = false;
    advance(f, now);  // bytes moved at the old rate up to now
    selected_.push_back(id);
  };
  for (NodeId n : centre) {
    for (FlowId id : nodes_[n].out) select(id);
    for (FlowId id : nodes_[n].in) select(id);
  }
  const auto link_of = [&](NodeId n, bool uplink) {
    Node& node = nodes_[n];
    std::int32_t& slot = uplink ? node.up_link : node.down_link;
    if (slot < 0) {
      slot = static_cast<std::int32_t>(links_.size());
      double residual = uplink ? node.up : node.down;
      for (FlowId id : uplink ? node.out : node.in) {
        if (!flows_[id].selected) residual -= flows_[id].rate;
      }
      links_.push_back(Link{n, uplink, std::max(residual, 0.0), 0, 0, -1});
    }
    return static_cast<std::size_t>(slot);
  };
  // The far ends of the selected flows are nodes this fill has not touched: their lists and the
  // flows in them are three dependent misses each, so they are all started first, level by level.
  for (FlowId id : selected_) {
    __builtin_prefetch(&nodes_[flows_[id].src]);
    __builtin_prefetch(&nodes_[flows_[id].dst]);
  }
  for (FlowId id : selected_) {
    __builtin_prefetch(nodes_[flows_[id].src].out.data());
    __builtin_prefetch(nodes_[flows_[id].dst].in.data());
  }
  for (FlowId id : selected_) {
    for (FlowId other : nodes_[flows_[id].src].out) __builtin_prefetch(&flows_[other]);
    for (FlowId other : nodes_[flows_[id].dst].in) __builtin_prefetch(&flows_[other]);
  }
  for (FlowId id : selected_) {
    ++links_[link_of(flows_[id].src, true)].unfixed;
    ++links_[link_of(flows_[id].dst, false)].unfixed;
  }

  // Raise all unfixed rates together: the link with the smallest fair share fills first and its
  // flows take that share; the others go on.
  std::vector<double>& old_rate = old_rate_;
  old_rate.clear();
  for (FlowId id : selected_) old_rate.push_back(flows_[id].rate);
  // The links by share in a heap (smallest share first, then lowest index: the order of a scan
  // for the first smallest share); a link whose share changes moves in it.
  heap_.clear();
  for (std::size_t i = 0; i < links_.size(); ++i) {
    Link& l = links_[i];
    l.heap_pos = -1;
    if (l.unfixed == 0) continue;
    l.share = l.residual / l.unfixed;
    heap_place(heap_.size(), static_cast<std::uint32_t>(i));
    heap_sift_up(heap_.size() - 1);
  }
  while (!heap_.empty()) {
    const std::uint32_t best = heap_.front();
    heap_remove(best);
    const Link link = links_[best];
    const double best_share = link.share;
    const Node& node = nodes_[link.node];
    for (FlowId id : link.uplink ? node.out : node.in) {
      Flow& f = flows_[id];
      if (!f.selected || f.fixed) continue;
      f.fixed = true;
      if (f.rate != best_share) forget_loads(f);
      f.rate = best_share;
      const auto other_index =
          static_cast<std::uint32_t>(link.uplink ? nodes_[f.dst].down_link : nodes_[f.src].up_link);
      Link& other = links_[other_index];
      other.residual = std::max(0.0, other.residual - best_share);
      --other.unfixed;
      if (other.unfixed > 0) {
        // Its share only grows (the smallest share was taken): it moves towards the leaves.
        other.share = other.residual / other.unfixed;
        heap_sift_down(static_cast<std::size_t>(other.heap_pos));
      } else {
        heap_remove(other_index);  // no share left to take
      }
    }
    links_[best].residual = std::max(0.0, links_[best].residual - best_share * link.unfixed);
    links_[best].unfixed = 0;
  }

  // A link left with spare capacity may let a flow that was held at its rate grow — but only if
  // the flow's other end has spare capacity too. In a swarm most flows are held by a full uplink,
  // so this rarely spreads, and the fill stays local.
  for (const Link& link : links_) {
    Node& node = nodes_[link.node];
    (link.uplink ? node.up_link : node.down_link) = -1;
    const double capacity = link.uplink ? node.up : node.down;
    if (link.residual <= 1e-6 * capacity) continue;
    const auto& ids = link.uplink ? node.out : node.in;
    const bool can_grow = std::any_of(ids.begin(), ids.end(), [&](FlowId id) {
      const Flow& f = flows_[id];
      if (f.selected) return false;
      const NodeId other = link.uplink ? f.dst : f.src;
      const double other_capacity = link.uplink ? nodes_[other].down : nodes_[other].up;
      const double other_load = known_load(other, !link.uplink);
      return other_capacity - other_load > 1e-6 * other_capacity;
    });
    if (can_grow) next_round_.push_back(link.node);
  }
  for (std::size_t i = 0; i < selected_.size(); ++i) {
    Flow& f = flows_[selected_[i]];
    f.selected = false;
    if (std::abs(f.rate - old_rate[i]) > 1e-9 * std::max(1.0, old_rate[i])) {
      changed_.push_back(selected_[i]);
    }
  }
}

}  // namespace starling::sim
