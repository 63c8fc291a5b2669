#include "policy/super_seed.hpp"

#include <gtest/gtest.h>

#include <set>

namespace starling::policy {
namespace {

constexpr std::int64_t kPiece = 256 * 1024;

Bitfield bits(const std::string& pattern) {
  Bitfield b(pattern.size());
  for (std::size_t i = 0; i < pattern.size(); ++i) b.set(i, pattern[i] == '1');
  return b;
}

TEST(SuperSeed, GivesEveryPieceOnceBeforeAnyTwice) {
  SuperSeed seed(8, kPiece, {.pieces_per_peer = 1, .bytes_per_peer = 0});
  const Bitfield none(8);
  std::vector<int> given(8, 0);
  // Four peers, each told of one piece at a time; each "downloads" its piece and asks for more.
  for (std::uint32_t p = 0; p < 4; ++p) seed.add_peer(PeerKey(p));
  std::vector<Bitfield> has(4, none);
  for (int round = 0; round < 2; ++round) {
    for (std::uint32_t p = 0; p < 4; ++p) {
      const auto told = seed.top_up(PeerKey(p), has[p]);
      ASSERT_EQ(told.size(), 1U);
      const auto piece = told.front();
      ++given[static_cast<std::size_t>(piece.value())];
      has[p].set(static_cast<std::size_t>(piece.value()));
      seed.peer_has(PeerKey(p), piece);
    }
  }
  // Eight reveals over eight pieces: every piece exactly once.
  for (int g : given) EXPECT_EQ(g, 1);
  // The ninth reveal is a second copy, for a piece that peer lacks and one peer holds.
  const auto ninth = seed.top_up(PeerKey(0), has[0]);
  ASSERT_EQ(ninth.size(), 1U);
  EXPECT_FALSE(has[0][static_cast<std::size_t>(ninth.front().value())]);
  EXPECT_EQ(seed.given(ninth.front()), 2);
}

TEST(SuperSeed, KeepsTheGivenNumberOfPiecesInFlight) {
  SuperSeed seed(16, kPiece, {.pieces_per_peer = 3, .bytes_per_peer = 0});
  seed.add_peer(PeerKey(7));
  Bitfield has(16);
  auto told = seed.top_up(PeerKey(7), has);
  ASSERT_EQ(told.size(), 3U);
  EXPECT_TRUE(seed.top_up(PeerKey(7), has).empty());  // still working on those three
  has.set(static_cast<std::size_t>(told[1].value()));
  seed.peer_has(PeerKey(7), told[1]);
  const auto next = seed.top_up(PeerKey(7), has);
  ASSERT_EQ(next.size(), 1U);
  EXPECT_NE(next.front(), told[0]);
  EXPECT_NE(next.front(), told[2]);
  EXPECT_TRUE(seed.revealed(PeerKey(7), next.front()));
}

TEST(SuperSeed, PrefersPiecesFewestPeersHave) {
  // Nothing given yet; peers 1 and 2 have pieces 0-2 and 0-1 from elsewhere: peer 3 is told of
  // piece 3 (nobody has it) first, then 2 (one holder).
  SuperSeed seed(4, kPiece, {.pieces_per_peer = 2, .bytes_per_peer = 0});
  for (std::uint32_t p = 1; p <= 3; ++p) seed.add_peer(PeerKey(p));
  for (int piece : {0, 1, 2}) seed.peer_has(PeerKey(1), PieceIndex(piece));
  for (int piece : {0, 1}) seed.peer_has(PeerKey(2), PieceIndex(piece));
  const auto told = seed.top_up(PeerKey(3), bits("0000"));
  ASSERT_EQ(told.size(), 2U);
  EXPECT_EQ(told[0], PieceIndex(3));
  EXPECT_EQ(told[1], PieceIndex(2));
}

TEST(SuperSeed, NeverTellsAPeerOfWhatItHasOrWasToldBefore) {
  SuperSeed seed(6, kPiece, {.pieces_per_peer = 10, .bytes_per_peer = 0});
  seed.add_peer(PeerKey(1));
  const auto told = seed.top_up(PeerKey(1), bits("110100"));
  std::set<int> pieces;
  for (auto piece : told) pieces.insert(piece.value());
  EXPECT_EQ(pieces, (std::set<int>{2, 4, 5}));
  EXPECT_TRUE(seed.top_up(PeerKey(1), bits("110100")).empty());
}

TEST(SuperSeed, AChokedPeersPiecesGoToOthers) {
  SuperSeed seed(2, kPiece, {.pieces_per_peer = 1, .bytes_per_peer = 0});
  seed.add_peer(PeerKey(1));
  seed.add_peer(PeerKey(2));
  const auto first = seed.top_up(PeerKey(1), bits("00"));
  ASSERT_EQ(first.size(), 1U);
  seed.release(PeerKey(1), bits("00"));
  EXPECT_EQ(seed.given(first.front()), 0);
  // Peer 2 may now be given the same piece (both have given count 0; it is not forced, but the
  // count says nobody is carrying it).
  const auto second = seed.top_up(PeerKey(2), bits("00"));
  ASSERT_EQ(second.size(), 1U);
  // Peer 1 keeps knowing of its first piece and is told of the other one after the unchoke.
  EXPECT_TRUE(seed.revealed(PeerKey(1), first.front()));
  const auto again = seed.top_up(PeerKey(1), bits("00"));
  ASSERT_EQ(again.size(), 1U);
  EXPECT_NE(again.front(), first.front());
}

TEST(SuperSeed, AChokedPeerIsTeasedWithOnePieceThatStaysFree) {
  SuperSeed seed(3, kPiece, {.pieces_per_peer = 1, .bytes_per_peer = 0});
  seed.add_peer(PeerKey(1));
  seed.add_peer(PeerKey(2));
  const auto teased = seed.tease(PeerKey(1), bits("000"));
  ASSERT_TRUE(teased.has_value());
  EXPECT_TRUE(seed.revealed(PeerKey(1), *teased));
  EXPECT_EQ(seed.given(*teased), 0);
  // Told of one piece it lacks already: no second tease until it has that one.
  EXPECT_FALSE(seed.tease(PeerKey(1), bits("000")).has_value());
  Bitfield has(3);
  has.set(static_cast<std::size_t>(teased->value()));
  seed.peer_has(PeerKey(1), *teased);
  EXPECT_TRUE(seed.tease(PeerKey(1), has).has_value());
  // Unchoked, it is given pieces as usual (one here), the teased one not counted.
  EXPECT_EQ(seed.top_up(PeerKey(1), has).size(), 1U);
}

TEST(SuperSeed, ADepartedPeersPiecesAndHoldingsAreForgotten) {
  SuperSeed seed(3, kPiece, {.pieces_per_peer = 1, .bytes_per_peer = 0});
  seed.add_peer(PeerKey(1));
  seed.add_peer(PeerKey(2));
  seed.peer_has(PeerKey(1), PieceIndex(0));
  seed.peer_has(PeerKey(1), PieceIndex(1));
  const auto told = seed.top_up(PeerKey(1), bits("110"));
  ASSERT_EQ(told, std::vector<PieceIndex>{PieceIndex(2)});
  seed.remove_peer(PeerKey(1), bits("110"));
  EXPECT_EQ(seed.given(PieceIndex(2)), 0);
  // With peer 1 gone, nobody holds 0 or 1 and nobody carries 2: all equal for peer 2.
  EXPECT_FALSE(seed.revealed(PeerKey(1), PieceIndex(2)));
  EXPECT_EQ(seed.top_up(PeerKey(2), bits("000")).size(), 1U);
}

TEST(SuperSeed, SmallPiecesAreGivenOutEnoughBytesAtATime) {
  // 16 KiB pieces and a 64 KiB minimum: four pieces, not two.
  SuperSeed seed(100, 16 * 1024, {.pieces_per_peer = 2, .bytes_per_peer = 64 * 1024});
  seed.add_peer(PeerKey(1));
  EXPECT_EQ(seed.top_up(PeerKey(1), Bitfield(100)).size(), 4U);
  SuperSeed big(100, 4 << 20, {.pieces_per_peer = 2, .bytes_per_peer = 64 * 1024});
  big.add_peer(PeerKey(1));
  EXPECT_EQ(big.top_up(PeerKey(1), Bitfield(100)).size(), 2U);
}

TEST(SuperSeed, UnknownPeersAndEmptyTorrentsAreHarmless) {
  SuperSeed empty(0, kPiece);
  empty.add_peer(PeerKey(1));
  EXPECT_TRUE(empty.top_up(PeerKey(1), Bitfield(0)).empty());
  SuperSeed seed(4, kPiece);
  EXPECT_TRUE(seed.top_up(PeerKey(9), Bitfield(4)).empty());
  seed.peer_has(PeerKey(9), PieceIndex(1));
  seed.peer_has(PeerKey(9), PieceIndex(99));  // out of range: ignored
  seed.release(PeerKey(9), Bitfield(4));
  seed.remove_peer(PeerKey(9), Bitfield(4));
  EXPECT_FALSE(seed.revealed(PeerKey(9), PieceIndex(1)));
}

}  // namespace
}  // namespace starling::policy
