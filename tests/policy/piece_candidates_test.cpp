#include "policy/piece_candidates.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace starling::policy {
namespace {

Bitfield all_of(int n) {
  return Bitfield(static_cast<std::size_t>(n), true);
}

void raise(PieceCandidates& c, int piece, int to) {
  while (c.availability(PieceIndex(piece)) < to) c.add(PieceIndex(piece));
}

TEST(PieceCandidates, SetsCountsAndAvailability) {
  PieceCandidates c(6);
  for (int p = 0; p < 5; ++p) c.insert(PieceIndex(p), p == 2 ? 6 : 4);
  EXPECT_EQ(c.size(), 5U);
  EXPECT_EQ(c.size(4), 4U);
  EXPECT_EQ(c.size(6), 1U);
  EXPECT_TRUE(c.contains(PieceIndex(2)));
  EXPECT_FALSE(c.contains(PieceIndex(5)));
  EXPECT_EQ(c.priority(PieceIndex(2)), 6);
  EXPECT_EQ(c.priority(PieceIndex(5)), 0);
  c.erase(PieceIndex(2));
  c.erase(PieceIndex(5));  // not a candidate: nothing happens
  EXPECT_EQ(c.size(), 4U);
  EXPECT_EQ(c.size(6), 0U);
  // Availability is kept for every piece, candidate or not, and never goes below zero.
  c.add(PieceIndex(5));
  c.add(PieceIndex(5));
  c.remove(PieceIndex(5));
  EXPECT_EQ(c.availability(PieceIndex(5)), 1);
  c.remove(PieceIndex(5));
  c.remove(PieceIndex(5));
  EXPECT_EQ(c.availability(PieceIndex(5)), 0);
  EXPECT_TRUE(c.check());
}

TEST(PieceCandidates, AvailabilitySaturatesInsteadOfWrapping) {
  PieceCandidates c(1);
  c.insert(PieceIndex(0), 4);
  raise(c, 0, 70000 - 5536);  // 64,464
  for (int i = 0; i < 2000; ++i) c.add(PieceIndex(0));
  EXPECT_EQ(c.availability(PieceIndex(0)), 65534);
  const PieceCandidates::Rarest r = c.rarest(4, all_of(1));
  EXPECT_EQ(r.count, 1);  // still a candidate the scan finds
  EXPECT_EQ(r.availability, 65534);
}

TEST(PieceCandidates, RarestIsTheLowestAvailabilityAmongThePeersCandidates) {
  PieceCandidates c(10);
  const std::vector<int> avail = {3, 1, 2, 1, 0, 5, 1, 2, 4, 0};
  for (int p = 0; p < 10; ++p) {
    raise(c, p, avail[static_cast<std::size_t>(p)]);
    if (p != 4) c.insert(PieceIndex(p), 4);  // 4 is had or started: not a candidate
  }
  Bitfield has(10);
  for (int p : {0, 1, 3, 4, 5, 6, 7}) has.set(static_cast<std::size_t>(p));
  const PieceCandidates::Rarest r = c.rarest(4, has);
  EXPECT_EQ(r.availability, 1);
  EXPECT_EQ(r.count, 3);  // pieces 1, 3, 6 (9 is rarer, but the peer lacks it)
  EXPECT_EQ(c.nth(4, has, 1, 0), PieceIndex(1));
  EXPECT_EQ(c.nth(4, has, 1, 1), PieceIndex(3));
  EXPECT_EQ(c.nth(4, has, 1, 2), PieceIndex(6));
  EXPECT_EQ(c.count(4, has), 6);  // 4 is not a candidate
  EXPECT_EQ(c.nth(4, has, -1, 5), PieceIndex(7));
  // Another level is another set.
  EXPECT_EQ(c.rarest(5, has).count, 0);
  EXPECT_EQ(c.count(5, has), 0);
  // A peer with none of the candidates, and a bitfield of the wrong size.
  EXPECT_EQ(c.rarest(4, Bitfield(10)).count, 0);
  EXPECT_EQ(c.rarest(4, Bitfield(11, true)).count, 0);
}

// The vectorised scans (where the CPU has AVX2) and the portable ones give the same answers for
// every size around the 16-piece chunks and 64-piece words, random sets and availabilities.
TEST(PieceCandidates, VectorisedAndPortableScansAgree) {
  std::uint64_t x = 12345;
  auto next = [&x](std::uint64_t m) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<int>((x >> 33) % m);
  };
  for (int n : {1, 7, 15, 16, 17, 63, 64, 65, 129, 1000, 4096, 4097, 9000}) {
    for (int round = 0; round < 6; ++round) {
      PieceCandidates c(n);
      Bitfield has(static_cast<std::size_t>(n));
      const int spread = round < 3 ? 3 : 40;  // many ties, or few
      for (int p = 0; p < n; ++p) {
        raise(c, p, next(static_cast<std::uint64_t>(spread)));
        if (next(4) != 0) c.insert(PieceIndex(p), next(3) == 0 ? 2 : 4);
        if (next(round % 2 == 0 ? 2 : 50) == 0) has.set(static_cast<std::size_t>(p));
      }
      for (int prio : {2, 4}) {
        const PieceCandidates::Rarest fast = c.rarest(prio, has);
        const PieceCandidates::Rarest slow = c.rarest_portable(prio, has);
        ASSERT_EQ(fast.count, slow.count) << "n " << n << " round " << round;
        if (fast.count == 0) continue;
        ASSERT_EQ(fast.availability, slow.availability) << "n " << n;
        for (int k = 0; k < fast.count; k += 1 + fast.count / 7) {
          EXPECT_EQ(c.nth(prio, has, fast.availability, k),
                    c.nth_portable(prio, has, fast.availability, k))
              << "n " << n << " k " << k;
        }
        const int any = c.count(prio, has);
        for (int k = 0; k < any; k += 1 + any / 7) {
          EXPECT_EQ(c.nth(prio, has, -1, k), c.nth_portable(prio, has, -1, k));
        }
        // The answer is right, not just the same: the k-th match by brute force.
        int seen = 0;
        for (int p = 0; p < n; ++p) {
          const PieceIndex piece(p);
          if (!has.get(static_cast<std::size_t>(p)) || c.priority(piece) != prio) continue;
          EXPECT_GE(c.availability(piece), fast.availability);
          if (c.availability(piece) != fast.availability) continue;
          if (seen++ == fast.count - 1) {
            EXPECT_EQ(c.nth(prio, has, fast.availability, fast.count - 1), piece);
          }
        }
        EXPECT_EQ(seen, fast.count);
      }
      EXPECT_TRUE(c.check());
    }
  }
}

}  // namespace
}  // namespace starling::policy
