// Swarm membership, connections and choking. Transfers are in swarm_transfer.cpp.
#include "sim/swarm.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

namespace starling::sim {
namespace {

// Distinct, reproducible seeds for every peer's picker and choker.
std::uint64_t mix(std::uint64_t seed, std::uint64_t peer, std::uint64_t purpose) {
  std::uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (peer * 4 + purpose + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Pieces `from` has that `to` lacks: the count that decides `to`'s interest in `from`.
std::int32_t count_missing(const Bitfield& from, const Bitfield& to) {
  const std::string_view a = from.bytes();
  const std::string_view b = to.bytes();
  std::int32_t n = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    n += std::popcount(static_cast<unsigned>(static_cast<unsigned char>(a[i]) &
                                             ~static_cast<unsigned char>(b[i]) & 0xffU));
  }
  return n;
}

template <class T>
void erase_value(std::vector<T>& values, T value) {
  const auto it = std::find(values.begin(), values.end(), value);
  if (it == values.end()) return;
  *it = values.back();
  values.pop_back();
}

// Drops one upload and its receiver, the last one taking their place (as erase_value).
void remove_upload(SimPeer& peer, HalfId h) {
  const auto it = std::find(peer.uploads.begin(), peer.uploads.end(), h);
  if (it == peer.uploads.end()) return;
  const auto i = static_cast<std::size_t>(it - peer.uploads.begin());
  peer.uploads[i] = peer.uploads.back();
  peer.uploads.pop_back();
  peer.upload_to[i] = peer.upload_to.back();
  peer.upload_to.pop_back();
}

}  // namespace

Swarm::Swarm(const SwarmSettings& settings)
    : settings_(settings),
      network_(settings.network),
      rng_(settings.random_seed),
      grid_(std::max(Duration::zero(), std::chrono::duration_cast<Duration>(settings.grid))) {
  geometry_.num_pieces = settings.pieces;
  geometry_.piece_length = settings.piece_size;
  geometry_.total_size = settings.file_size();

  const int total = settings.seeds + settings.leechers;
  peers_.reserve(static_cast<std::size_t>(total));
  std::vector<bool> free_rider(static_cast<std::size_t>(settings.leechers), false);
  const auto free_riders = static_cast<std::size_t>(
      std::lround(std::clamp(settings.free_riders, 0.0, 1.0) * settings.leechers));
  std::fill_n(free_rider.begin(), free_riders, true);
  std::shuffle(free_rider.begin(), free_rider.end(), rng_);
  // Capacity classes are dealt out at random (no shuffle without classes: runs stay as before).
  capacity_class_.assign(static_cast<std::size_t>(total), -1);
  if (!settings.classes.empty()) {
    std::vector<int> dealt;
    const std::vector<int> counts = class_counts(settings.classes, settings.leechers);
    for (std::size_t c = 0; c < counts.size(); ++c) {
      dealt.insert(dealt.end(), static_cast<std::size_t>(counts[c]), static_cast<int>(c));
    }
    std::shuffle(dealt.begin(), dealt.end(), rng_);
    std::copy(dealt.begin(), dealt.end(), capacity_class_.begin() + settings.seeds);
  }
  if (settings.selection == PieceSelection::random) {
    settings_.picker.random_first_pieces = std::numeric_limits<int>::max();
  }
  if (gridded() && settings.late_end_game) settings_.picker.end_game_only_when_all_started = true;
  double leechers_up = 0;
  double min_down = settings.down;

  for (int i = 0; i < total; ++i) {
    const auto p = static_cast<PeerId>(i);
    policy::PickerSettings picker = settings_.picker;
    picker.seed = mix(settings.random_seed, p, 0);
    SimPeer& peer =
        peers_.emplace_back(geometry_, picker, settings.choker, mix(settings.random_seed, p, 1));
    peer.initial_seed = !is_leecher(p);
    peer.free_rider = is_leecher(p) && free_rider[static_cast<std::size_t>(i - settings.seeds)];
    const int klass = capacity_class_[static_cast<std::size_t>(i)];
    const CapacityClass links = klass >= 0 ? settings.classes[static_cast<std::size_t>(klass)]
                                           : CapacityClass{1, settings.up, settings.down};
    const double up = peer.initial_seed ? settings.seed_up : peer.free_rider ? 0 : links.up;
    const double down = peer.initial_seed ? settings.down : links.down;
    peer.node = network_.add_node(up, down);
    if (is_leecher(p)) {
      leechers_up += up;
      min_down = i == settings.seeds ? down : std::min(min_down, down);
    }
    peer.got_order.assign(static_cast<std::size_t>(settings.pieces), UINT32_MAX);
    if (peer.initial_seed) {
      std::fill(peer.got_order.begin(), peer.got_order.end(), 0);
      for (PieceIndex piece(0); piece.value() < settings.pieces; ++piece) {
        peer.picker.we_have(piece);
      }
      peer.done = true;
    }
  }
  done_.assign(peers_.size(), 0);
  uploaded_.assign(peers_.size(), 0);
  for (int s = 0; s < settings.seeds; ++s) done_[static_cast<std::size_t>(s)] = 1;
  t_min_s_ = min_distribution_time(static_cast<double>(settings.file_size()),
                                   settings.seed_up * settings.seeds, leechers_up, min_down,
                                   settings.leechers);
  piece_copies_.assign(static_cast<std::size_t>(settings.pieces), 0);
  tracker_pos_.assign(peers_.size(), UINT32_MAX);
  inboxes_.resize(peers_.size());
  words_per_peer_ = (static_cast<std::size_t>(settings.pieces) + 63) / 64;
  got_window_.assign(peers_.size() * words_per_peer_, 0);
  have_bits_.assign(peers_.size() * words_per_peer_, 0);
  for (PeerId p = 0; p < static_cast<PeerId>(settings.seeds); ++p) {
    for (PieceIndex piece(0); piece.value() < settings.pieces; ++piece) {
      have_bits_[piece_word(p, piece)] |= piece_bit(piece);
    }
  }
  if (settings.have_delivery == HaveDelivery::per_receiver) {
    have_lane_ =
        engine_.add_lane(settings_.have_delay, [this](std::uint32_t p) { flush_haves(p); });
  }
  if (settings.have_delivery == HaveDelivery::tick || gridded()) {
    workers_ = std::make_unique<Workers>(settings.threads);
    tick_out_.resize(static_cast<std::size_t>(workers_->parts()));
    parts_.resize(static_cast<std::size_t>(workers_->parts()));
    for (StepPart& part : parts_) part.deferred = true;
  }

  // Seeds are there first; leechers join in random order, all at once or one by one.
  for (int s = 0; s < settings.seeds; ++s) {
    engine_.at(TimePoint{}, [this, s] { join(static_cast<PeerId>(s)); });
  }
  std::vector<PeerId> order;
  for (int i = settings.seeds; i < total; ++i) order.push_back(static_cast<PeerId>(i));
  std::shuffle(order.begin(), order.end(), rng_);
  std::exponential_distribution<double> gap(std::max(settings.arrival_rate, 1e-9));
  double t = 0;
  for (PeerId p : order) {
    if (settings.arrival == Arrival::poisson) t += gap(rng_);
    engine_.at(on_grid(from_seconds(t)), [this, p] { join(p); });
  }
}

SwarmResult Swarm::run(const std::function<void(const SwarmProgress&)>& on_progress,
                       std::uint64_t progress_every) {
  SwarmResult result;
  result.t_min_s = t_min_s_;
  double limit_s = static_cast<double>(settings_.time_limit.count());
  if (limit_s <= 0) {
    const double arrivals = settings_.arrival == Arrival::poisson
                                ? settings_.leechers / std::max(settings_.arrival_rate, 1e-9)
                                : 0;
    limit_s = 50 * result.t_min_s + arrivals + 600;
  }
  const TimePoint limit = from_seconds(limit_s);
  if (settings_.timeline_step_s > 0) record_sample();
  const auto progress = [&] {
    on_progress({to_seconds(engine_.now()), completed_, settings_.leechers, network_.num_flows()});
  };
  while (completed_ < settings_.leechers) {
    if (!engine_.step()) break;
    // On a grid, the rates are refilled once per step, after its last event.
    if (!gridded() || engine_.next_time() != engine_.now()) settle();
    if (engine_.now() > limit) {
      result.timed_out = true;
      break;
    }
    if (on_progress && engine_.events_run() % progress_every == 0) progress();
  }
  if (on_progress) progress();
  if (settings_.timeline_step_s > 0) {
    timeline_.push_back(sample());
    result.timeline = std::move(timeline_);
  }

  result.end_s = to_seconds(engine_.now());
  result.events = engine_.events_run() + grid_finishes_;
  result.requests = requests_ + direct_.requests;
  result.duplicate_bytes = duplicate_bytes_ + direct_.duplicate_bytes;
  for (PeerId p = static_cast<PeerId>(settings_.seeds); p < peers_.size(); ++p) {
    const SimPeer& peer = peers_[p];
    PeerOutcome outcome;
    outcome.joined_s = to_seconds(peer.joined);
    if (peer.done) outcome.completion_s = to_seconds(peer.completed) - outcome.joined_s;
    outcome.free_rider = peer.free_rider;
    outcome.capacity_class = capacity_class_[p];
    outcome.uploaded = uploaded_[p];
    outcome.from_seeds = peer.from_seeds;
    result.leechers.push_back(outcome);
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Membership

void Swarm::join(PeerId p) {
  SimPeer& peer = peers_[p];
  peer.present = true;
  peer.joined = engine_.now();
  tracker_pos_[p] = static_cast<std::uint32_t>(tracker_.size());
  tracker_.push_back(p);
  announce(p);
  // Rechokes of different peers are spread over the interval, as the peers' clocks would be.
  const auto interval = std::chrono::duration_cast<Duration>(settings_.choker.rechoke_interval);
  std::uniform_int_distribution<Duration::rep> phase(0, interval.count() - 1);
  peer.rechoke_event = after(Duration(phase(rng_)), [this, p] { rechoke(p, true); });
}

// A tracker reply: random present peers; we connect to those with a free connection slot.
void Swarm::announce(PeerId p) {
  SimPeer& peer = peers_[p];
  if (!peer.present) return;
  const auto max_connections = static_cast<std::size_t>(settings_.max_connections);
  const int reply = std::min<int>(settings_.neighbours, static_cast<int>(tracker_.size()) - 1);
  std::uniform_int_distribution<std::size_t> pick(0, tracker_.size() - 1);
  for (int i = 0; i < reply && peers_[p].uploads.size() < max_connections; ++i) {
    const PeerId other = tracker_[pick(rng_)];
    if (other == p || peers_[other].uploads.size() >= max_connections || connected(p, other)) {
      continue;
    }
    if (peers_[p].done && peers_[other].done) continue;  // two seeds have nothing to say
    connect(p, other);
  }
  if (peers_[p].uploads.size() < static_cast<std::size_t>(settings_.min_neighbours) &&
      !engine_.pending(peers_[p].announce_event)) {
    peers_[p].announce_event = after(settings_.reannounce, [this, p] { announce(p); });
  }
}

bool Swarm::connected(PeerId a, PeerId b) const {
  const auto& ups = peers_[a].uploads;
  return std::any_of(ups.begin(), ups.end(), [&](HalfId h) { return halves_[h].to == b; });
}

void Swarm::connect(PeerId a, PeerId b) {
  deliver_all_sent();  // HAVEs sent before go to the neighbours of then (the BITFIELD has them)
  const auto first = static_cast<HalfId>(halves_.size());
  halves_.emplace_back(engine_.now(), settings_.pipeline);
  halves_.emplace_back(engine_.now(), settings_.pipeline);
  half_state_.resize(halves_.size());
  rate_windows_.resize(halves_.size());
  half_to_.push_back(b);
  half_to_.push_back(a);
  const TimePoint now = engine_.now();
  const double t = to_seconds(now);
  for (HalfId h : {first, first + 1}) {
    SimHalf& s = halves_[h];
    s.from = h == first ? a : b;
    s.to = h == first ? b : a;
    half_state_[h].open = true;
    s.connected = now;
    rate_windows_[h] = RateWindow{.t = {t, t}};
    peers_[s.from].uploads.push_back(h);
    peers_[s.from].upload_to.push_back(s.to);
  }
  // The BITFIELD exchange: availability and interest.
  for (HalfId h : {first, first + 1}) {
    SimHalf& s = halves_[h];
    SimPeer& from = peers_[s.from];
    SimPeer& to = peers_[s.to];
    if (to.done) continue;
    if (from.done) {
      to.picker.add_seed();
      s.seed_counted = true;
    } else {
      to.picker.add_availability(from.picker.have_pieces());
    }
    half_state_[h].gained = count_missing(from.picker.have_pieces(), to.picker.have_pieces());
    half_state_[h].filled = 0;
    if (half_state_[h].missing() > 0) set_interest(h, true);
  }
}

void Swarm::close_connection(std::uint32_t conn) {
  // HAVEs in flight first: the availability removed below must be what was added.
  deliver_all_sent();
  flush_haves(halves_[std::size_t{2} * conn].from);
  flush_haves(halves_[std::size_t{2} * conn].to);
  for (HalfId h : {2 * conn, 2 * conn + 1}) {
    SimHalf& s = halves_[h];
    HalfState& state = half_state_[h];
    if (!state.open) return;
    drop_requests(h, false);
    if (!state.choked) {
      state.choked = true;
      --peers_[s.from].unchoked;
      erase_value(peers_[s.to].unchoked_by, h);
    }
  }
  for (HalfId h : {2 * conn, 2 * conn + 1}) {
    SimHalf& s = halves_[h];
    half_state_[h].open = false;
    remove_upload(peers_[s.from], h);
    SimPeer& to = peers_[s.to];
    if (!to.done) {
      if (s.seed_counted) {
        to.picker.remove_seed();
      } else {
        to.picker.remove_availability(peers_[s.from].picker.have_pieces());
      }
    }
    if (peers_[s.from].present) schedule_fill(s.from);
  }
  // The blocks aborted above can come from the receivers' other unchoking neighbours: ask them
  // now (nothing else would while those keep unchoking us, e.g. a seed's only interested peer).
  for (HalfId h : {2 * conn, 2 * conn + 1}) {
    const PeerId to = halves_[h].to;
    if (peers_[to].present && !peers_[to].done) refill(to);
  }
}

void Swarm::depart(PeerId p) {
  SimPeer& peer = peers_[p];
  if (!peer.present) return;
  const std::vector<HalfId> uploads = peer.uploads;
  for (HalfId h : uploads) close_connection(h / 2);
  peer.present = false;
  if (is_leecher(p)) {
    for (PieceIndex piece(0); piece.value() < settings_.pieces; ++piece) {
      if (!peer.picker.have(piece)) continue;
      --piece_copies_[static_cast<std::size_t>(piece.value())];
      --leecher_copies_;
    }
  }
  engine_.cancel(peer.rechoke_event);
  engine_.cancel(peer.fill_event);
  engine_.cancel(peer.announce_event);
  const std::uint32_t pos = tracker_pos_[p];
  tracker_[pos] = tracker_.back();
  tracker_pos_[tracker_[pos]] = pos;
  tracker_.pop_back();
  tracker_pos_[p] = UINT32_MAX;
  for (HalfId h : uploads) {
    const PeerId other = halves_[h].to;
    if (peers_[other].present &&
        peers_[other].uploads.size() < static_cast<std::size_t>(settings_.min_neighbours) &&
        !engine_.pending(peers_[other].announce_event)) {
      peers_[other].announce_event =
          after(settings_.reannounce, [this, other] { announce(other); });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Choking

double Swarm::received_so_far(const SimHalf& s) const {
  double total = s.delivered;
  if (s.flow != kNoFlow) total += network_.transferred(s.flow, engine_.now()) - s.flow_credited;
  return total;
}

// The Choker's view of every neighbour. Rates are averaged since the rechoke before last (the
// rate window is two rechoke intervals); a full rechoke moves the window on.
void Swarm::rechoke(PeerId p, bool full) {
  SimPeer& peer = peers_[p];
  if (!peer.present) return;
  const TimePoint now = engine_.now();
  if (full) {
    peer.rechoke_event = after(settings_.choker.rechoke_interval, [this, p] { rechoke(p, true); });
  }
  if (peer.free_rider) return;  // uploads nothing: never unchokes
  const double t = to_seconds(now);
  candidates_.clear();
  // ~80 connections, each a few misses at 10,000 peers (two halves, their flows and the rate
  // window): start them all first, then the flows the halves name, then read. Between rechokes
  // (fill_free_slots) the Choker reads nothing but the key, the choke state and the connection time
  // of a peer that is not interested (it is never unchoked): its halves and flows are left alone,
  // and half the candidates of a fill are such peers. A seed's Choker reads only the rates we
  // reach to its peers (a tie-break of its round robin), and a seed stays one: the halves towards
  // it are not read, and the windows of what it receives stand still.
  const auto needs_rates = [&](HalfId h) { return full || half_state_[h].interested; };
  const bool seeding = peer.done;
  for (HalfId h : peer.uploads) __builtin_prefetch(&half_state_[h]);
  for (HalfId h : peer.uploads) {
    const SimHalf& out = halves_[h];
    __builtin_prefetch(&out.connected);
    if (!needs_rates(h)) continue;
    __builtin_prefetch(&out.delivered);
    __builtin_prefetch(&rate_windows_[h]);
    if (seeding) continue;
    const SimHalf& in = halves_[reverse(h)];
    __builtin_prefetch(&in.flow);
    __builtin_prefetch(&in.last_delivery);
  }
  for (HalfId h : peer.uploads) {
    if (!needs_rates(h)) continue;
    network_.prefetch(halves_[h].flow);
    if (!seeding) network_.prefetch(halves_[reverse(h)].flow);
  }
  for (std::size_t i = 0; i < peer.uploads.size(); ++i) {
    const HalfId h = peer.uploads[i];
    const SimHalf& out = halves_[h];
    policy::ChokeCandidate c;
    c.key = policy::PeerKey(peer.upload_to[i]);
    c.interested = half_state_[h].interested;
    c.unchoked = !half_state_[h].choked;
    c.connected_at = out.connected;
    if (needs_rates(h)) {
      RateWindow& window = rate_windows_[h];
      const double span = t - window.t[1];
      const double to_peer = received_so_far(out);
      c.rate_to_peer = span > 0 ? (to_peer - window.sent[1]) / span : 0;
      double from_peer = 0;  // a seed never reads its receive window again
      if (!seeding) {
        const SimHalf& in = halves_[reverse(h)];
        from_peer = received_so_far(in);
        c.rate_from_peer = span > 0 ? (from_peer - window.received[1]) / span : 0;
        c.total_from_peer = static_cast<std::int64_t>(from_peer);
        c.last_received = in.last_delivery;
        c.ever_unchoked_us = in.ever_unchoked;
      }
      if (full) {  // the window moves on
        window = {.t = {t, window.t[0]},
                  .received = {from_peer, window.received[0]},
                  .sent = {to_peer, window.sent[0]}};
      }
    }
    candidates_.push_back(c);
  }
  const std::vector<policy::PeerKey> unchoke =
      full ? peer.choker.rechoke(candidates_, peer.done, now)
           : peer.choker.fill_free_slots(candidates_, peer.done, now);
  apply_unchoke_set(p, unchoke);
}

// Interest changed or a peer left: fill free slots soon (once, however many changes are due now).
void Swarm::schedule_fill(PeerId p) {
  SimPeer& peer = peers_[p];
  if (!peer.present || peer.free_rider || engine_.pending(peer.fill_event)) return;
  peer.fill_event = engine_.at(next_step(), [this, p] { rechoke(p, false); });
}

void Swarm::apply_unchoke_set(PeerId p, const std::vector<policy::PeerKey>& keys) {
  // Index loop: choke and unchoke never change the list of uploads.
  const std::vector<HalfId>& uploads = peers_[p].uploads;
  for (std::size_t i = 0; i < uploads.size(); ++i) {
    const HalfId h = uploads[i];
    const policy::PeerKey to(peers_[p].upload_to[i]);
    const bool wanted = std::find(keys.begin(), keys.end(), to) != keys.end();
    if (wanted && half_state_[h].choked) unchoke(h);
    if (!wanted && !half_state_[h].choked) choke(h);
  }
}

void Swarm::unchoke(HalfId h) {
  SimHalf& s = halves_[h];
  half_state_[h].choked = false;
  s.ever_unchoked = true;
  ++peers_[s.from].unchoked;
  peers_[s.to].unchoked_by.push_back(h);
  if (gridded()) {
    deliver_next_step(MessageEffect::request, h);
  } else {
    request(h);
  }
}

void Swarm::choke(HalfId h) {
  SimHalf& s = halves_[h];
  half_state_[h].choked = true;
  --peers_[s.from].unchoked;
  erase_value(peers_[s.to].unchoked_by, h);
  const PeerId to = s.to;
  drop_requests(h, true);
  // The aborted blocks can come from someone else.
  if (gridded()) {
    deliver_next_step(MessageEffect::refill, to);
  } else {
    refill(to);
  }
}

void Swarm::set_interest(HalfId h, bool interested) {
  HalfState& state = half_state_[h];
  interested = interested && done_[half_to_[h]] == 0;
  if (state.interested == interested) return;
  state.interested = interested;
  const SimHalf& s = halves_[h];
  const SimPeer& from = peers_[s.from];
  const int slots = settings_.choker.regular_slots + settings_.choker.optimistic_slots;
  if (interested) {
    if (!state.choked) {
      request(h);
    } else if (from.unchoked < slots) {
      schedule_fill(s.from);
    }
  } else {
    drop_requests(h, false);
    if (!state.choked) schedule_fill(s.from);  // its slot is wasted on a peer that wants nothing
  }
}

// ---------------------------------------------------------------------------------------------
// Timeline

TimelineSample Swarm::sample() const {
  TimelineSample s;
  s.t_s = to_seconds(engine_.now());
  s.completed = completed_;
  const double pieces = settings_.pieces;
  s.copies = settings_.seeds + static_cast<double>(leecher_copies_) / pieces;
  if (leecher_copies_ > 0) {
    double h = 0;
    const auto total = static_cast<double>(leecher_copies_);
    for (std::int64_t c : piece_copies_) {
      if (c <= 0) continue;
      const double q = static_cast<double>(c) / total;
      h -= q * std::log(q);
    }
    s.entropy = pieces > 1 ? h / std::log(pieces) : 1;
  } else {
    s.entropy = std::numeric_limits<double>::quiet_NaN();
  }
  double used = 0;
  double capacity = 0;
  for (const SimPeer& peer : peers_) {
    if (!peer.present || peer.free_rider) continue;
    used += network_.up_load(peer.node);
    capacity += network_.up_capacity(peer.node);
  }
  s.utilisation = capacity > 0 ? used / capacity : 0;
  return s;
}

// A sample now and the next one a step later, for as long as the run goes on.
void Swarm::record_sample() {
  timeline_.push_back(sample());
  engine_.after(std::chrono::duration_cast<Duration>(
                    std::chrono::duration<double>(settings_.timeline_step_s)),
                [this] { record_sample(); });
}

}  // namespace starling::sim
