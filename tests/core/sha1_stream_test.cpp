#include "core/sha1_stream.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace starling {
namespace {

std::string random_bytes(std::mt19937& rng, std::size_t n) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

// Runs each test with the SHA extensions (where the CPU has them) and with the OpenSSL fallback.
class Sha1StreamTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override { Sha1Stream::set_accelerated_for_testing(GetParam()); }
  void TearDown() override { Sha1Stream::set_accelerated_for_testing(true); }
};

TEST_P(Sha1StreamTest, KnownVectors) {
  Sha1Stream s;
  s.update("abc");
  EXPECT_EQ(s.finish().hex(), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(s.finish().hex(), "da39a3ee5e6b4b0d3255bfef95601890afd80709");  // reset by finish
  s.update("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq");
  EXPECT_EQ(s.finish().hex(), "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  s.update(std::string(1'000'000, 'a'));
  EXPECT_EQ(s.finish().hex(), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

TEST_P(Sha1StreamTest, EveryLengthAroundThePaddingBoundaryMatchesOpenSsl) {
  std::mt19937 rng(7);
  const std::string data = random_bytes(rng, 300);
  for (std::size_t n = 0; n <= data.size(); ++n) {
    Sha1Stream s;
    s.update(std::string_view(data).substr(0, n));
    ASSERT_EQ(s.finish(), sha1(std::string_view(data).substr(0, n))) << n;
  }
}

TEST_P(Sha1StreamTest, UpdatesInRandomPiecesMatchOneShot) {
  std::mt19937 rng(11);
  for (int round = 0; round < 50; ++round) {
    const std::string data = random_bytes(rng, 1 + rng() % 5000);
    Sha1Stream s;
    for (std::size_t at = 0; at < data.size();) {
      const std::size_t n = std::min<std::size_t>(data.size() - at, rng() % 200);
      s.update(std::string_view(data).substr(at, n));
      at += n;
    }
    EXPECT_EQ(s.size(), data.size());
    ASSERT_EQ(s.finish(), sha1(data)) << round;
  }
}

TEST_P(Sha1StreamTest, UpdateBothGivesEachStreamItsOwnDigest) {
  std::mt19937 rng(13);
  for (int round = 0; round < 60; ++round) {
    // Unequal lengths, odd split points: lockstep for part of the way, then one at a time.
    const std::string x = random_bytes(rng, rng() % 20000);
    const std::string y = random_bytes(rng, rng() % 20000);
    Sha1Stream a;
    Sha1Stream b;
    std::size_t at_x = 0;
    std::size_t at_y = 0;
    while (at_x < x.size() || at_y < y.size()) {
      const std::size_t nx = std::min<std::size_t>(x.size() - at_x, rng() % 3000);
      const std::size_t ny = std::min<std::size_t>(y.size() - at_y, rng() % 3000);
      Sha1Stream::update_both(a, std::string_view(x).substr(at_x, nx), b,
                              std::string_view(y).substr(at_y, ny));
      at_x += nx;
      at_y += ny;
    }
    ASSERT_EQ(a.finish(), sha1(x)) << round;
    ASSERT_EQ(b.finish(), sha1(y)) << round;
  }
}

TEST_P(Sha1StreamTest, UpdateBothOfWholePiecesInLockstep) {
  std::mt19937 rng(17);
  const std::string x = random_bytes(rng, 1 << 20);
  const std::string y = random_bytes(rng, 1 << 20);
  Sha1Stream a;
  Sha1Stream b;
  Sha1Stream::update_both(a, x, b, y);
  EXPECT_EQ(a.finish(), sha1(x));
  EXPECT_EQ(b.finish(), sha1(y));
}

INSTANTIATE_TEST_SUITE_P(Implementations, Sha1StreamTest, ::testing::Values(true, false),
                         [](const auto& param_info) {
                           return param_info.param ? "ShaExtensions" : "OpenSsl";
                         });

}  // namespace
}  // namespace starling
