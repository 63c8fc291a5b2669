// A BitTorrent swarm in simulated time: thousands of peers, each running the engine's own policy
// classes — a policy::PiecePicker fed by its neighbours' HAVEs and a policy::Choker run every
// rechoke_interval on rates measured over its rate_window — over the flow-level Network.
//
// The transfer unit is a request: one pick of up to a piece's worth of blocks from one peer,
// grouped by piece (normally a whole piece; after a choke, the blocks of a piece still missing),
// carried as one flow. HAVEs arrive `have_delay` late, in batches; a request to an idle
// connection waits one `latency` before its data flows. On a time grid (SwarmSettings::grid, the
// default) every event falls on a grid point and other control messages take one step; in the
// exact model (grid 0) they take no time. Pieces always pass their hash check. Deterministic
// for a given `random_seed`.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <random>
#include <utility>
#include <vector>

#include "sim/engine.hpp"
#include "sim/network.hpp"
#include "sim/swarm_peer.hpp"
#include "sim/swarm_settings.hpp"
#include "sim/workers.hpp"

namespace starling::sim {

struct PeerOutcome {
  double joined_s = 0;
  double completion_s = -1;  // from joining to having every piece; -1: never
  bool free_rider = false;
  int capacity_class = -1;  // index into SwarmSettings::classes; -1: the homogeneous links
  double uploaded = 0;      // bytes
  double from_seeds = 0;    // bytes received from the initial seeds
};

// The swarm at one moment (SwarmSettings::timeline_step_s apart).
struct TimelineSample {
  double t_s = 0;
  // Copies of the file in the swarm: the initial seeds plus the leechers' pieces / pieces.
  double copies = 0;
  // Shannon entropy of how the leechers' piece copies spread over the pieces, divided by
  // log(pieces): 1 when every piece has as many copies, lower when some are scarce. NaN while
  // leechers hold nothing.
  double entropy = 0;
  // Upload rate in use over upload capacity, over the present peers that upload.
  double utilisation = 0;
  int completed = 0;
};

struct SwarmResult {
  std::vector<PeerOutcome> leechers;
  double t_min_s = 0;
  double end_s = 0;  // simulated time when the run stopped
  bool timed_out = false;
  std::uint64_t events = 0;
  std::uint64_t requests = 0;
  double duplicate_bytes = 0;  // end game: blocks that arrived twice
  std::vector<TimelineSample> timeline;
};

struct SwarmProgress {
  double now_s = 0;
  int completed = 0;
  int leechers = 0;
  std::size_t flows = 0;
};

class Swarm {
 public:
  explicit Swarm(const SwarmSettings& settings);

