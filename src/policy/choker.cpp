#include "policy/choker.hpp"

#include <algorithm>

namespace starling::policy {

namespace {

bool contains(const std::vector<PeerKey>& keys, PeerKey key) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

}  // namespace

std::uint32_t Choker::index_of(PeerKey key) const {
  const auto it = std::lower_bound(by_key_.begin(), by_key_.end(), key,
                                   [](const auto& entry, PeerKey k) { return entry.first < k; });
  return it != by_key_.end() && it->first == key ? it->second : kNoCandidate;
}

Choker::Choker(const ChokerSettings& settings, std::uint64_t random_seed)
    : settings_(settings), rng_(random_seed) {}

std::vector<PeerKey> Choker::rechoke(std::span<const ChokeCandidate> peers, bool seeding,
                                     TimePoint now) {
  return decide(peers, seeding, now, /*reshuffle=*/true);
}

std::vector<PeerKey> Choker::fill_free_slots(std::span<const ChokeCandidate> peers, bool seeding,
                                             TimePoint now) {
  return decide(peers, seeding, now, /*reshuffle=*/false);
}

std::vector<PeerKey> Choker::optimistic() const {
  std::vector<PeerKey> keys;
  keys.reserve(optimistic_.size());
  for (const OptimisticSlot& slot : optimistic_) keys.push_back(slot.key);
  return keys;
}

bool Choker::snubbed(const ChokeCandidate& peer, TimePoint now) const {
  // A peer that has only just connected has not had the time to send anything.
  return now - peer.connected_at > settings_.snub_timeout &&
         now - peer.last_received > settings_.snub_timeout;
}

std::vector<PeerKey> Choker::decide(std::span<const ChokeCandidate> peers, bool seeding,
                                    TimePoint now, bool reshuffle) {
  if (!same_keys(peers)) {
    index_candidates(peers);
    admit_and_forget(peers, now);
    index_records();
  }

  std::vector<PeerKey> unchoke;
  if (seeding) {
    // Optimistic unchokes are a leecher-state notion; the seed round robin covers them.
    optimistic_.clear();
    unchoke = choose_seed(peers, now, reshuffle);
  } else {
    unchoke = choose_leecher(peers, now, reshuffle);
  }
  record(peers, unchoke, now);
  return unchoke;
}

bool Choker::same_keys(std::span<const ChokeCandidate> peers) const {
  return std::equal(peers.begin(), peers.end(), keys_.begin(), keys_.end(),
                    [](const ChokeCandidate& peer, PeerKey key) { return peer.key == key; });
}

void Choker::index_candidates(std::span<const ChokeCandidate> peers) {
  keys_.clear();
  by_key_.clear();
  for (const ChokeCandidate& peer : peers) {
    by_key_.emplace_back(peer.key, static_cast<std::uint32_t>(keys_.size()));
    keys_.push_back(peer.key);
  }
  // Stable: with a key given twice, the first candidate is the one found (as a map's emplace).
  std::stable_sort(by_key_.begin(), by_key_.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
}

// With the same keys as at the last decision there is nothing to do here: records_ and the ring
// hold exactly those keys, and the optimistic slots some of them.
void Choker::admit_and_forget(std::span<const ChokeCandidate> peers, TimePoint now) {
  const auto gone = [&](PeerKey key) { return index_of(key) == kNoCandidate; };
  std::erase_if(records_, [&](const auto& entry) { return gone(entry.first); });
  std::erase_if(optimistic_ring_, gone);
  std::erase_if(optimistic_, [&](const OptimisticSlot& s) { return gone(s.key); });

  for (const ChokeCandidate& peer : peers) {
    const auto at = record_slot(records_, peer.key);
    if (at != records_.end() && at->first == peer.key) continue;
    // Never unchoked by us: it has been waiting since it connected.
    records_.insert(at,
                    {peer.key, PeerRecord{.last_unchoked = peer.connected_at,
                                          .unchoke_started = peer.unchoked ? now : TimePoint{}}});
    insert_into_ring(peer.key, now - peer.connected_at < settings_.optimistic_interval);
  }
}

// records_ holds exactly the candidates' keys, sorted as by_key_: the n-th distinct key of
// by_key_ is records_[n].
void Choker::index_records() {
  record_index_.assign(keys_.size(), 0);
  std::size_t n = 0;
  for (std::size_t i = 0; i < by_key_.size(); ++i) {
    if (i > 0 && by_key_[i].first != by_key_[i - 1].first) ++n;
    record_index_[by_key_[i].second] = static_cast<std::uint32_t>(n);
  }
}

void Choker::insert_into_ring(PeerKey key, bool is_new) {
  // n + 1 places to go; a new peer's weight for the front is new_peer_bonus instead of 1.
  const auto places = static_cast<std::int64_t>(optimistic_ring_.size()) + 1;
  const std::int64_t front_weight = is_new ? std::max(settings_.new_peer_bonus, 1) : 1;
  std::uniform_int_distribution<std::int64_t> draw(0, places - 1 + front_weight - 1);
  const std::int64_t ticket = draw(rng_);
  const std::int64_t place = ticket < front_weight ? 0 : ticket - front_weight + 1;
  optimistic_ring_.insert(optimistic_ring_.begin() + place, key);
}

std::vector<PeerKey> Choker::choose_leecher(std::span<const ChokeCandidate> peers, TimePoint now,
                                            bool reshuffle) {
  const auto interested = [&](PeerKey key) { return candidate(peers, key).interested; };
  std::erase_if(optimistic_, [&](const OptimisticSlot& slot) {
    // An uninterested peer would waste the slot; a rechoke rotates a slot that has had its time:
    // `optimistic_interval`, or one rechoke period for a holder that has neither unchoked us nor
    // sent us a byte (a contributor reciprocates within a period; a free rider never does, and
    // would otherwise hold the slot three times as long as a contributor, who leaves it early
    // for a regular slot).
    if (!interested(slot.key)) return true;
    if (!reshuffle) return false;
    const ChokeCandidate& holder = candidate(peers, slot.key);
    const bool gave_nothing = !holder.ever_unchoked_us && holder.total_from_peer == 0;
    const auto turn = settings_.deprioritise_free_riders && gave_nothing
                          ? std::min(settings_.optimistic_interval, settings_.rechoke_interval)
                          : settings_.optimistic_interval;
    return now - slot.since >= turn;
  });
  const std::vector<PeerKey> holders = optimistic();

  // Regular slots. Without a reshuffle the current holders stay (up to the slot count) and only
  // free slots are filled; an optimistic holder then keeps its optimistic slot.
  std::vector<const ChokeCandidate*>& ranked = ranked_;
  ranked.clear();
  for (const ChokeCandidate& peer : peers) {
    if (!peer.interested) continue;
    if (!reshuffle && contains(holders, peer.key)) continue;
    ranked.push_back(&peer);
  }
  const auto better = [&](const ChokeCandidate* a, const ChokeCandidate* b) {
    if (!reshuffle && a->unchoked != b->unchoked) return a->unchoked;
    const bool a_snubbed = snubbed(*a, now);
    if (a_snubbed != snubbed(*b, now)) return !a_snubbed;
    if (a->rate_from_peer != b->rate_from_peer) return a->rate_from_peer > b->rate_from_peer;
    if (a->total_from_peer != b->total_from_peer) return a->total_from_peer > b->total_from_peer;
    return a->unchoked && !b->unchoked;  // on a tie, do not flap
  };
  // What is still tied is in random order: by key, the peers that connected first would win
  // every tie, and early on (no rates yet) everything is a tie.
  std::shuffle(ranked.begin(), ranked.end(), rng_);
  // The first regular_slots of a stable sort by `better`, without sorting the rest: each peer
  // goes after those it does not beat, as a stable sort would put it.
  const auto regular_count =
      std::min(ranked.size(), static_cast<std::size_t>(std::max(settings_.regular_slots, 0)));
  std::vector<const ChokeCandidate*> best;
  best.reserve(regular_count + 1);
  for (const ChokeCandidate* peer : ranked) {
    const auto place = std::find_if(best.begin(), best.end(),
                                    [&](const ChokeCandidate* b) { return better(peer, b); });
    if (place == best.end() && best.size() == regular_count) continue;
    best.insert(place, peer);
    if (best.size() > regular_count) best.pop_back();
  }
  std::vector<PeerKey> unchoke;
  unchoke.reserve(regular_count +
                  static_cast<std::size_t>(std::max(settings_.optimistic_slots, 0)));
  for (const ChokeCandidate* peer : best) unchoke.push_back(peer->key);

  // A holder that earned a regular slot frees its optimistic one.
  std::erase_if(optimistic_, [&](const OptimisticSlot& s) { return contains(unchoke, s.key); });

  fill_optimistic_slots(peers, unchoke, now);
  for (const OptimisticSlot& slot : optimistic_) unchoke.push_back(slot.key);
  return unchoke;
}

void Choker::fill_optimistic_slots(std::span<const ChokeCandidate> peers,
                                   const std::vector<PeerKey>& regular, TimePoint now) {
  // The next interested peers in the ring, which then go to its back, in three passes (see the
  // header): likely reciprocators, then peers not known to be free riders, then anyone.
  const auto slots = static_cast<std::size_t>(std::max(settings_.optimistic_slots, 0));
  const auto holds = [&](PeerKey key) {
    return std::any_of(optimistic_.begin(), optimistic_.end(),
                       [&](const OptimisticSlot& s) { return s.key == key; });
  };
  const auto pass_of = [&](PeerKey key) {
    if (!settings_.deprioritise_free_riders) return 0;
    const ChokeCandidate& peer = candidate(peers, key);
    const bool is_new = now - peer.connected_at < settings_.optimistic_interval;
    if (is_new || peer.ever_unchoked_us) return 0;
    const bool known_free_rider = record_of(key).had_optimistic_turn && peer.total_from_peer == 0;
    return known_free_rider ? 2 : 1;
  };
  for (int pass = 0; pass <= 2; ++pass) {
    for (std::size_t i = 0; i < optimistic_ring_.size() && optimistic_.size() < slots;) {
      const PeerKey key = optimistic_ring_[i];
      if (!candidate(peers, key).interested || contains(regular, key) || holds(key) ||
          pass_of(key) > pass) {
        ++i;
        continue;
      }
      optimistic_.push_back({.key = key, .since = now});
      record_of(key).had_optimistic_turn = true;
      optimistic_ring_.erase(optimistic_ring_.begin() + static_cast<std::ptrdiff_t>(i));
      optimistic_ring_.push_back(key);
    }
  }
}

std::vector<PeerKey> Choker::choose_seed(std::span<const ChokeCandidate> peers, TimePoint now,
                                         bool reshuffle) {
  // "Unchoked at the last rechoke or since": half a period of slack absorbs timer jitter, so a
  // turn lasts two rechoke periods.
  const auto keep_for = std::chrono::milliseconds(settings_.rechoke_interval) * 3 / 2;
  struct Rank {
    const ChokeCandidate* peer;
    bool keep;
    PeerRecord record;
  };
  std::vector<Rank> ranked;
  for (std::size_t i = 0; i < peers.size(); ++i) {
    const ChokeCandidate& peer = peers[i];
    if (!peer.interested) continue;
    const PeerRecord& record = records_[record_index_[i]].second;
    const bool keep = peer.unchoked && (!reshuffle || now - record.unchoke_started < keep_for);
    ranked.push_back({.peer = &peer, .keep = keep, .record = record});
  }
  const auto slots = static_cast<std::size_t>(std::max(settings_.regular_slots, 0) +
                                              std::max(settings_.optimistic_slots, 0));
  // Only the first `slots` of the order matter (it is total: the key decides the last tie).
  const auto served = ranked.begin() + static_cast<std::ptrdiff_t>(std::min(slots, ranked.size()));
  std::partial_sort(ranked.begin(), served, ranked.end(), [](const Rank& a, const Rank& b) {
    if (a.keep != b.keep) return a.keep;
    // Among those kept (only more than the slots if the settings shrank): the shortest served.
    if (a.keep && a.record.unchoke_started != b.record.unchoke_started) {
      return a.record.unchoke_started > b.record.unchoke_started;
    }
    // Round robin: whoever has waited longest goes next.
    if (a.record.last_unchoked != b.record.last_unchoked) {
      return a.record.last_unchoked < b.record.last_unchoked;
    }
    if (a.peer->rate_to_peer != b.peer->rate_to_peer) {
      return a.peer->rate_to_peer > b.peer->rate_to_peer;
    }
    return a.peer->key < b.peer->key;
  });
  std::vector<PeerKey> unchoke;
  for (auto it = ranked.begin(); it != served; ++it) unchoke.push_back(it->peer->key);
  return unchoke;
}

void Choker::record(std::span<const ChokeCandidate> peers, const std::vector<PeerKey>& unchoke,
                    TimePoint now) {
  for (std::size_t i = 0; i < peers.size(); ++i) {
    const ChokeCandidate& peer = peers[i];
    PeerRecord& record = records_[record_index_[i]].second;
    if (contains(unchoke, peer.key)) {  // a few slots: a scan beats a hash set
      if (!peer.unchoked) record.unchoke_started = now;
      record.last_unchoked = now;
    } else if (peer.unchoked) {
      record.last_unchoked = now;  // served until now
    }
  }
}

}  // namespace starling::policy
