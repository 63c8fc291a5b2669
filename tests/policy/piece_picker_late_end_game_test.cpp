// PiecePicker's options for callers that pick whole pieces (the swarm simulator's time grid):
// end game only once every wanted piece is started or had, and the free blocks left in a started
// piece. Separate from piece_picker_test.cpp, which is at the size limit.
#include <gtest/gtest.h>

#include <vector>

#include "policy/piece_picker.hpp"

namespace starling::policy {
namespace {

PieceIndex piece(std::int32_t i) {
  return PieceIndex(i);
}

// Two pieces of two blocks; every peer has both (availability 1 each).
PiecePicker two_pieces(bool late_end_game) {
  PickerSettings settings;
  settings.random_first_pieces = 0;
  settings.end_game_only_when_all_started = late_end_game;
  PiecePicker p(PieceGeometry::uniform(2, 2, 2), settings);
  p.add_availability(piece(0));
  p.add_availability(piece(1));
  return p;
}

TEST(PiecePickerLateEndGame, NoDuplicatesWhileAWantedPieceIsNotStarted) {
  PiecePicker p = two_pieces(true);
  Bitfield only_first(2);
  only_first.set(0);
  Bitfield both(2, true);
  std::vector<BlockRef> out;
  p.pick(only_first, 2, PeerKey(1), out);
  ASSERT_EQ(out.size(), 2U);  // piece 0, both blocks
  // Peer 2 has only piece 0, all of it requested: the engine's rule would ask it for
  // duplicates; here piece 1 is not started yet, so no end game.
  p.pick(only_first, 2, PeerKey(2), out);
  EXPECT_TRUE(out.empty());
  // Once piece 1 is started too (every wanted piece started), end game is on.
  p.pick(both, 2, PeerKey(3), out);
  ASSERT_EQ(out.size(), 2U);
  EXPECT_EQ(out[0].piece, piece(1));
  p.pick(only_first, 1, PeerKey(2), out);
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].piece, piece(0));
  EXPECT_TRUE(p.check_invariants());
}

TEST(PiecePickerLateEndGame, OffByDefaultTheEngineEntersEndGamePerPeer) {
  PiecePicker p = two_pieces(false);
  EXPECT_FALSE(PickerSettings{}.end_game_only_when_all_started);
  Bitfield only_first(2);
  only_first.set(0);
  std::vector<BlockRef> out;
  p.pick(only_first, 2, PeerKey(1), out);
  p.pick(only_first, 2, PeerKey(2), out);
  EXPECT_EQ(out.size(), 2U);  // duplicates of piece 0 at once
}

TEST(PiecePickerFreeBlocks, CountsWhatIsNeitherRequestedNorReceived) {
  PickerSettings settings;
  settings.random_first_pieces = 0;
  PiecePicker p(PieceGeometry::uniform(2, 4, 4), settings);
  p.add_availability(piece(0));
  p.add_availability(piece(1));
  EXPECT_EQ(p.free_blocks(piece(0)), 0);  // not started
  EXPECT_EQ(p.free_blocks(piece(7)), 0);  // no such piece
  const Bitfield both(2, true);
  std::vector<BlockRef> out;
  p.pick(both, 3, PeerKey(1), out);
  ASSERT_EQ(out.size(), 3U);
  const PieceIndex started = out[0].piece;
  EXPECT_EQ(p.free_blocks(started), 1);
  std::vector<PeerKey> cancel;
  EXPECT_TRUE(p.on_block_received(out[0], PeerKey(1), cancel));
  EXPECT_EQ(p.free_blocks(started), 1);  // received is not free either
  p.abort_request(out[1], PeerKey(1));
  EXPECT_EQ(p.free_blocks(started), 2);
  // A pick of exactly the free blocks takes the rest of that piece (strict priority).
  p.pick(both, 2, PeerKey(2), out);
  ASSERT_EQ(out.size(), 2U);
  EXPECT_EQ(out[0].piece, started);
  EXPECT_EQ(out[1].piece, started);
  EXPECT_EQ(p.free_blocks(started), 0);
  EXPECT_TRUE(p.check_invariants());
}

}  // namespace
}  // namespace starling::policy
