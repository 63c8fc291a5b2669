#include "tracker/connection_id.hpp"

#include <gtest/gtest.h>

#include <string>

namespace starling::tracker {
namespace {

SipKey sequential_key() {
  SipKey k{};
  for (std::size_t i = 0; i < 16; ++i) k[i] = static_cast<std::uint8_t>(i);
  return k;
}

// The reference vectors of the SipHash paper (key 00..0f, message 00..len-1).
TEST(SipHash, MatchesReferenceVectors) {
  std::string msg;
  EXPECT_EQ(siphash24(sequential_key(), msg), 0x726fdb47dd0e0e31ULL);
  for (int i = 0; i < 15; ++i) msg.push_back(static_cast<char>(i));
  EXPECT_EQ(siphash24(sequential_key(), msg), 0xa129ca6149be45e5ULL);
  msg.resize(8);
  EXPECT_EQ(siphash24(sequential_key(), msg), 0x93f5f5799a932462ULL);
}

TEST(ConnectionIds, ValidForItsAddressForOneToTwoMinutes) {
  const ConnectionIds ids(sequential_key());
  const PeerAddress client{*IpAddress::parse("10.0.0.1"), 6881};
  const std::uint64_t id = ids.issue(client, Seconds(6000));  // start of a bucket
  EXPECT_TRUE(ids.valid(id, client, Seconds(6000)));
  EXPECT_TRUE(ids.valid(id, client, Seconds(6119)));
  EXPECT_FALSE(ids.valid(id, client, Seconds(6120)));
  EXPECT_FALSE(ids.valid(id, client, Seconds(5999)));            // not before it was issued
  EXPECT_TRUE(ids.valid(id, {client.ip, 6882}, Seconds(6000)));  // another socket, same host
  EXPECT_FALSE(ids.valid(id, {*IpAddress::parse("10.0.0.2"), 6881}, Seconds(6000)));
  EXPECT_FALSE(ids.valid(id ^ 1, client, Seconds(6000)));
  // Another process (another key) does not accept it.
  EXPECT_FALSE(ConnectionIds::with_random_key().valid(id, client, Seconds(6000)));
}

}  // namespace
}  // namespace starling::tracker
