// Which peers we upload to: the BitTorrent choke algorithm, as pure logic (no sockets, no clock).
//
// Leecher state (we are downloading): tit-for-tat. Every rechoke the `regular_slots` interested
// peers that upload to us fastest are unchoked; a snubbing peer (nothing received for
// `snub_timeout`) ranks after all others, so it loses its regular slot whenever someone else
// wants it. On top of that `optimistic_slots` optimistic unchokes give an interested peer outside
// the regular set a chance to show what it can upload; each lasts `optimistic_interval`. As in
// mainline, candidates for the optimistic slot wait in a ring and are served round robin, so
// every peer gets its turn; a newly connected peer is inserted at a random place, but
// `new_peer_bonus` times as likely as any other place to be at the front (it has nothing to
// trade yet, and this is how it gets its first pieces). Candidates are taken in three passes:
// first peers that are new or have unchoked us at some point (they upload to someone, so they
// may reciprocate), then any peer that has not had an optimistic turn from us without ever
// sending us a byte, then anyone; a free rider, which never unchokes anyone, is thus served only
// when no contributor wants the slot, yet is never starved of it when nobody else does.
//
// Seed state (we have everything): download rates mean nothing, so service is shared evenly. A
// peer unchoked at the last rechoke stays unchoked for this period too; the other slots go to the
// interested peers that have waited longest since they were last unchoked (round robin), with the
// rate we reached to them only breaking ties. All `regular_slots + optimistic_slots` slots
// rotate this way: round robin already gives every peer its chance.
//
// Time is a parameter (policy::TimePoint); nothing here reads a clock.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>
#include <span>
#include <utility>
#include <vector>

#include "policy/piece_picker.hpp"

namespace starling::policy {

using TimePoint = std::chrono::steady_clock::time_point;

struct ChokerSettings {
  // Peers unchoked for their upload rate (leecher) or in turn (seed). Mainline's 3 (plus 1
  // optimistic) keeps each unchoked peer's share of our upload large enough to matter to it.
  int regular_slots = 3;
  // Peers unchoked to discover better partners and to bootstrap newcomers.
  int optimistic_slots = 1;
  // How often the caller should call rechoke(). Long enough for TCP to reach its rate after an
  // unchoke, short enough to react to a peer that stops reciprocating.
  std::chrono::seconds rechoke_interval{10};
  // How long an optimistic unchoke lasts: three rechokes, so the peer has time to reciprocate and
  // earn a regular slot.
  std::chrono::seconds optimistic_interval{30};
  // Not used here, documented for the caller: the rates in ChokeCandidate are averaged over this
  // window, long enough to smooth TCP's saw-tooth, short enough to follow real changes.
  std::chrono::seconds rate_window{20};
  // A peer connected for longer than this that sent no block for this long is snubbing us.
  std::chrono::seconds snub_timeout{60};
  // A peer connected less than `optimistic_interval` ago is this many times as likely as any
  // other to be next in line for the optimistic slot (mainline's 3).
  int new_peer_bonus = 3;
  // The three passes over the optimistic ring described above, and an optimistic turn cut to
  // one rechoke period for a holder that has neither unchoked us nor sent us a byte by then.
  // Off, the ring is a plain round robin with turns of `optimistic_interval`.
  bool deprioritise_free_riders = true;
};

// Of a peer that is not interested, only the key, `unchoked` and `connected_at` are read (it is
// neither ranked nor unchoked): a caller may leave the rest unset.
struct ChokeCandidate {
  PeerKey key;
  bool interested = false;    // the peer wants our data
  double rate_from_peer = 0;  // bytes/s it sent us over the rate window (leecher state)
  double rate_to_peer = 0;    // bytes/s we sent it over the rate window (seed tie-break)
  // Bytes it ever sent us (leecher tie-break): when rates tie, most often at zero early on or
  // with peers that do not unchoke us, one that has given us something ranks above one that
  // never has, so a free rider does not get a regular slot by the luck of the draw.
  std::int64_t total_from_peer = 0;
  // It has unchoked us at some point (optimistic candidates that do come first).
  bool ever_unchoked_us = false;
  TimePoint connected_at{};   // newly connected: favoured for the optimistic slot
  TimePoint last_received{};  // its last block to us (snubbing)
  bool unchoked = false;      // our current choke state towards it
};

class Choker {
 public:
  static constexpr std::uint64_t kDefaultSeed = 0x5eed'c40c'e5ee'd001;

