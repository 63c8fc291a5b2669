#include "sim/slides_model.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

namespace starling::sim {
namespace {

constexpr double kMiB = 1024.0 * 1024;

// n peers in all (one seed, n - 1 leechers), T = 1 MiB at 1 MiB/s = 1 s.
SlidesResult run_total(int n, double file = kMiB, double up = kMiB) {
  return run_slides_model(SlidesSettings{n - 1, file, up});
}

TEST(SlidesModel, PowerOfTwoPeersCompleteInExactlyTLog2N) {
  for (int n : {2, 4, 8, 16, 64, 1024}) {
    const SlidesResult r = run_total(n);
    ASSERT_EQ(r.completion_s.size(), static_cast<std::size_t>(n - 1));
    const double last = *std::max_element(r.completion_s.begin(), r.completion_s.end());
    EXPECT_DOUBLE_EQ(r.round_s, 1.0);
    EXPECT_DOUBLE_EQ(last, std::log2(n)) << "n = " << n;
    EXPECT_DOUBLE_EQ(r.predicted_last_s, std::log2(n));
  }
}

TEST(SlidesModel, HoldersDoubleEveryRound) {
  // 16 peers, T = 2 s: after round k, 2^k peers have the file (2^k - 1 leechers).
  const SlidesResult r = run_total(16, 4 * kMiB, 2 * kMiB);
  for (int round = 1; round <= 4; ++round) {
    const auto done = std::count_if(r.completion_s.begin(), r.completion_s.end(),
                                    [&](double t) { return t >= 0 && t <= 2.0 * round; });
    EXPECT_EQ(done, (1 << round) - 1) << "round " << round;
  }
}

TEST(SlidesModel, OtherSizesTakeTheNextWholeRound) {
  for (int n : {3, 5, 100, 1000}) {
    const SlidesResult r = run_total(n);
    const double last = *std::max_element(r.completion_s.begin(), r.completion_s.end());
    EXPECT_DOUBLE_EQ(last, std::ceil(std::log2(n))) << "n = " << n;
    EXPECT_TRUE(
        std::all_of(r.completion_s.begin(), r.completion_s.end(), [](double t) { return t > 0; }));
  }
}

TEST(SlidesModel, RejectsAnEmptySwarm) {
  EXPECT_TRUE(run_slides_model(SlidesSettings{0, kMiB, kMiB}).completion_s.empty());
}

}  // namespace
}  // namespace starling::sim
