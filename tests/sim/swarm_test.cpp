#include "sim/swarm.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <type_traits>

namespace starling::sim {
namespace {

// The simulator drives the engine's own policy classes, not copies of them.
static_assert(std::is_same_v<decltype(SimPeer::picker), policy::PiecePicker>);
static_assert(std::is_same_v<decltype(SimPeer::choker), policy::Choker>);
static_assert(std::is_same_v<decltype(SimHalf::pipeline), policy::RequestPipeline>);
static_assert(std::is_same_v<TimePoint, policy::TimePoint>);

constexpr double kMiB = 1024.0 * 1024;

SwarmSettings small_swarm(std::uint64_t seed) {
  SwarmSettings s;
  s.leechers = 100;
  s.pieces = 200;
  s.piece_size = std::int64_t{64} * 1024;
  s.up = kMiB;
  s.down = 8 * kMiB;
  s.seed_up = 4 * kMiB;
  s.random_seed = seed;
  return s;
}

TEST(Swarm, EveryPeerCompletesNoSoonerThanTheFluidBounds) {
  const SwarmSettings settings = small_swarm(7);
  Swarm swarm(settings);
  const SwarmResult result = swarm.run();
  ASSERT_FALSE(result.timed_out);
  ASSERT_EQ(result.leechers.size(), 100U);
  const double file = static_cast<double>(settings.file_size());
  // No peer can beat the seed's upload or its own download; the last one cannot beat T_min.
  const double per_peer_bound = std::max(file / settings.seed_up, file / settings.down);
  double last = 0;
  for (const PeerOutcome& peer : result.leechers) {
    ASSERT_GE(peer.completion_s, 0) << "a peer did not complete";
    EXPECT_GE(peer.completion_s, per_peer_bound * (1 - 1e-9));
    last = std::max(last, peer.completion_s);
  }
  EXPECT_DOUBLE_EQ(result.t_min_s, min_distribution_time(settings));
  EXPECT_GE(last, result.t_min_s * (1 - 1e-9));
  EXPECT_LT(last, 3 * result.t_min_s);  // and the real picker and choker get reasonably close
  for (const SimPeer& peer : swarm.peers()) EXPECT_TRUE(peer.picker.check_invariants());
}

TEST(Swarm, SameSeedSameResult) {
  const SwarmResult a = Swarm(small_swarm(3)).run();
  const SwarmResult b = Swarm(small_swarm(3)).run();
  const SwarmResult c = Swarm(small_swarm(4)).run();
  ASSERT_EQ(a.leechers.size(), b.leechers.size());
  bool differs = false;
  for (std::size_t i = 0; i < a.leechers.size(); ++i) {
    EXPECT_EQ(a.leechers[i].completion_s, b.leechers[i].completion_s);
    differs |= a.leechers[i].completion_s != c.leechers[i].completion_s;
  }
  EXPECT_EQ(a.events, b.events);
  EXPECT_TRUE(differs);
}

// Every leecher's completion time and bytes sent, and the run's events, requests and duplicate
// bytes, are the same in `other` as in `one` (which must have completed everyone).
void expect_same_run(const SwarmResult& one, const SwarmResult& other) {
  ASSERT_EQ(other.leechers.size(), one.leechers.size());
  for (std::size_t i = 0; i < one.leechers.size(); ++i) {
    ASSERT_GE(one.leechers[i].completion_s, 0);
    EXPECT_EQ(other.leechers[i].completion_s, one.leechers[i].completion_s) << "peer " << i;
    EXPECT_EQ(other.leechers[i].uploaded, one.leechers[i].uploaded) << "peer " << i;
  }
  EXPECT_EQ(other.events, one.events);
  EXPECT_EQ(other.requests, one.requests);
  EXPECT_EQ(other.duplicate_bytes, one.duplicate_bytes);
}

// `settings` run on one, two and three threads (the latter two with `parallel_finishes`); the
// two-thread run's pickers are checked too.
std::array<SwarmResult, 3> run_on_one_two_three_threads(SwarmSettings settings,
                                                        int parallel_finishes) {
  settings.threads = 1;
  SwarmResult one = Swarm(settings).run();
  settings.parallel_finishes = parallel_finishes;
  settings.threads = 2;
  Swarm two_threads(settings);
  SwarmResult two = two_threads.run();
  for (const SimPeer& peer : two_threads.peers()) EXPECT_TRUE(peer.picker.check_invariants());
  settings.threads = 3;
  SwarmResult three = Swarm(settings).run();
  return {std::move(one), std::move(two), std::move(three)};
}

// The HAVE tick's per-peer part runs on threads, each over a fixed share of the peers: one,
// two or three threads give the very same run (every completion time, every event, every byte).
// Here in the exact model (grid 0), where only the tick uses the threads.
TEST(Swarm, HaveTickGivesTheSameRunOnAnyNumberOfThreads) {
  SwarmSettings settings = small_swarm(5);
  settings.free_riders = 0.1;  // choked peers, interest that never turns into requests
  settings.have_delivery = HaveDelivery::tick;
  settings.grid = std::chrono::milliseconds(0);
  const auto [one, two, three] = run_on_one_two_three_threads(settings, settings.parallel_finishes);
  ASSERT_FALSE(one.timed_out);
  ASSERT_EQ(one.leechers.size(), 100U);
  for (const SwarmResult* other : {&two, &three}) expect_same_run(one, *other);
}

// On the time grid (the default) a step's finishes also run on the threads, each over a range of
// receivers, their effects on other peers merged in a fixed order: 1, 2 or 3 threads, and any
// threshold for waking them (here every step on 2 and 3 threads), give the very same run.
TEST(Swarm, GridStepsGiveTheSameRunOnAnyNumberOfThreads) {
  SwarmSettings settings = small_swarm(5);
  settings.free_riders = 0.1;
  settings.seeds_leave = true;  // departures: connections close between steps
  settings.arrival = Arrival::poisson;
  settings.arrival_rate = 50;
  ASSERT_GT(settings.grid.count(), 0);
  const auto [one, two, three] = run_on_one_two_three_threads(settings, /*parallel_finishes=*/1);
  ASSERT_FALSE(one.timed_out);
  ASSERT_EQ(one.leechers.size(), 100U);
  for (const SwarmResult* other : {&two, &three}) {
    expect_same_run(one, *other);
    for (std::size_t i = 0; i < one.leechers.size() && i < other->leechers.size(); ++i) {
      EXPECT_EQ(other->leechers[i].from_seeds, one.leechers[i].from_seeds) << "peer " << i;
    }
  }
}

// Both HAVE deliveries are the same model up to when a HAVE lands (at most have_delay apart):
// the per-receiver batches of the earlier runs still complete everyone near the bound.
TEST(Swarm, PerReceiverHaveBatchesStillComplete) {
  SwarmSettings settings = small_swarm(7);
  settings.have_delivery = HaveDelivery::per_receiver;
  const SwarmResult receiver = Swarm(settings).run();
  settings.have_delivery = HaveDelivery::tick;
  const SwarmResult tick = Swarm(settings).run();
  ASSERT_FALSE(receiver.timed_out);
  double receiver_mean = 0;
  double tick_mean = 0;
  for (std::size_t i = 0; i < receiver.leechers.size(); ++i) {
    ASSERT_GE(receiver.leechers[i].completion_s, 0);
    receiver_mean += receiver.leechers[i].completion_s / 100;
    tick_mean += tick.leechers[i].completion_s / 100;
  }
  EXPECT_LT(receiver_mean, 1.5 * receiver.t_min_s);
  EXPECT_NEAR(tick_mean, receiver_mean, 0.1 * receiver_mean);
}

// The time grid (the default): every event on a multiple of the grid, so every completion of a
// flash crowd is one; the run stays close to the exact model's, which grid 0 still runs.
TEST(Swarm, TimeGridPutsEveryEventOnTheGridAndStaysCloseToTheExactModel) {
  SwarmSettings settings = small_swarm(7);
  ASSERT_EQ(settings.grid, std::chrono::milliseconds(10));
  const SwarmResult grid = Swarm(settings).run();
  settings.grid = std::chrono::milliseconds(0);
  const SwarmResult exact = Swarm(settings).run();
  ASSERT_FALSE(grid.timed_out);
  ASSERT_FALSE(exact.timed_out);
  double grid_mean = 0;
  double exact_mean = 0;
  int exact_on_grid = 0;
  for (std::size_t i = 0; i < grid.leechers.size(); ++i) {
    const double g = grid.leechers[i].completion_s;
    const double e = exact.leechers[i].completion_s;
    ASSERT_GE(g, 0);
    ASSERT_GE(e, 0);
    EXPECT_NEAR(g * 100, std::round(g * 100), 1e-6) << "peer " << i << " at " << g << " s";
    exact_on_grid += std::abs(e * 100 - std::round(e * 100)) < 1e-6 ? 1 : 0;
    grid_mean += g / 100;
    exact_mean += e / 100;
  }
  EXPECT_LT(exact_on_grid, 10);  // the exact model's flows end at their own times
  EXPECT_GE(grid.end_s, grid.t_min_s * (1 - 1e-9));
  EXPECT_NEAR(grid_mean, exact_mean, 0.05 * exact_mean);
}

// Coarser grids delay control messages and the flows' last requests more, and still complete.
TEST(Swarm, CoarseTimeGridsStillComplete) {
  for (int grid_ms : {1, 50, 100}) {
    SwarmSettings settings = small_swarm(3);
    settings.grid = std::chrono::milliseconds(grid_ms);
    const SwarmResult result = Swarm(settings).run();
    ASSERT_FALSE(result.timed_out) << grid_ms << " ms";
    for (const PeerOutcome& peer : result.leechers) EXPECT_GE(peer.completion_s, 0);
    EXPECT_LT(result.end_s, 2 * result.t_min_s) << grid_ms << " ms";
  }
}

TEST(Swarm, LeechersThatLeaveAndPoissonArrivalsStillComplete) {
  SwarmSettings settings = small_swarm(11);
  settings.seeds_leave = true;
  settings.arrival = Arrival::poisson;
  settings.arrival_rate = 20;
  settings.free_riders = 0.1;
  const SwarmResult result = Swarm(settings).run();
  ASSERT_FALSE(result.timed_out);
  int free_riders = 0;
  for (const PeerOutcome& peer : result.leechers) {
    EXPECT_GE(peer.completion_s, 0);
    free_riders += peer.free_rider ? 1 : 0;
    if (peer.free_rider) {
      EXPECT_EQ(peer.uploaded, 0);
    }
  }
  EXPECT_EQ(free_riders, 10);
}

TEST(Swarm, TimelineFollowsCopiesEntropyAndUtilisationWithoutChangingTheRun) {
  SwarmSettings settings = small_swarm(5);
  const SwarmResult plain = Swarm(settings).run();
  settings.timeline_step_s = 1;
  const SwarmResult sampled = Swarm(settings).run();
  ASSERT_EQ(plain.leechers.size(), sampled.leechers.size());
  for (std::size_t i = 0; i < plain.leechers.size(); ++i) {
    EXPECT_EQ(plain.leechers[i].completion_s, sampled.leechers[i].completion_s);
  }
  const std::vector<TimelineSample>& t = sampled.timeline;
  ASSERT_GE(t.size(), 3U);
  EXPECT_EQ(t.front().t_s, 0);
  EXPECT_EQ(t.front().copies, 1);  // the seed alone
  EXPECT_TRUE(std::isnan(t.front().entropy));
  for (std::size_t i = 1; i < t.size(); ++i) {
    EXPECT_GE(t[i].copies, t[i - 1].copies);  // leechers stay: copies only grow
    EXPECT_GE(t[i].utilisation, 0);
    EXPECT_LE(t[i].utilisation, 1 + 1e-9);
    EXPECT_GT(t[i].entropy, 0.5);  // rarest first keeps the pieces' copies even
  }
  EXPECT_DOUBLE_EQ(t.back().copies, 101);  // the seed and 100 complete leechers
  EXPECT_NEAR(t.back().entropy, 1, 1e-9);
  EXPECT_EQ(t.back().completed, 100);
  // Mid-run the uplinks are busy.
  EXPECT_GT(t[t.size() / 2].utilisation, 0.5);
}

TEST(Swarm, SeedBytesAreAccountedPerLeecher) {
  const SwarmSettings settings = small_swarm(9);
  Swarm swarm(settings);
  const SwarmResult result = swarm.run();
  double from_seed = 0;
  for (const PeerOutcome& peer : result.leechers) {
    EXPECT_GE(peer.from_seeds, 0);
    EXPECT_LE(peer.from_seeds, static_cast<double>(settings.file_size()));
    from_seed += peer.from_seeds;
  }
  EXPECT_DOUBLE_EQ(from_seed, swarm.uploaded(0));
  EXPECT_GE(from_seed, static_cast<double>(settings.file_size()));  // every piece left it once
}

TEST(Swarm, CapacityClassesAreDealtOutAndSetTheBound) {
  SwarmSettings settings = small_swarm(13);
  settings.classes = {{0.5, kMiB, 8 * kMiB}, {0.5, 10 * kMiB, 20 * kMiB}};
  Swarm swarm(settings);
  const SwarmResult result = swarm.run();
  ASSERT_FALSE(result.timed_out);
  int fast = 0;
  double fast_mean = 0;
  double slow_mean = 0;
  for (const PeerOutcome& peer : result.leechers) {
    ASSERT_TRUE(peer.capacity_class == 0 || peer.capacity_class == 1);
    ASSERT_GE(peer.completion_s, 0);
    (peer.capacity_class == 1 ? fast_mean : slow_mean) += peer.completion_s;
    fast += peer.capacity_class;
  }
  EXPECT_EQ(fast, 50);
  // Tit-for-tat: the fast uploaders are served faster.
  EXPECT_LT(fast_mean / 50, slow_mean / 50);
  const double file = static_cast<double>(settings.file_size());
  EXPECT_DOUBLE_EQ(result.t_min_s, min_distribution_time(file, settings.seed_up,
                                                         50 * kMiB + 500 * kMiB, 8 * kMiB, 100));
}

TEST(Swarm, RandomPieceSelectionDrivesTheSamePicker) {
  SwarmSettings settings = small_swarm(2);
  settings.selection = PieceSelection::random;
  const SwarmResult result = Swarm(settings).run();
  ASSERT_FALSE(result.timed_out);
  for (const PeerOutcome& peer : result.leechers) EXPECT_GE(peer.completion_s, 0);
  EXPECT_NE(result.events, Swarm(small_swarm(2)).run().events);
}

TEST(Swarm, TheEnginesRequestPipelineSetsTheDepth) {
  Swarm swarm(small_swarm(6));
  const SwarmResult result = swarm.run();
  ASSERT_FALSE(result.timed_out);
  // Every connection's pipeline was fed: it measured a rate and left slow start on some.
  int measured = 0;
  int past_slow_start = 0;
  for (const SimHalf& half : swarm.halves()) {
    measured += half.pipeline.download_rate() > 0 ? 1 : 0;
    past_slow_start += half.pipeline.in_slow_start() ? 0 : 1;
    EXPECT_GE(half.pipeline.outstanding(), 0);
  }
  EXPECT_GT(measured, 100);
  EXPECT_GT(past_slow_start, 10);

  SwarmSettings fixed = small_swarm(6);
  fixed.engine_pipeline = false;
  const SwarmResult fixed_result = Swarm(fixed).run();
  ASSERT_FALSE(fixed_result.timed_out);
  EXPECT_NE(fixed_result.requests, result.requests);  // a different depth, so other requests
}

// On the grid a connection asks in whole pieces and end game waits until every wanted piece is
// started: under 1.4 requests per piece a peer gets here (1.1 at 2,000 peers), where the
// pipeline's free depth (a tail of one piece and the head of the next per pick) and end game
// per neighbour made ~1.8.
TEST(Swarm, WholePieceRequestsAndLateEndGameCutTheRequestsPerPiece) {
  const SwarmSettings settings = small_swarm(5);
  const SwarmResult whole = Swarm(settings).run();
  SwarmSettings depth_settings = settings;
  depth_settings.whole_piece_requests = false;
  depth_settings.late_end_game = false;
  const SwarmResult depth = Swarm(depth_settings).run();
  ASSERT_FALSE(whole.timed_out);
  ASSERT_FALSE(depth.timed_out);
  const double pieces_got = static_cast<double>(settings.leechers) * settings.pieces;
  EXPECT_LT(static_cast<double>(whole.requests), 1.4 * pieces_got);
  EXPECT_LT(static_cast<double>(whole.requests), 0.85 * static_cast<double>(depth.requests));
  EXPECT_LT(whole.duplicate_bytes, depth.duplicate_bytes);
  // The exact model keeps the earlier rounds' requests: the two settings do nothing there.
  SwarmSettings exact = settings;
  exact.grid = std::chrono::milliseconds(0);
  SwarmSettings exact_depth = depth_settings;
  exact_depth.grid = std::chrono::milliseconds(0);
  const SwarmResult a = Swarm(exact).run();
  const SwarmResult b = Swarm(exact_depth).run();
  EXPECT_EQ(a.requests, b.requests);
  EXPECT_EQ(a.events, b.events);
}

TEST(ClassCounts, RoundToTheLeechers) {
  EXPECT_EQ(class_counts({{1, 1, 1}, {1, 1, 1}}, 101), (std::vector<int>{51, 50}));
  EXPECT_EQ(class_counts({{0.2, 1, 1}, {0.3, 1, 1}, {0.5, 1, 1}}, 10), (std::vector<int>{2, 3, 5}));
  EXPECT_EQ(class_counts({}, 10), std::vector<int>{});
}

TEST(MinDistributionTime, KumarRoss) {
  SwarmSettings s;
  s.leechers = 10;
  s.pieces = 100;
  s.piece_size = std::int64_t{1024} * 1024;  // F = 100 MiB
  s.seed_up = 4 * kMiB;
  s.up = kMiB;
  s.down = 8 * kMiB;
  // max(100 / 4, 100 / 8, 10 * 100 / (4 + 10)) = 71.4 s
  EXPECT_NEAR(min_distribution_time(s), 1000.0 / 14, 1e-9);
  s.leechers = 1;  // the seed's uplink is the limit
  EXPECT_NEAR(min_distribution_time(s), 25, 1e-9);
}

}  // namespace
}  // namespace starling::sim
