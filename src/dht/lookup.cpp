#include "dht/lookup.hpp"

#include <algorithm>

namespace starling::dht {

Lookup::Lookup(const NodeId& target, LookupSettings settings)
    : target_(target), settings_(settings) {}

void Lookup::add_candidates(const std::vector<NodeInfo>& nodes, int hops) {
  for (const auto& node : nodes) {
    const bool known = std::any_of(candidates_.begin(), candidates_.end(), [&](const Candidate& c) {
      return c.node.id == node.id || c.node.address == node.address;
    });
    if (known) continue;
    auto at = std::lower_bound(
        candidates_.begin(), candidates_.end(), node.id,
        [&](const Candidate& c, const NodeId& id) { return closer(target_, c.node.id, id); });
    if (static_cast<std::size_t>(at - candidates_.begin()) >= settings_.max_candidates) continue;
    candidates_.insert(at, Candidate{node, State::fresh, hops, {}});
    if (candidates_.size() > settings_.max_candidates) {
      // Drop the farthest candidate that is not waited for.
      for (auto it = candidates_.end(); it != candidates_.begin();) {
        --it;
        if (it->state != State::in_flight) {
          candidates_.erase(it);
          break;
        }
      }
    }
  }
}

std::vector<NodeInfo> Lookup::next_queries() {
  std::vector<NodeInfo> out;
  std::size_t live = 0;  // candidates within the k closest that did not fail
  for (auto& c : candidates_) {
    if (in_flight_ >= settings_.alpha || live >= settings_.k) break;
    if (c.state == State::failed) continue;
    ++live;
    if (c.state != State::fresh) continue;
    c.state = State::in_flight;
    ++in_flight_;
    ++queried_;
    out.push_back(c.node);
  }
  return out;
}

Lookup::Candidate* Lookup::find(const PeerAddress& from) {
  for (auto& c : candidates_) {
    if (c.node.address == from) return &c;
  }
  return nullptr;
}

int Lookup::on_response(const PeerAddress& from, const NodeId& id,
                        const std::vector<NodeInfo>& nodes, const std::string& token) {
  Candidate* c = find(from);
  if (c == nullptr || c->state != State::in_flight) return 0;
  c->state = State::answered;
  c->token = token;
  c->node.id = id;  // a bootstrap candidate's id was a guess
  const int hops = c->hops;
  --in_flight_;
  add_candidates(nodes, hops + 1);
  return hops;
}

void Lookup::on_failure(const PeerAddress& from) {
  Candidate* c = find(from);
  if (c == nullptr || c->state != State::in_flight) return;
  c->state = State::failed;
  --in_flight_;
}

bool Lookup::done() const {
  if (in_flight_ > 0) return false;
  std::size_t live = 0;
  for (const auto& c : candidates_) {
    if (live >= settings_.k) break;
    if (c.state == State::failed) continue;
    ++live;
    if (c.state == State::fresh) return false;
  }
  return true;
}

std::vector<Lookup::Answered> Lookup::closest_answered() const {
  std::vector<Answered> out;
  for (const auto& c : candidates_) {
    if (out.size() >= settings_.k) break;
    if (c.state == State::answered) out.push_back(Answered{c.node, c.token});
  }
  return out;
}

}  // namespace starling::dht
