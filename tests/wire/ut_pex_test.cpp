#include "wire/ut_pex.hpp"

#include <gtest/gtest.h>

#include <string>

namespace starling::wire {
namespace {

using namespace std::string_literals;

PexPeer v4(std::uint8_t last, std::uint16_t port) {
  PexPeer p;
  p.ip = {127, 0, 0, last};
  p.port = port;
  return p;
}

TEST(UtPex, ParsesLibtorrentStyleMessages) {
  const std::string payload =
      "d5:added12:\x7f\x00\x00\x01\x1a\xe1\x0a\x00\x00\x02\x00\x50"
      "7:added.f2:\x10\x02"
      "6:added60:8:added6.f0:7:dropped6:\x0a\x00\x00\x03\x1a\xe2"
      "8:dropped60:e"s;
  auto m = parse_pex(payload);
  ASSERT_TRUE(m) << m.error().message();
  ASSERT_EQ(m->added.size(), 2u);
  EXPECT_EQ(m->added[0], v4(1, 6881));
  EXPECT_EQ(m->added[1].ip[0], 10);
  EXPECT_EQ(m->added[1].port, 80);
  EXPECT_EQ(m->added_flags, (std::vector<std::uint8_t>{kPexReachable, kPexSeed}));
  ASSERT_EQ(m->dropped.size(), 1u);
  EXPECT_EQ(m->dropped[0].port, 6882);
}

TEST(UtPex, RoundTripsBothFamiliesAndKeepsTheFlags) {
  PexMessage m;
  m.added = {v4(1, 1000), v4(2, 2000)};
  PexPeer six;
  six.v6 = true;
  six.ip[15] = 1;
  six.port = 3000;
  m.added.push_back(six);
  m.added_flags = {1, 2, 4};
  m.dropped = {v4(9, 9)};
  auto back = parse_pex(encode_pex(m));
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->added, m.added);
  EXPECT_EQ(back->added_flags, m.added_flags);
  EXPECT_EQ(back->dropped, m.dropped);
}

TEST(UtPex, IgnoresWhatBreaksTheBepsLimitsAndRefusesNonDicts) {
  std::string many;
  for (int i = 0; i < 80; ++i) many += "\x7f\x00\x00\x01\x00"s + static_cast<char>(i + 1);
  auto m = parse_pex("d5:added" + std::to_string(many.size()) + ":" + many + "e");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->added.size(), kMaxPexPeers);
  auto odd = parse_pex("d5:added5:abcdee");  // not a multiple of 6
  ASSERT_TRUE(odd);
  EXPECT_TRUE(odd->added.empty());
  EXPECT_FALSE(parse_pex("le"));
  EXPECT_FALSE(parse_pex("d5:added"));
}

TEST(PexDiff, SendsWhatChangedAtMostFiftyAtATime) {
  PexDiff diff;
  std::vector<PexPeer> current;
  for (int i = 0; i < 70; ++i) current.push_back(v4(1, static_cast<std::uint16_t>(1000 + i)));
  auto first = diff.next(current);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->added.size(), 50u);
  auto second = diff.next(current);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->added.size(), 20u);
  EXPECT_FALSE(diff.next(current));  // nothing new
  current.erase(current.begin(), current.begin() + 5);
  current.push_back(v4(2, 1));
  auto third = diff.next(current);
  ASSERT_TRUE(third);
  EXPECT_EQ(third->added, (std::vector<PexPeer>{v4(2, 1)}));
  EXPECT_EQ(third->dropped.size(), 5u);
  EXPECT_EQ(diff.told(), 66u);
}

}  // namespace
}  // namespace starling::wire
