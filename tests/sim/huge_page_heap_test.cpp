#include "sim/huge_page_heap.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <vector>

namespace starling::sim {
namespace {

TEST(HugePageHeap, SmallRequestsAdviseNothing) {
  EXPECT_EQ(reserve_huge_page_heap(4096), 0U);
}

// The reserved range goes back to malloc: allocations afterwards work and hold what is written.
TEST(HugePageHeap, HeapStillServesAllocationsAfterwards) {
  const std::size_t advised = reserve_huge_page_heap(std::size_t{64} << 20);
#if defined(__linux__) && defined(__GLIBC__)
  EXPECT_GT(advised, 0U);
  EXPECT_EQ(advised % (std::size_t{2} << 20), 0U);
#else
  EXPECT_EQ(advised, 0U);
#endif
  std::vector<std::unique_ptr<char[]>> blocks;
  for (int i = 0; i < 256; ++i) {
    blocks.push_back(std::make_unique<char[]>(40 * 1024));
    std::memset(blocks.back().get(), i, 40 * 1024);
  }
  for (int i = 0; i < 256; ++i) {
    EXPECT_EQ(blocks[static_cast<std::size_t>(i)][40 * 1024 - 1], static_cast<char>(i));
  }
}

}  // namespace
}  // namespace starling::sim
