// Tunables of a simulated swarm, and the fluid-model bound its completion times are judged by.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "policy/choker.hpp"
#include "policy/piece_picker.hpp"
#include "policy/request_pipeline.hpp"
#include "sim/network.hpp"

namespace starling::sim {

enum class Arrival {
  flash,    // every leecher joins at time 0 (a flash crowd)
  poisson,  // leechers join one by one, exponential gaps at `arrival_rate` per second
};

// A share of the leechers with their own access links (a scenario's capacity class).
struct CapacityClass {
  double fraction = 1;  // relative weight; the classes' counts are rounded to sum to `leechers`
  double up = 1024.0 * 1024;
  double down = 8 * 1024.0 * 1024;
};

enum class PieceSelection {
  rarest_first,  // the picker's normal mode (random first for the first pieces)
  random,        // the same picker kept in its random-first mode for the whole download
};

enum class HaveDelivery {
  // Every `have_delay` a global tick: each peer handles the HAVEs sent to it since the previous
  // tick (each arrives 0 .. have_delay after it was sent). The per-peer part (availability in the
  // picker, the interest counts) runs on `threads` threads, each a fixed share of the peers; the
  // rest (interest changes, requests) follows in a fixed order, so any thread count gives the
  // same run.
  tick,
  // Each peer handles the HAVEs that reached it in one batch, have_delay after the first one
  // (the first arrives exactly have_delay late, later ones less). One thread; the model of the
  // runs in docs/simulation.md before the tick.
  per_receiver,
};

struct SwarmSettings {
  int leechers = 100;
  int seeds = 1;  // initial seeds; they never leave
  std::int32_t pieces = 1000;
  std::int64_t piece_size = std::int64_t{256} * 1024;
  // Access link capacities, bytes/s.
  double up = 1024.0 * 1024;
  double down = 8 * 1024.0 * 1024;
  double seed_up = 4 * 1024.0 * 1024;
  // A request's round trip: the first data of a request sent to an idle connection arrives this
  // long after it. Requests queued behind a running one cost nothing (they are pipelined).
  std::chrono::milliseconds latency{50};
  // A HAVE reaches a neighbour this long after the piece passed; a peer handles the HAVEs that
  // arrived meanwhile in one batch. Besides being a one-way delay, batching keeps each peer's
  // picker in cache while its availability is updated (the bulk of the simulator's work).
  std::chrono::milliseconds have_delay{100};
  HaveDelivery have_delivery = HaveDelivery::tick;
  // The time grid (0: the exact event-driven model). With a grid, every event falls on a multiple
  // of it: the network's max-min rates are refilled once per step, for the nodes whose flows
  // changed during the step; a request finishes at the step end after its last byte (a flow that
  // goes on with the next queued request keeps the bytes it moved meanwhile, so only a flow's
  // last request idles its link for the rest of the step); control messages take one step:
  // an UNCHOKE is answered with REQUESTs, a CHOKE with requests to other peers, an INTERESTED
  // (and a completion, a departure) with the sender's choker, all at the next step; a request's
  // round trip (`latency`) and the rechoke phases are rounded up to the grid.
  std::chrono::milliseconds grid{10};
  // On the grid, the requests finishing in one step are handled on `threads` threads when there
  // are at least this many (fewer are not worth waking the threads for). The run is the same
  // for any value and any thread count.
  int parallel_finishes = 64;
  int threads = 1;  // for HaveDelivery::tick and the grid's steps; the same result for any count
  // Like a tracker reply: a joining peer connects to this many random peers of the swarm (those
  // with a free connection), and no peer holds more than `max_connections`.
  int neighbours = 50;
  int max_connections = 80;
  // A peer left with fewer neighbours than this asks the tracker again every `reannounce`.
  int min_neighbours = 20;
  std::chrono::seconds reannounce{60};
  // How deep each connection's request queue is. With `engine_pipeline`, the engine's
  // policy::RequestPipeline decides (blocks; a connection asks for more once a piece's worth, or
  // the whole depth if smaller, is free, so requests stay whole pieces once the depth allows).
  // Otherwise a fixed `requests_per_connection` requests of a piece's worth of blocks each.
  bool engine_pipeline = true;
  // On the time grid only (the exact model keeps the earlier rounds' runs): with
  // `engine_pipeline`, a connection asks in whole pieces once its depth is a piece or more (the
  // depth rounded down to whole pieces), so a request is one piece, not the tail of one and the
  // head of the next; and a picker enters end game only once every piece it wants is started
  // or had (PickerSettings::end_game_only_when_all_started), not whenever one neighbour has
  // nothing free for it. Both cut the requests per piece (each request is a flow segment and a
  // finish); the depth lost to the rounding is less than a piece.
  bool whole_piece_requests = true;
  bool late_end_game = true;
  policy::PipelineSettings pipeline;
  int requests_per_connection = 2;
  // Leechers' links by class (empty: every leecher has `up` and `down`). Classes are dealt out
  // at random, independently of free riding.
  std::vector<CapacityClass> classes;
  PieceSelection selection = PieceSelection::rarest_first;
  // Fraction of leechers that upload nothing (never unchoke anyone).
  double free_riders = 0;
  // A leecher leaves as soon as it completes; otherwise it stays and seeds.
  bool seeds_leave = false;
  Arrival arrival = Arrival::flash;
  double arrival_rate = 10;  // leechers per second, for Arrival::poisson
  std::uint64_t random_seed = 1;
  // Simulated time after which the run gives up (0: 50 x T_min plus the arrival period).
  std::chrono::seconds time_limit{0};
  // Simulated seconds between timeline samples (copies, entropy, utilisation); 0: none.
  double timeline_step_s = 0;
  policy::PickerSettings picker;  // `seed` is replaced per peer
  policy::ChokerSettings choker;
  NetworkSettings network;

  std::int64_t file_size() const { return static_cast<std::int64_t>(pieces) * piece_size; }
};

// Kumar & Ross's lower bound on the time for every leecher to have the file (one server of
// upload u_s, leechers of upload u_i and download d_i):
//   max(F / u_s, F / d_min, n F / (u_s + sum u_i)).
// No single leecher can finish before max(F / u_s, F / d_i): every byte leaves the seeds once.
// This one assumes homogeneous leechers (`up`, `down`); the Swarm reports the bound for the
// links it actually dealt out.
double min_distribution_time(const SwarmSettings& settings);
double min_distribution_time(double file_bytes, double seeds_up, double leechers_up_sum,
                             double min_down, int leechers);

// How many leechers each class gets: fractions normalised, rounded, the remainder to the last.
std::vector<int> class_counts(const std::vector<CapacityClass>& classes, int leechers);

}  // namespace starling::sim