  // Runs until every leecher has completed or the time limit; `on_progress` is called every
  // `progress_every` events.
  SwarmResult run(const std::function<void(const SwarmProgress&)>& on_progress = {},
                  std::uint64_t progress_every = 100'000);

  const std::vector<SimPeer>& peers() const { return peers_; }
  const std::vector<SimHalf>& halves() const { return halves_; }
  const std::vector<HalfState>& half_states() const { return half_state_; }
  double uploaded(PeerId p) const { return uploaded_[p]; }  // bytes sent so far

 private:
  // Membership and connections (swarm.cpp).
  void join(PeerId p);
  void announce(PeerId p);
  void connect(PeerId a, PeerId b);
  void close_connection(std::uint32_t conn);
  void depart(PeerId p);
  bool connected(PeerId a, PeerId b) const;
  // Choking (swarm.cpp).
  void rechoke(PeerId p, bool full);
  void schedule_fill(PeerId p);
  void apply_unchoke_set(PeerId p, const std::vector<policy::PeerKey>& unchoke);
  void unchoke(HalfId h);
  void choke(HalfId h);
  void set_interest(HalfId h, bool interested);
  double received_so_far(const SimHalf& half) const;
  // What a finished request does to other peers than its receiver: applied at once, or, in a
  // grid step's parallel part, queued and applied after it in the order of the step's finishes
  // (so any number of threads gives the same run).
  struct StepEffect {
    enum class Kind : std::uint8_t { uploaded, end_flow, reschedule, piece_passed };
    std::uint32_t finish = 0;  // index of the finish in its step (the merge order)
    Kind kind = Kind::uploaded;
    std::uint32_t a = 0;  // uploaded: the sender; end_flow: the flow; reschedule: the half;
                          // piece_passed: the receiver
    std::uint32_t b = 0;  // piece_passed: the piece
    double bytes = 0;     // uploaded
  };
  // Scratch and counters of one thread of a step (or of the serial code: `direct_`). One cache
  // line apart from the others'.
  struct alignas(64) StepPart {
    bool deferred = false;     // effects go to `effects` instead of being applied
    std::uint32_t finish = 0;  // the finish being handled
    std::vector<BlockRef> picked;
    std::vector<BlockRef> picked_rest;     // whole-piece requests: the rest of the last piece
    std::vector<policy::PeerKey> cancels;  // receive()'s end-game CANCELs of one block
    std::uint64_t requests = 0;
    double duplicate_bytes = 0;
    std::vector<StepEffect> effects;
  };
  void emit(StepPart& part, const StepEffect& effect);
  void apply(const StepEffect& effect);
  // Transfers (swarm_transfer.cpp).
  void request(HalfId h) { request(h, direct_); }
  void request(HalfId h, StepPart& part);
  int blocks_to_request(const SimHalf& s) const;
  bool request_would_act(HalfId h) const;
  void refill(PeerId p);
  void start_flow(HalfId h);
  void finish_front(HalfId h, StepPart& part);
  void drop_requests(HalfId h, bool credit_partial);
  void receive(PeerId to, PeerId from, const SimRequest& request, std::size_t blocks,
               StepPart& part);
  void cancel_duplicates(PeerId to, PieceIndex piece, int block, PeerId except);
  // Finishes on the grid (swarm_grid.cpp): per step, the halves whose front request ends then,
  // handled together by one event, in parallel by receiver ranges.
  void schedule_grid_finish(HalfId h, TimePoint when);
  void cancel_grid_finish(HalfId h);
  void run_step_finishes(std::int64_t step);
  // HAVEs (swarm_haves.cpp).
  void on_have(PeerId p, PieceIndex piece);
  void flush_haves(PeerId p);
  // What a tick's per-peer part leaves for the serial part: halves whose interest may change,
  // and halves to request from (per receiver sorted, receivers in id order). One cache line
  // each: the parts push to theirs at the same time.
  struct alignas(64) TickOutput {
    std::vector<HalfId> interest;
    std::vector<HalfId> requests;
  };
  struct SentHave {
    PeerId from = 0;
    PieceIndex piece;
    std::uint32_t order = 0;
  };
  void deliver_sent(std::size_t begin, std::size_t end);
  void deliver_all_sent();
  void schedule_have_tick();
  void have_tick();
  void apply_haves(PeerId p, TickOutput& out);
  void complete(PeerId p);
  void settle();
  void schedule_finish(HalfId h);
  // The time grid (swarm_grid.cpp; SwarmSettings::grid): rounding, and control messages that
  // take one step.
  bool gridded() const { return grid_ > Duration::zero(); }
  TimePoint on_grid(TimePoint t) const;  // the first grid point at or after t (t without a grid)
  TimePoint next_step() const;           // the first grid point after now (now without a grid)
  // Engine::after with the time rounded up to the grid.
  EventId after(Duration delay, Engine::Callback callback);
  enum class MessageEffect : std::uint8_t {
    request,  // an UNCHOKE arrived at the half's receiver: it requests
    refill,   // a CHOKE arrived at the peer: it asks its other unchoking neighbours
  };
  void deliver_next_step(MessageEffect effect, std::uint32_t target);
  void deliver_messages();
  // Timeline (swarm.cpp).
  TimelineSample sample() const;
  void record_sample();

  static HalfId reverse(HalfId h) { return h ^ 1U; }
  SimHalf& half(HalfId h) { return halves_[h]; }
  bool is_leecher(PeerId p) const { return p >= static_cast<PeerId>(settings_.seeds); }

  SwarmSettings settings_;
  PieceGeometry geometry_;
  Engine engine_;
  Network network_;
  std::mt19937_64 rng_;
  std::vector<SimPeer> peers_;
  std::vector<SimHalf> halves_;
  std::vector<HalfState> half_state_;     // per half: its hot flags (see HalfState)
  std::vector<RateWindow> rate_windows_;  // per half: its sender's window towards the receiver
  std::vector<std::uint8_t> done_;        // per peer: SimPeer::done, dense for the HAVE path
  // Per peer, bytes sent: dense (80 KB at 10,000 peers, cached), since every finished request
  // adds to its sender's, and a SimPeer is 3.4 KB of mostly cold state.
  std::vector<double> uploaded_;
  std::vector<HalfId> flow_owner_;  // per FlowId: the half it carries
  // Per peer, HAVEs from neighbours not handled yet (one batch, `have_delay` after the first),
  // and per half, its receiver: dense copies, since a HAVE touches one of each per neighbour.
  std::vector<std::vector<HaveNotice>> inboxes_;
  std::vector<PeerId> half_to_;
  std::vector<PeerId> tracker_;                     // present peers, in no order (random picks)
  std::vector<std::uint32_t> tracker_pos_;          // per peer: index in tracker_
  std::vector<policy::ChokeCandidate> candidates_;  // scratch
  std::vector<HaveNotice> notices_;                 // scratch
  std::vector<HalfId> to_request_;                  // scratch
  // Copies of each piece held by present leechers, and their sum: the timeline's C(t) and entropy.
  std::vector<std::int64_t> piece_copies_;
  std::int64_t leecher_copies_ = 0;
  std::vector<TimelineSample> timeline_;
  std::vector<int> capacity_class_;  // per peer; -1: homogeneous links
  double t_min_s_ = 0;
  int have_lane_ = -1;  // engine lane: flush_haves(receiver), have_delay after the first HAVE
  bool have_tick_pending_ = false;     // HaveDelivery::tick: the next tick is scheduled
  std::unique_ptr<Workers> workers_;   // HaveDelivery::tick: the per-peer part's threads
  std::vector<TickOutput> tick_out_;   // per part
  std::vector<HalfId> tick_interest_;  // scratch: every part's interest candidates
  std::vector<SentHave> sent_;         // HaveDelivery::tick: HAVEs not in inboxes yet
  // HaveDelivery::tick: per peer, a bit per piece got since the last tick (words_per_peer_
  // words each), and the bits to clear at the tick.
  std::vector<std::uint64_t> got_window_;
  std::size_t words_per_peer_ = 0;
  std::vector<std::pair<PeerId, PieceIndex>> got_window_list_;
  // Per peer, a bit per piece it has (words_per_peer_ words each): the pickers' have sets
  // again, dense and in peer order, so a HAVE tick's walk over the receivers streams them
  // instead of missing on each picker's own.
  std::vector<std::uint64_t> have_bits_;
  bool has_piece(PeerId p, PieceIndex piece) const {
    return (have_bits_[piece_word(p, piece)] & piece_bit(piece)) != 0;
  }
  std::size_t piece_word(PeerId p, PieceIndex piece) const {
    return p * words_per_peer_ + static_cast<std::size_t>(piece.value()) / 64;
  }
  static std::uint64_t piece_bit(PieceIndex piece) {
    return std::uint64_t{1} << (static_cast<std::uint32_t>(piece.value()) % 64);
  }
  Duration grid_{};  // SwarmSettings::grid; zero: the exact model
  struct Message {
    MessageEffect effect;
    std::uint32_t target;  // a half or a peer
  };
  std::vector<Message> messages_;  // to deliver at the next step, in sending order
  std::vector<Message> delivering_;
  std::uint32_t next_got_order_ = 1;
  int completed_ = 0;
  std::uint64_t requests_ = 0;  // besides those counted in direct_ and parts_
  double duplicate_bytes_ = 0;
  StepPart direct_;  // the serial code's (effects applied at once)
  std::vector<StepPart> parts_;
  std::map<std::int64_t, std::vector<HalfId>> step_finishes_;  // grid step -> halves
  std::vector<HalfId> finishing_;                              // scratch: one step's finishes
  std::vector<StepEffect> step_effects_;                       // scratch: every part's effects
  std::uint64_t grid_finishes_ = 0;
};

}  // namespace starling::sim
