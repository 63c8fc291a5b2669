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

// Raises a piece's availability from 0 to `to` (the order counts it, stored or not).
void raise(PieceOrder& order, int piece, int to) {
  while (order.availability(PieceIndex(piece)) < to) order.add(PieceIndex(piece));
}

TEST(PiecePickerOrder, BucketsGroupPiecesByAvailability) {
  PieceOrder order(6);
  const std::vector<std::int32_t> avail = {2, 0, 1, 2, 0, 0};
  for (int p = 0; p < 6; ++p) raise(order, p, avail[static_cast<std::size_t>(p)]);
  for (int p = 0; p < 5; ++p) order.insert(PieceIndex(p), 4);
  EXPECT_EQ(order.bucket_count(4), 3);
  EXPECT_EQ(bucket(order, 4, 0), "1 4");
  EXPECT_EQ(bucket(order, 4, 1), "2");
  EXPECT_EQ(bucket(order, 4, 2), "0 3");
  EXPECT_EQ(order.size(), 5u);
  EXPECT_FALSE(order.contains(PieceIndex(5)));
  EXPECT_EQ(order.priority(PieceIndex(0)), 4);
  EXPECT_TRUE(order.check());
}

TEST(PiecePickerOrder, AddAndRemoveAreOneSwap) {
  PieceOrder order(4);
  for (int p = 0; p < 4; ++p) {
    raise(order, p, 1);
    order.insert(PieceIndex(p), 4);
  }
  const std::uint64_t before = order.moves();
  order.add(PieceIndex(1));
  EXPECT_EQ(order.availability(PieceIndex(1)), 2);
  EXPECT_LE(order.moves() - before, 1u);
  EXPECT_EQ(bucket(order, 4, 2), "1");
  order.remove(PieceIndex(2));
  EXPECT_EQ(order.availability(PieceIndex(2)), 0);
  EXPECT_LE(order.moves() - before, 2u);
  EXPECT_EQ(bucket(order, 4, 0), "2");
  EXPECT_EQ(bucket(order, 4, 1), "0 3");
  EXPECT_TRUE(order.check());
  // The empty top bucket is trimmed when its last piece leaves.
  order.remove(PieceIndex(1));
  EXPECT_EQ(order.bucket_count(4), 2);
  EXPECT_TRUE(order.check());
}

TEST(PiecePickerOrder, AvailabilityIsCountedForPiecesNotStored) {
  PieceOrder order(3);
  order.add(PieceIndex(2));
  order.add(PieceIndex(2));
  order.remove(PieceIndex(2));
  EXPECT_FALSE(order.contains(PieceIndex(2)));
  EXPECT_EQ(order.availability(PieceIndex(2)), 1);
  EXPECT_EQ(order.moves(), 0u);
  // Stored later, it goes straight into its bucket; erased, it keeps its count.
  order.insert(PieceIndex(2), 3);
  EXPECT_EQ(bucket(order, 3, 1), "2");
  order.erase(PieceIndex(2));
  EXPECT_EQ(order.availability(PieceIndex(2)), 1);
  EXPECT_TRUE(order.check());
}

TEST(PiecePickerOrder, LevelsAreSeparate) {
  PieceOrder order(3);
  raise(order, 0, 5);
  order.insert(PieceIndex(0), 7);
  order.insert(PieceIndex(1), 1);
  EXPECT_EQ(order.level(7).size(), 1u);
  EXPECT_EQ(order.level(1).size(), 1u);
  EXPECT_TRUE(order.level(4).empty());
  EXPECT_EQ(bucket(order, 7, 5), "0");
  EXPECT_EQ(order.priority(PieceIndex(1)), 1);
  EXPECT_TRUE(order.bucket(7, 9).empty());
  order.erase(PieceIndex(0));
  EXPECT_TRUE(order.level(7).empty());
  EXPECT_EQ(order.bucket_count(7), 0);
  EXPECT_TRUE(order.check());
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
          order.insert(piece, prio[i]);
        } else {
          order.erase(piece);
          prio[i] = 0;
        }
        break;
      case 1:
      case 2:
        order.add(piece);
        ++avail[i];
        break;
      default:
        if (avail[i] == 0) break;
        order.remove(piece);
        --avail[i];
        break;
    }
    ASSERT_TRUE(order.check()) << "step " << step;
    for (int q = 0; q < n; ++q) {
      const auto j = static_cast<std::size_t>(q);
      ASSERT_EQ(order.availability(PieceIndex(q)), avail[j]) << "step " << step;
      ASSERT_EQ(order.contains(PieceIndex(q)), prio[j] > 0) << "step " << step;
      if (prio[j] > 0) {
        ASSERT_EQ(order.priority(PieceIndex(q)), prio[j]) << "step " << step;
      }
    }
  }
}

}  // namespace
}  // namespace starling::policy
