#include "sim/swarm.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <type_traits>

namespace starling::sim {
namespace {

// The simulator drives the engine's own policy classes, not copies of them.
static_assert(std::is_same_v<decltype(SimPeer::picker), policy::PiecePicker>);
static_assert(std::is_same_v<decltype(SimPeer::choker), policy::Choker>);
static_assert(std::is_same_v<TimePoint, policy::TimePoint>);

constexpr double kMiB = 1024.0 * 1024;

SwarmSettings small_swarm(std::uint64_t seed) {
  SwarmSettings s;
  s.leechers = 100;
  s.pieces = 200;
  s.piece_size = 64 * 1024;
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

TEST(MinDistributionTime, KumarRoss) {
  SwarmSettings s;
  s.leechers = 10;
  s.pieces = 100;
  s.piece_size = 1024 * 1024;  // F = 100 MiB
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
