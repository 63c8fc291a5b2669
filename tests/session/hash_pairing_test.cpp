#include "session/hash_pairing.hpp"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <random>
#include <string>

#include "core/digest.hpp"

namespace starling::session {
namespace {

using namespace std::chrono_literals;
using Clock = HashPairing::Clock;

constexpr std::int64_t kBlock = 16 * 1024;
constexpr std::int64_t kPiece = 4 * kBlock;

std::string random_piece(unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(kPiece, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

struct PairingFixture {
  explicit PairingFixture(HashPairingSettings settings) : pairing(settings) {}

  PartialPieces::Entry& entry(std::int32_t piece) { return pieces->at(PieceIndex(piece)); }

  void write(std::int32_t piece, const std::string& data, std::int64_t block,
             Clock::time_point now) {
    pairing.on_written(pieces, entry(piece), block * kBlock,
                       SharedBytes::copy_of(std::string_view(data).substr(block * kBlock, kBlock)),
                       now, release);
  }

  // Marks the piece complete; its digest lands in `digests[piece]` once hashed.
  void complete(std::int32_t piece) {
    auto taken = pieces->take(PieceIndex(piece));
    auto finish = [this, piece](PartialPieces::Entry& e, HashPairing::Completions&) {
      EXPECT_EQ(e.next, kPiece) << "piece " << piece << " was not hashed from memory";
      digests[piece] = e.hasher.finish();
    };
    taken = pairing.finish_when_hashed(std::move(taken), finish);
    if (taken) finish(*taken, completions);
  }

  void step(Clock::time_point now) { pairing.step(now, completions, release); }

  std::shared_ptr<PartialPieces> pieces = std::make_shared<PartialPieces>();
  HashPairing pairing;
  HashPairing::Completions completions;
  std::vector<SharedBytes> release;
  std::map<std::int32_t, Sha1Digest> digests;
};

TEST(HashPairing, ThreePiecesHeldTogetherAreHashedTogetherAndRight) {
  PairingFixture f({.budget = 1 << 20, .max_hold = 1h});
  const std::string a = random_piece(1);
  const std::string b = random_piece(2);
  const std::string c = random_piece(7);
  const Clock::time_point t0 = Clock::now();
  for (std::int64_t block = 0; block < 4; ++block) f.write(0, a, block, t0);
  f.complete(0);
  f.step(t0);
  // Alone, piece 0 waits for partners: nothing hashed, no digest.
  EXPECT_EQ(f.pairing.held_bytes(), kPiece);
  EXPECT_TRUE(f.digests.empty());

  for (std::int64_t block = 0; block < 4; ++block) f.write(1, b, block, t0 + 1ms);
  f.complete(1);
  f.step(t0 + 1ms);
  // Two pieces wait for a third.
  EXPECT_EQ(f.pairing.held_bytes(), 2 * kPiece);
  EXPECT_EQ(f.entry(1).next, 0);
  EXPECT_TRUE(f.digests.empty());
  EXPECT_EQ(f.release.size(), 0U);

  f.write(2, c, 0, t0 + 2ms);
  f.write(2, c, 1, t0 + 2ms);
  f.step(t0 + 2ms);
  // Two blocks of each of the three hashed side by side; two of piece 0 and of piece 1 still
  // held.
  EXPECT_EQ(f.entry(2).next, 2 * kBlock);
  EXPECT_EQ(f.pairing.held_bytes(), 4 * kBlock);
  EXPECT_TRUE(f.digests.empty());
  EXPECT_EQ(f.release.size(), 6U);  // the hashed blocks, let go of

  f.write(2, c, 2, t0 + 3ms);
  f.write(2, c, 3, t0 + 3ms);
  f.step(t0 + 3ms);
  ASSERT_EQ(f.digests.count(0), 1U);
  ASSERT_EQ(f.digests.count(1), 1U);
  EXPECT_EQ(f.digests[0], sha1(a));
  EXPECT_EQ(f.digests[1], sha1(b));
  EXPECT_EQ(f.pairing.held_bytes(), 0);
  f.complete(2);  // nothing held: finished at once
  ASSERT_EQ(f.digests.count(2), 1U);
  EXPECT_EQ(f.digests[2], sha1(c));
  EXPECT_FALSE(f.pairing.deadline().has_value());
}

TEST(HashPairing, TwoPiecesAreHashedTogetherWhenTheOldestReachesItsDeadline) {
  PairingFixture f({.budget = 1 << 20, .max_hold = 5ms});
  const std::string a = random_piece(8);
  const std::string b = random_piece(9);
  const Clock::time_point t0 = Clock::now();
  for (std::int64_t block = 0; block < 4; ++block) f.write(0, a, block, t0);
  f.complete(0);
  f.write(1, b, 0, t0 + 1ms);
  f.write(1, b, 1, t0 + 1ms);
  f.step(t0 + 4ms);
  EXPECT_EQ(f.entry(1).next, 0);  // still waiting for a third piece
  ASSERT_TRUE(f.pairing.deadline().has_value());
  EXPECT_EQ(*f.pairing.deadline(), t0 + 5ms);

  f.step(t0 + 5ms);
  // The pair as far as both go, then the rest of piece 0 (past its deadline) alone.
  EXPECT_EQ(f.entry(1).next, 2 * kBlock);
  ASSERT_EQ(f.digests.count(0), 1U);
  EXPECT_EQ(f.digests[0], sha1(a));
  EXPECT_EQ(f.pairing.held_bytes(), 0);

  f.write(1, b, 2, t0 + 6ms);
  f.write(1, b, 3, t0 + 6ms);
  f.complete(1);
  EXPECT_EQ(f.digests.count(1), 0U);
  f.step(t0 + 11ms);
  ASSERT_EQ(f.digests.count(1), 1U);
  EXPECT_EQ(f.digests[1], sha1(b));
}

TEST(HashPairing, ABlockWithoutAPartnerIsHashedAloneAtItsDeadline) {
  PairingFixture f({.budget = 1 << 20, .max_hold = 5ms});
  const std::string a = random_piece(3);
  const Clock::time_point t0 = Clock::now();
  f.write(0, a, 0, t0);
  ASSERT_TRUE(f.pairing.deadline().has_value());
  EXPECT_EQ(*f.pairing.deadline(), t0 + 5ms);
  f.step(t0 + 4ms);
  EXPECT_EQ(f.entry(0).next, 0);
  f.step(t0 + 5ms);
  EXPECT_EQ(f.entry(0).next, kBlock);
  EXPECT_EQ(f.pairing.held_bytes(), 0);
  EXPECT_FALSE(f.pairing.deadline().has_value());
  for (std::int64_t block = 1; block < 4; ++block) f.write(0, a, block, t0 + 6ms);
  f.complete(0);
  EXPECT_TRUE(f.digests.empty());
  f.step(t0 + 11ms);
  ASSERT_EQ(f.digests.count(0), 1U);
  EXPECT_EQ(f.digests[0], sha1(a));
}

TEST(HashPairing, NoBudgetHashesEachBlockAsItIsWritten) {
  PairingFixture f({.budget = 0, .max_hold = 1h});
  const std::string a = random_piece(4);
  for (std::int64_t block = 0; block < 4; ++block) {
    f.write(0, a, block, Clock::now());
    EXPECT_EQ(f.entry(0).next, (block + 1) * kBlock);
  }
  EXPECT_FALSE(f.pairing.deadline().has_value());
  f.complete(0);
  EXPECT_EQ(f.digests[0], sha1(a));
}

TEST(HashPairing, OnlyBlocksThatContinueThePrefixAreHeld) {
  PairingFixture f({.budget = 1 << 20, .max_hold = 1h});
  const std::string a = random_piece(5);
  f.write(0, a, 1, Clock::now());  // a gap before it: left on disk, read back at the end
  EXPECT_EQ(f.pairing.held_bytes(), 0);
  f.write(0, a, 0, Clock::now());
  EXPECT_EQ(f.pairing.held_bytes(), kBlock);
  EXPECT_EQ(f.entry(0).unhashed_bytes, kBlock);
}

TEST(HashPairing, ARewrittenBlockReplacesTheHeldCopyAndDropsWhatFollows) {
  PairingFixture f({.budget = 1 << 20, .max_hold = 1h});
  const std::string a = random_piece(6);
  std::string changed = a;
  changed[static_cast<std::size_t>(kBlock) + 10] ^= 0x55;
  for (std::int64_t block = 0; block < 3; ++block) f.write(0, a, block, Clock::now());
  f.write(0, changed, 1, Clock::now());
  // Block 0 and the new block 1 held; the old block 1 and block 2 let go of.
  EXPECT_EQ(f.entry(0).unhashed_bytes, 2 * kBlock);
  EXPECT_EQ(f.pairing.held_bytes(), 2 * kBlock);
  EXPECT_EQ(f.release.size(), 2U);
  PartialPieces::Entry& e = f.entry(0);
  f.pairing.step(Clock::now(), f.completions, f.release, /*all=*/true);
  EXPECT_EQ(e.next, 2 * kBlock);
  Sha1Stream expected;
  expected.update(std::string_view(changed).substr(0, 2 * kBlock));
  EXPECT_EQ(e.hasher.finish(), expected.finish());
}

}  // namespace
}  // namespace starling::session
