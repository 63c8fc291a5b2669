#include "dht/routing_table.hpp"

#include <algorithm>

namespace starling::dht {

RoutingTable::RoutingTable(const NodeId& own, RoutingSettings settings)
    : own_(own), settings_(settings) {}

int RoutingTable::bucket_of(const NodeId& id) const {
  return std::min(common_prefix_bits(own_, id), kIdBits - 1);
}

RoutingTable::Heard RoutingTable::heard_from(const NodeInfo& node, TimePoint now, bool responded) {
  if (node.id == own_ || node.address.port == 0) return Heard::ignored;
  Bucket& bucket = buckets_[static_cast<std::size_t>(bucket_of(node.id))];
  for (auto* list : {&bucket.nodes, &bucket.replacements}) {
    for (auto& entry : *list) {
      if (entry.node.id != node.id) continue;
      if (!(entry.node.address == node.address)) return Heard::ignored;
      entry.last_seen = now;
      entry.failures = 0;
      entry.confirmed = entry.confirmed || responded;
      return Heard::updated;
    }
  }
  // One entry per address: a node that changed its id replaces its old self.
  for (auto& b : buckets_) {
    if (std::any_of(b.nodes.begin(), b.nodes.end(),
                    [&](const RoutingEntry& e) { return e.node.address == node.address; })) {
      return Heard::ignored;
    }
  }
  RoutingEntry entry{node, now, responded, 0};
  if (bucket.nodes.size() < settings_.k) {
    bucket.nodes.push_back(entry);
    bucket.last_changed = now;
    return Heard::added;
  }
  // Full: a node that failed (or never answered and is questionable) makes room.
  auto worst = std::max_element(
      bucket.nodes.begin(), bucket.nodes.end(),
      [](const RoutingEntry& a, const RoutingEntry& b) { return a.failures < b.failures; });
  if (worst->failures > 0) {
    *worst = entry;
    bucket.last_changed = now;
    return Heard::added;
  }
  if (bucket.replacements.size() >= settings_.replacements) {
    bucket.replacements.erase(bucket.replacements.begin());
  }
  bucket.replacements.push_back(entry);
  return Heard::replacement;
}

void RoutingTable::failed(const PeerAddress& address) {
  for (auto& bucket : buckets_) {
    auto it = std::find_if(bucket.nodes.begin(), bucket.nodes.end(),
                           [&](const RoutingEntry& e) { return e.node.address == address; });
    if (it == bucket.nodes.end()) {
      std::erase_if(bucket.replacements,
                    [&](const RoutingEntry& e) { return e.node.address == address; });
      continue;
    }
    ++it->failures;
    if (it->failures >= (it->confirmed ? settings_.max_failures : 1)) {
      bucket.nodes.erase(it);
      if (!bucket.replacements.empty()) {
        bucket.nodes.push_back(bucket.replacements.back());
        bucket.replacements.pop_back();
      }
    }
    return;
  }
}

std::vector<NodeInfo> RoutingTable::closest(const NodeId& target, std::size_t count) const {
  std::vector<NodeInfo> all;
  for (const auto& bucket : buckets_) {
    for (const auto& e : bucket.nodes) {
      if (e.failures == 0 || e.confirmed) all.push_back(e.node);
    }
  }
  const auto n = std::min(count, all.size());
  std::partial_sort(
      all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n), all.end(),
      [&](const NodeInfo& a, const NodeInfo& b) { return closer(target, a.id, b.id); });
  all.resize(n);
  return all;
}

bool RoutingTable::contains(const NodeId& id) const {
  const auto& bucket = buckets_[static_cast<std::size_t>(bucket_of(id))];
  return std::any_of(bucket.nodes.begin(), bucket.nodes.end(),
                     [&](const RoutingEntry& e) { return e.node.id == id; });
}

std::size_t RoutingTable::size() const {
  std::size_t n = 0;
  for (const auto& bucket : buckets_) n += bucket.nodes.size();
  return n;
}

std::vector<NodeId> RoutingTable::refresh_targets(TimePoint now, std::chrono::seconds interval,
                                                  std::mt19937_64& rng) {
  int deepest = -1;
  for (int i = 0; i < kIdBits; ++i) {
    if (!buckets_[static_cast<std::size_t>(i)].nodes.empty()) deepest = i;
  }
  std::vector<NodeId> targets;
  for (int i = 0; i <= deepest; ++i) {
    Bucket& bucket = buckets_[static_cast<std::size_t>(i)];
    if (now - bucket.last_changed < interval) continue;
    bucket.last_changed = now;
    targets.push_back(random_id_with_prefix(own_, i, rng));
  }
  return targets;
}

std::vector<RoutingEntry> RoutingTable::entries() const {
  std::vector<RoutingEntry> out;
  for (const auto& bucket : buckets_)
    out.insert(out.end(), bucket.nodes.begin(), bucket.nodes.end());
  return out;
}

}  // namespace starling::dht
