#include "dht/dht_node.hpp"

#include <algorithm>

namespace starling::dht {
namespace {

constexpr std::chrono::seconds kHousekeeping{5};
constexpr std::size_t kMaxBootstrapNodes = 32;

PeerAddress loopback_like(const PeerAddress& to, std::uint16_t port) {
  PeerAddress self;
  self.port = port;
  if (to.ip.unmapped().v6) {
    self.ip = *tracker::IpAddress::parse("::1");
  } else {
    self.ip = *tracker::IpAddress::parse("127.0.0.1");
  }
  return self;
}

}  // namespace

DhtNode::DhtNode(const NodeId& id, TimePoint now, std::uint64_t seed, DhtSettings settings)
    : id_(id),
      settings_(std::move(settings)),
      rng_(seed),
      table_(id, settings_.routing),
      tokens_(rng_, now, settings_.token_rotation),
      storage_(settings_.storage),
      next_bootstrap_(now),
      next_housekeeping_(now + kHousekeeping),
      window_start_(now) {}

std::vector<DhtNode::Outgoing> DhtNode::take_outgoing() {
  return std::exchange(outgoing_, {});
}

std::vector<DhtNode::PeersFound> DhtNode::take_found() {
  return std::exchange(found_, {});
}

void DhtNode::send(const PeerAddress& to, const KrpcMessage& message) {
  outgoing_.push_back(Outgoing{to, encode_krpc(message)});
}

void DhtNode::send_query(const PeerAddress& to, KrpcMessage query, Purpose purpose, TimePoint now,
                         std::uint64_t lookup) {
  if (pending_.size() >= settings_.max_pending) {
    // Too much outstanding: count it as failed at once, so a lookup moves on.
    if (lookup != 0) {
      if (auto it = lookups_.find(lookup); it != lookups_.end()) it->second.lookup.on_failure(to);
    }
    return;
  }
  const std::uint32_t n = ++next_transaction_;
  std::string tid(4, '\0');
  for (int i = 0; i < 4; ++i) tid[static_cast<std::size_t>(i)] = static_cast<char>(n >> (8 * i));
  query.kind = MessageKind::query;
  query.transaction = tid;
  query.id = id_;
  query.version = settings_.version;
  Pending p{to, query.method, purpose, now + settings_.query_timeout, lookup, query.info_hash};
  pending_[tid] = p;
  ++counters_.queries_out;
  send(to, query);
}

void DhtNode::add_node(const PeerAddress& address, TimePoint now) {
  // Remembered to join again while the table is empty; the first few are enough (peers'
  // PORT messages add nodes here too).
  if (bootstrap_.size() < kMaxBootstrapNodes &&
      std::find(bootstrap_.begin(), bootstrap_.end(), address) == bootstrap_.end()) {
    bootstrap_.push_back(address);
  }
  KrpcMessage q;
  q.method = Method::find_node;
  q.target = id_;
  send_query(address, q, Purpose::bootstrap, now);
  next_bootstrap_ = now + settings_.bootstrap_retry;
}

void DhtNode::search(const NodeId& info_hash, std::optional<std::uint16_t> announce_port,
                     TimePoint now) {
  Search& s = searches_[info_hash];
  s.announce_port = announce_port;
  s.next_at = now;  // handle_timeout starts it (once the table has nodes)
  // Peers that announced to us already count.
  auto stored = storage_.get(info_hash, rng_);
  if (!stored.empty()) found_.push_back(PeersFound{info_hash, std::move(stored), 0});
  handle_timeout(now);
}

void DhtNode::stop_search(const NodeId& info_hash) {
  searches_.erase(info_hash);
}

bool DhtNode::allow_query(const PeerAddress& from, TimePoint now) {
  if (now - window_start_ >= std::chrono::seconds(1)) {
    window_start_ = now;
    window_total_ = 0;
    window_per_source_.clear();
  }
  if (window_total_ >= settings_.max_queries_total) return false;
  int& mine = window_per_source_[from.to_string()];
  if (mine >= settings_.max_queries_per_source) return false;
  ++mine;
  ++window_total_;
  return true;
}

void DhtNode::on_datagram(const PeerAddress& from, std::string_view bytes, TimePoint now) {
  auto message = decode_krpc(bytes, settings_.krpc);
  if (!message) {
    ++counters_.bad_messages;
    return;
  }
  if (message->kind == MessageKind::query) {
    ++counters_.queries_in;
    if (!allow_query(from, now)) {
      ++counters_.queries_dropped;
      return;
    }
    handle_query(from, *message, now);
  } else {
    handle_reply(from, *message, now);
  }
}

std::optional<PeerAddress> DhtNode::self_entry(const NodeId& hash, const PeerAddress& to) const {
  const auto it = searches_.find(hash);
  if (it == searches_.end() || !it->second.announce_port) return std::nullopt;
  // A query that came over loopback reached us on loopback; otherwise we say what others
  // told us our address is, if anyone did.
  if (to.ip.unmapped().is_loopback()) return loopback_like(to, *it->second.announce_port);
  if (external_ip_) return PeerAddress{*external_ip_, *it->second.announce_port};
  return std::nullopt;
}

void DhtNode::handle_query(const PeerAddress& from, const KrpcMessage& query, TimePoint now) {
  if (!query.read_only) heard_from(NodeInfo{query.id, from}, now, false);
  KrpcMessage reply;
  reply.kind = MessageKind::response;
  reply.transaction = query.transaction;
  reply.id = id_;
  reply.ip = from;
  reply.version = settings_.version;
  switch (query.method) {
    case Method::ping:
      break;
    case Method::find_node:
      reply.nodes = table_.closest(query.target, settings_.routing.k);
      break;
    case Method::get_peers: {
      reply.token = tokens_.issue(from.ip, now);
      reply.values = storage_.get(query.info_hash, rng_);
      if (auto self = self_entry(query.info_hash, from)) reply.values.push_back(*self);
      reply.nodes = table_.closest(query.info_hash, settings_.routing.k);
      break;
    }
    case Method::announce_peer: {
      if (!tokens_.valid(from.ip, query.token, now)) {
        ++counters_.bad_tokens;
        KrpcMessage error;
        error.kind = MessageKind::error;
        error.transaction = query.transaction;
        error.error_code = kErrorProtocol;
        error.error_message = "bad token";
        send(from, error);
        return;
      }
      const PeerAddress peer{from.ip.unmapped(), query.implied_port ? from.port : query.port};
      if (storage_.add(query.info_hash, peer, now)) ++counters_.announces_stored;
      // A hash we search for: the announcer is a peer right now.
      if (searches_.count(query.info_hash) != 0) {
        found_.push_back(PeersFound{query.info_hash, {peer}, 0});
      }
      break;
    }
    case Method::unknown: {
      KrpcMessage error;
      error.kind = MessageKind::error;
      error.transaction = query.transaction;
      error.error_code = kErrorMethodUnknown;
      error.error_message = "method unknown";
      send(from, error);
      return;
    }
  }
  send(from, reply);
}

void DhtNode::heard_from(const NodeInfo& node, TimePoint now, bool responded) {
  if (table_.heard_from(node, now, responded) != RoutingTable::Heard::added) return;
  // A new node among the k closest to a hash we have: announce there at once (get_peers for
  // a token, then announce_peer), not at the next announce round.
  for (const auto& [hash, search] : searches_) {
    if (!search.announce_port) continue;
    const auto closest = table_.closest(hash, settings_.routing.k);
    const bool among = std::any_of(closest.begin(), closest.end(),
                                   [&](const NodeInfo& n) { return n.id == node.id; });
    if (!among) continue;
    KrpcMessage q;
    q.method = Method::get_peers;
    q.info_hash = hash;
    send_query(node.address, q, Purpose::announce_probe, now);
  }
}

void DhtNode::handle_reply(const PeerAddress& from, const KrpcMessage& reply, TimePoint now) {
  const auto it = pending_.find(reply.transaction);
  // Only an answer from where we sent the query counts (no spoofed replies).
  if (it == pending_.end() || !(it->second.to == from)) return;
  const Pending p = it->second;
  pending_.erase(it);
  if (reply.kind == MessageKind::error) {
    if (p.purpose == Purpose::lookup) {
      if (auto run = lookups_.find(p.lookup); run != lookups_.end()) {
        run->second.lookup.on_failure(from);
        step(p.lookup, now);
      }
    }
    return;
  }
  if (reply.ip) external_ip_ = reply.ip->ip.unmapped();
  if (!reply.read_only) heard_from(NodeInfo{reply.id, from}, now, true);
  switch (p.purpose) {
    case Purpose::bootstrap: {
      if (!self_lookup_started_) {
        self_lookup_started_ = true;
        const auto lookup = start_lookup(Method::find_node, id_, std::nullopt, now);
        lookups_.at(lookup).lookup.add_candidates(reply.nodes, 2);
        step(lookup, now);
      }
      break;
    }
    case Purpose::lookup: {
      auto run = lookups_.find(p.lookup);
      if (run == lookups_.end()) break;
      const int hops = run->second.lookup.on_response(from, reply.id, reply.nodes, reply.token);
      if (run->second.method == Method::get_peers && !reply.values.empty()) {
        report(run->second, run->second.lookup.target(), reply.values, hops);
      }
      step(p.lookup, now);
      break;
    }
    case Purpose::announce_probe: {
      const auto search = searches_.find(p.info_hash);
      if (reply.token.empty() || search == searches_.end() || !search->second.announce_port) break;
      KrpcMessage q;
      q.method = Method::announce_peer;
      q.info_hash = p.info_hash;
      q.port = *search->second.announce_port;
      q.token = reply.token;
      send_query(from, q, Purpose::other, now);
      break;
    }
    case Purpose::other:
      break;
  }
  // The first nodes: searches waiting for a table can start.
  handle_timeout(now);
}

void DhtNode::report(LookupRun& run, const NodeId& hash, const std::vector<PeerAddress>& peers,
                     int hops) {
  std::vector<PeerAddress> fresh;
  for (const auto& peer : peers) {
    if (std::find(run.reported.begin(), run.reported.end(), peer) != run.reported.end()) continue;
    run.reported.push_back(peer);
    fresh.push_back(peer);
  }
  if (fresh.empty()) return;
  if (run.reported.size() == fresh.size()) hops_to_peers_.push_back(hops);  // the first ones
  found_.push_back(PeersFound{hash, std::move(fresh), hops});
}

std::uint64_t DhtNode::start_lookup(Method method, const NodeId& target,
                                    std::optional<std::uint16_t> announce_port, TimePoint now) {
  (void)now;
  const std::uint64_t id = ++next_lookup_;
  LookupRun run{Lookup(target, settings_.lookup), method, announce_port, {}};
  run.lookup.add_candidates(table_.closest(target, settings_.lookup.max_candidates / 2), 1);
  lookups_.emplace(id, std::move(run));
  return id;
}

void DhtNode::step(std::uint64_t lookup, TimePoint now) {
  auto it = lookups_.find(lookup);
  if (it == lookups_.end()) return;
  LookupRun& run = it->second;
  for (const auto& node : run.lookup.next_queries()) {
    KrpcMessage q;
    q.method = run.method;
    if (run.method == Method::find_node) {
      q.target = run.lookup.target();
    } else {
      q.info_hash = run.lookup.target();
    }
    send_query(node.address, q, Purpose::lookup, now, lookup);
  }
  // send_query may have failed some at once (queue full): the lookup may be done now.
  it = lookups_.find(lookup);
  if (it == lookups_.end() || !it->second.lookup.done()) return;
  ++counters_.lookups_done;
  if (it->second.announce_port) {
    for (const auto& answered : it->second.lookup.closest_answered()) {
      if (answered.token.empty()) continue;
      KrpcMessage q;
      q.method = Method::announce_peer;
      q.info_hash = it->second.lookup.target();
      q.port = *it->second.announce_port;
      q.token = answered.token;
      send_query(answered.node.address, q, Purpose::other, now);
    }
  }
  if (it->second.method == Method::get_peers) {
    if (auto s = searches_.find(it->second.lookup.target()); s != searches_.end()) {
      s->second.running = 0;
    }
  }
  lookups_.erase(it);
}

void DhtNode::handle_timeout(TimePoint now) {
  // Our queries that went unanswered.
  std::vector<Pending> expired;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->second.deadline <= now) {
      expired.push_back(it->second);
      it = pending_.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& p : expired) {
    ++counters_.timeouts;
    table_.failed(p.to);
    if (p.purpose == Purpose::lookup) {
      if (auto run = lookups_.find(p.lookup); run != lookups_.end()) {
        run->second.lookup.on_failure(p.to);
        step(p.lookup, now);
      }
    }
  }
  const bool have_nodes = table_.size() > 0;
  if (!have_nodes && !bootstrap_.empty() && now >= next_bootstrap_) {
    self_lookup_started_ = false;
    for (const auto& address : bootstrap_) {
      KrpcMessage q;
      q.method = Method::find_node;
      q.target = id_;
      send_query(address, q, Purpose::bootstrap, now);
    }
    next_bootstrap_ = now + settings_.bootstrap_retry;
  }
  if (have_nodes) {
    for (auto& [hash, search] : searches_) {
      if (search.running != 0 || now < search.next_at) continue;
      search.next_at =
          now + (search.announce_port ? settings_.announce_interval : settings_.search_interval);
      search.running = start_lookup(Method::get_peers, hash, search.announce_port, now);
      step(search.running, now);
    }
  }
  if (now >= next_housekeeping_) {
    next_housekeeping_ = now + kHousekeeping;
    storage_.expire(now);
    if (have_nodes) {
      for (const auto& target : table_.refresh_targets(now, settings_.refresh_interval, rng_)) {
        step(start_lookup(Method::find_node, target, std::nullopt, now), now);
      }
    }
  }
}

DhtNode::TimePoint DhtNode::next_deadline() const {
  TimePoint next = next_housekeeping_;
  for (const auto& [tid, p] : pending_) next = std::min(next, p.deadline);
  if (table_.size() > 0) {
    for (const auto& [hash, search] : searches_) {
      if (search.running == 0) next = std::min(next, search.next_at);
    }
  } else if (!bootstrap_.empty()) {
    next = std::min(next, next_bootstrap_);
  }
  return next;
}

}  // namespace starling::dht