  explicit Choker(const ChokerSettings& settings = {}, std::uint64_t random_seed = kDefaultSeed);

  // The full algorithm: call every `rechoke_interval`. Returns the peers to have unchoked from
  // now on; every other peer is to be choked. `peers` is every connected peer of the torrent;
  // bookkeeping for peers no longer in it is forgotten.
  std::vector<PeerKey> rechoke(std::span<const ChokeCandidate> peers, bool seeding, TimePoint now);

  // Between rechokes, when a peer connects or leaves or interest changes: keeps every unchoked
  // interested peer (no reshuffle, at most the slot count) and only fills free slots.
  std::vector<PeerKey> fill_free_slots(std::span<const ChokeCandidate> peers, bool seeding,
                                       TimePoint now);

  // The peers holding an optimistic slot (leecher state), for stats and tests.
  std::vector<PeerKey> optimistic() const;

  bool snubbed(const ChokeCandidate& peer, TimePoint now) const;
  const ChokerSettings& settings() const { return settings_; }

 private:
  struct PeerRecord {
    TimePoint last_unchoked;    // last time we saw it unchoked; connected_at if never
    TimePoint unchoke_started;  // start of its current (or last) unchoke
    bool had_optimistic_turn = false;
  };
  struct OptimisticSlot {
    PeerKey key;
    TimePoint since;
  };

  // A candidate's index in the decision's span, searched by key (the first of a key given twice,
  // as a map's emplace); kNoCandidate if absent.
  static constexpr std::uint32_t kNoCandidate = UINT32_MAX;
  std::uint32_t index_of(PeerKey key) const;
  // The candidate with `key`, which must be one of them.
  const ChokeCandidate& candidate(std::span<const ChokeCandidate> peers, PeerKey key) const {
    return peers[index_of(key)];
  }

  std::vector<PeerKey> decide(std::span<const ChokeCandidate> peers, bool seeding, TimePoint now,
                              bool reshuffle);
  bool same_keys(std::span<const ChokeCandidate> peers) const;
  void index_candidates(std::span<const ChokeCandidate> peers);
  void admit_and_forget(std::span<const ChokeCandidate> peers, TimePoint now);
  void index_records();
  void insert_into_ring(PeerKey key, bool is_new);
  // The key's record in records_, or where it would go.
  template <typename Records>
  static auto record_slot(Records& records, PeerKey key) {
    return std::lower_bound(records.begin(), records.end(), key,
                            [](const auto& entry, PeerKey k) { return entry.first < k; });
  }
  PeerRecord& record_of(PeerKey key) { return record_slot(records_, key)->second; }
  void fill_optimistic_slots(std::span<const ChokeCandidate> peers,
                             const std::vector<PeerKey>& regular, TimePoint now);
  std::vector<PeerKey> choose_leecher(std::span<const ChokeCandidate> peers, TimePoint now,
                                      bool reshuffle);
  std::vector<PeerKey> choose_seed(std::span<const ChokeCandidate> peers, TimePoint now,
                                   bool reshuffle);
  void record(std::span<const ChokeCandidate> peers, const std::vector<PeerKey>& unchoke,
              TimePoint now);

  ChokerSettings settings_;
  std::mt19937_64 rng_;
  // Sorted by key (a flat map: a rechoke walks ~80 of them, and a hash node each was a cache
  // miss each). Every key asked for with record_of is present.
  std::vector<std::pair<PeerKey, PeerRecord>> records_;
  std::vector<PeerKey> optimistic_ring_;  // front = next in line for an optimistic unchoke
  std::vector<OptimisticSlot> optimistic_;

  // The candidates of the last decision, kept for the next: between rechokes a peer's
  // connections mostly stay the same, and then so do the index below and the bookkeeping above
  // (admit_and_forget has nothing to do). Rebuilt whenever the keys given change.
  std::vector<PeerKey> keys_;                              // as given, in their order
  std::vector<std::pair<PeerKey, std::uint32_t>> by_key_;  // (key, candidate index) by key
  std::vector<std::uint32_t> record_index_;                // per candidate: its entry in records_

  // Scratch of one decision, kept to avoid allocations.
  std::vector<const ChokeCandidate*> ranked_;
};

}  // namespace starling::policy
