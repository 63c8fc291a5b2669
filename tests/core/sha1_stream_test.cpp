#include "core/sha1_stream.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

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

TEST_P(Sha1StreamTest, UpdateTogetherGivesEachStreamItsOwnDigest) {
  std::mt19937 rng(13);
  for (std::size_t count = 1; count <= Sha1Stream::kMaxLockstep; ++count) {
    for (int round = 0; round < 40; ++round) {
      // Unequal lengths, odd split points: lockstep for part of the way, then one at a time.
      std::vector<std::string> inputs;
      std::vector<Sha1Stream> streams(count);
      std::vector<Sha1Stream*> pointers;
      for (std::size_t k = 0; k < count; ++k) {
        inputs.push_back(random_bytes(rng, rng() % 20000));
        pointers.push_back(&streams[k]);
      }
      std::vector<std::size_t> at(count, 0);
      const auto done = [&] {
        for (std::size_t k = 0; k < count; ++k) {
          if (at[k] < inputs[k].size()) return false;
        }
        return true;
      };
      while (!done()) {
        std::vector<std::string_view> parts;
        for (std::size_t k = 0; k < count; ++k) {
          const std::size_t n = std::min<std::size_t>(inputs[k].size() - at[k], rng() % 3000);
          parts.push_back(std::string_view(inputs[k]).substr(at[k], n));
          at[k] += n;
        }
        Sha1Stream::update_together(pointers, parts);
      }
      for (std::size_t k = 0; k < count; ++k) {
        ASSERT_EQ(streams[k].finish(), sha1(inputs[k])) << count << " streams, round " << round;
      }
    }
  }
}

TEST_P(Sha1StreamTest, UpdateTogetherOfWholePiecesInLockstep) {
  std::mt19937 rng(17);
  const std::string x = random_bytes(rng, 1 << 20);
  const std::string y = random_bytes(rng, 1 << 20);
  const std::string z = random_bytes(rng, 1 << 20);
  Sha1Stream a;
  Sha1Stream b;
  Sha1Stream c;
  Sha1Stream* const streams[] = {&a, &b, &c};
  const std::string_view data[] = {x, y, z};
  Sha1Stream::update_together(streams, data);
  EXPECT_EQ(a.finish(), sha1(x));
  EXPECT_EQ(b.finish(), sha1(y));
  EXPECT_EQ(c.finish(), sha1(z));
}

INSTANTIATE_TEST_SUITE_P(Implementations, Sha1StreamTest, ::testing::Values(true, false),
                         [](const auto& param_info) {
                           return param_info.param ? "ShaExtensions" : "OpenSsl";
                         });

}  // namespace
}  // namespace starling
