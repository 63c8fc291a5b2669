#include "policy/smart_ban.hpp"

#include <gtest/gtest.h>

namespace starling::policy {
namespace {

Sha1Digest digest(std::string_view s) {
  return sha1(s);
}

const PieceIndex kPiece(7);

TEST(SmartBan, BlockThatDiffersFromTheGoodCopyConvictsItsSender) {
  SmartBan ban;
  ban.on_block(kPiece, 0, "10.0.0.1", 3);
  ban.on_block(kPiece, 1, "10.0.0.2", 3);
  ban.on_block(kPiece, 2, "10.0.0.1", 3);
  // Mixed senders: no strike, nobody banned yet.
  EXPECT_TRUE(ban.on_piece_failed(kPiece, {digest("a"), digest("BAD"), digest("c")}).empty());
  EXPECT_TRUE(ban.had_failed(kPiece));
  // Downloaded again (from anyone) and passed: block 1 differed, block 0 and 2 did not.
  ban.on_block(kPiece, 0, "10.0.0.3", 3);
  ban.on_block(kPiece, 1, "10.0.0.3", 3);
  ban.on_block(kPiece, 2, "10.0.0.3", 3);
  EXPECT_EQ(ban.on_piece_passed(kPiece, {digest("a"), digest("b"), digest("c")}),
            std::vector<SmartBan::PeerName>{"10.0.0.2"});
  EXPECT_FALSE(ban.had_failed(kPiece));
}

TEST(SmartBan, SoleSenderOfFailedPiecesIsBannedAfterMaxStrikes) {
  SmartBan ban(2);
  for (int block = 0; block < 2; ++block) ban.on_block(PieceIndex(1), block, "10.0.0.9", 2);
  EXPECT_TRUE(ban.on_piece_failed(PieceIndex(1), {digest("x"), digest("y")}).empty());
  for (int block = 0; block < 2; ++block) ban.on_block(PieceIndex(2), block, "10.0.0.9", 2);
  EXPECT_EQ(ban.on_piece_failed(PieceIndex(2), {digest("x"), digest("y")}),
            std::vector<SmartBan::PeerName>{"10.0.0.9"});
}

TEST(SmartBan, HonestSenderOfAFailedPieceIsNotConvicted) {
  SmartBan ban;
  ban.on_block(kPiece, 0, "10.0.0.1", 2);
  ban.on_block(kPiece, 1, "10.0.0.2", 2);
  ban.on_piece_failed(kPiece, {digest("good0"), digest("evil")});
  EXPECT_EQ(ban.on_piece_passed(kPiece, {digest("good0"), digest("good1")}),
            std::vector<SmartBan::PeerName>{"10.0.0.2"});
}

TEST(SmartBan, PassedPieceThatNeverFailedNeedsNoBlockHashes) {
  SmartBan ban;
  ban.on_block(kPiece, 0, "10.0.0.1", 1);
  EXPECT_FALSE(ban.had_failed(kPiece));
  EXPECT_TRUE(ban.on_piece_passed(kPiece, {digest("a")}).empty());
}

}  // namespace
}  // namespace starling::policy
