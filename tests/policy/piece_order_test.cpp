#include "policy/piece_order.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace starling::policy {
namespace {

// The pieces of one bucket, sorted, e.g. "1 4".
std::string bucket(const PieceOrder& order, int priority, int availability) {
  std::vector<int> ids;
  for (PieceIndex p : order.bucket(priority, availability)) ids.push_back(p.value());
  std::sort(ids.begin(), ids.end());
  std::string out;
  for (int id : ids) out += (out.empty() ? "" : " ") + std::to_string(id);
  return out;
}

TEST(PiecePickerOrder, BucketsGroupPiecesByAvailability) {
  PieceOrder order(6);
  std::vector<std::int32_t> avail = {2, 0, 1, 2, 0, 0};
  for (int p = 0; p < 5; ++p) order.insert(PieceIndex(p), 4, avail[static_cast<std::size_t>(p)]);
  EXPECT_EQ(order.bucket_count(4), 3);
  EXPECT_EQ(bucket(order, 4, 0), "1 4");
  EXPECT_EQ(bucket(order, 4, 1), "2");
  EXPECT_EQ(bucket(order, 4, 2), "0 3");
  EXPECT_EQ(order.size(), 5u);
  EXPECT_FALSE(order.contains(PieceIndex(5)));
  EXPECT_TRUE(order.check(avail));
}

TEST(PiecePickerOrder, IncrementAndDecrementAreOneSwap) {
  PieceOrder order(4);
  std::vector<std::int32_t> avail(4, 1);
  for (int p = 0; p < 4; ++p) order.insert(PieceIndex(p), 4, 1);
  const std::uint64_t before = order.moves();
  order.increment(PieceIndex(1), 4, 1);
  avail[1] = 2;
  EXPECT_LE(order.moves() - before, 1u);
  EXPECT_EQ(bucket(order, 4, 2), "1");
  order.decrement(PieceIndex(2), 4, 1);
  avail[2] = 0;
  EXPECT_LE(order.moves() - before, 2u);
  EXPECT_EQ(bucket(order, 4, 0), "2");
  EXPECT_EQ(bucket(order, 4, 1), "0 3");
  EXPECT_TRUE(order.check(avail));
  // The empty top bucket is trimmed when its last piece leaves.
  order.decrement(PieceIndex(1), 4, 2);
  avail[1] = 1;
  EXPECT_EQ(order.bucket_count(4), 2);
  EXPECT_TRUE(order.check(avail));
}

TEST(PiecePickerOrder, LevelsAreSeparate) {
  PieceOrder order(3);
  order.insert(PieceIndex(0), 7, 5);
  order.insert(PieceIndex(1), 1, 0);
  EXPECT_EQ(order.level(7).size(), 1u);
  EXPECT_EQ(order.level(1).size(), 1u);
  EXPECT_TRUE(order.level(4).empty());
  EXPECT_EQ(bucket(order, 7, 5), "0");
  EXPECT_TRUE(order.bucket(7, 9).empty());
  order.erase(PieceIndex(0), 7, 5);
  EXPECT_TRUE(order.level(7).empty());
  EXPECT_EQ(order.bucket_count(7), 0);
  EXPECT_TRUE(order.check({0, 0, 0}));
}

TEST(PiecePickerOrder, RandomInsertEraseAndMovesKeepTheInvariant) {
  const int n = 64;
  PieceOrder order(n);
  std::vector<std::int32_t> avail(n, 0);
  std::vector<int> prio(n, 0);  // 0: not in the order
  std::uint64_t x = 99;
  auto next = [&x](int m) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<int>((x >> 33) % static_cast<std::uint64_t>(m));
  };
  for (int step = 0; step < 20000; ++step) {
    const int p = next(n);
    const auto i = static_cast<std::size_t>(p);
    const PieceIndex piece(p);
    switch (next(4)) {
      case 0:
        if (prio[i] == 0) {
          prio[i] = 1 + next(max_priority);
          order.insert(piece, prio[i], avail[i]);
        } else {
          order.erase(piece, prio[i], avail[i]);
          prio[i] = 0;
        }
        break;
      case 1:
      case 2:
        if (prio[i] > 0) order.increment(piece, prio[i], avail[i]);
        ++avail[i];
        break;
      default:
        if (avail[i] == 0) break;
        if (prio[i] > 0) order.decrement(piece, prio[i], avail[i]);
        --avail[i];
        break;
    }
    ASSERT_TRUE(order.check(avail)) << "step " << step;
  }
}

}  // namespace
}  // namespace starling::policy
