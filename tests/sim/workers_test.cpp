#include "sim/workers.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace starling::sim {
namespace {

TEST(Workers, EveryPartRunsOncePerRunAndRunWaitsForAll) {
  for (int threads : {0, 1, 2, 3}) {
    Workers workers(threads);
    const int parts = workers.parts();
    EXPECT_EQ(parts, threads < 1 ? 1 : threads);
    std::vector<int> calls(static_cast<std::size_t>(parts), 0);
    std::atomic<int> total = 0;
    for (int round = 0; round < 200; ++round) {
      workers.run([&](int part, int count) {
        EXPECT_EQ(count, parts);
        ++calls[static_cast<std::size_t>(part)];  // each part writes only its own slot
        total.fetch_add(1);
      });
      // run() returned: every part of this round is done.
      ASSERT_EQ(total.load(), (round + 1) * parts);
    }
    for (int c : calls) EXPECT_EQ(c, 200);
  }
}

TEST(Workers, PartZeroRunsOnTheCallingThread) {
  Workers workers(2);
  const std::thread::id caller = std::this_thread::get_id();
  std::thread::id part0;
  std::thread::id part1;
  workers.run([&](int part, int) { (part == 0 ? part0 : part1) = std::this_thread::get_id(); });
  EXPECT_EQ(part0, caller);
  EXPECT_NE(part1, caller);
}

}  // namespace
}  // namespace starling::sim
