#include "tracker/announce_reply.hpp"

#include <gtest/gtest.h>

#include <string>

namespace starling::tracker {
namespace {

PeerAddress peer(std::string_view ip, std::uint16_t port) {
  return {*IpAddress::parse(ip), port};
}

TEST(AnnounceReply, CompactV4AndV6RoundTrip) {
  std::string peers4;
  std::string peers6;
  append_compact(peers4, peer("10.1.2.3", 6881));
  append_compact(peers4, peer("192.168.0.255", 1));
  append_compact(peers6, peer("2001:db8::7", 65535));
  EXPECT_EQ(peers4.size(), 12U);
  EXPECT_EQ(peers6.size(), 18U);
  EXPECT_EQ(peers4.substr(0, 6), std::string("\x0a\x01\x02\x03\x1a\xe1", 6));

  AnnounceReplyFields f;
  f.interval = 1800;
  f.min_interval = 900;
  f.complete = 5;
  f.incomplete = 7;
  f.peers4 = peers4;
  f.peers6 = peers6;
  std::string body;
  append_announce_reply(body, f);
  EXPECT_EQ(body.substr(0, 37), "d8:completei5e10:incompletei7e8:inter");

  auto reply = decode_announce_reply(body);
  ASSERT_TRUE(reply) << reply.error().message();
  EXPECT_FALSE(reply->failure_reason);
  EXPECT_EQ(reply->interval, 1800);
  EXPECT_EQ(reply->min_interval, 900);
  EXPECT_EQ(reply->complete, 5);
  EXPECT_EQ(reply->incomplete, 7);
  ASSERT_EQ(reply->peers.size(), 3U);
  EXPECT_EQ(reply->peers[0].address, peer("10.1.2.3", 6881));
  EXPECT_EQ(reply->peers[1].address, peer("192.168.0.255", 1));
  EXPECT_EQ(reply->peers[2].address, peer("2001:db8::7", 65535));
  EXPECT_EQ(reply->peers[2].address.to_string(), "[2001:db8::7]:65535");
}

TEST(AnnounceReply, NonCompactListsBothFamiliesAsDicts) {
  std::string peers4;
  std::string peers6;
  append_compact(peers4, peer("127.0.0.1", 7000));
  append_compact(peers6, peer("::1", 7001));
  AnnounceReplyFields f;
  f.compact = false;
  f.peers4 = peers4;
  f.peers6 = peers6;
  std::string body;
  append_announce_reply(body, f);
  EXPECT_NE(body.find("5:peersld2:ip9:127.0.0.14:porti7000eed2:ip3:::14:porti7001eee"),
            std::string::npos)
      << body;
  auto reply = decode_announce_reply(body);
  ASSERT_TRUE(reply) << reply.error().message();
  ASSERT_EQ(reply->peers.size(), 2U);
  EXPECT_EQ(reply->peers[1].address, peer("::1", 7001));
}

TEST(AnnounceReply, FailureAndWarning) {
  std::string body;
  append_failure_reply(body, "not allowed");
  EXPECT_EQ(body, "d14:failure reason11:not allowede");
  auto reply = decode_announce_reply(body);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->failure_reason, "not allowed");

  // Unsorted keys, a warning, a peer id, a host-name peer that is skipped.
  auto other = decode_announce_reply(
      "d8:intervali60e15:warning message4:slow5:peersld2:ip8:10.0.0.27:peer id20:"
      "abcdefghijabcdefghij4:porti80eed2:ip11:example.com4:porti81eeee");
  ASSERT_TRUE(other) << other.error().message();
  EXPECT_EQ(other->warning_message, "slow");
  ASSERT_EQ(other->peers.size(), 1U);
  EXPECT_EQ(other->peers[0].peer_id, "abcdefghijabcdefghij");
  EXPECT_EQ(other->peers[0].address, peer("10.0.0.2", 80));
}

TEST(AnnounceReply, MalformedRepliesAreErrors) {
  EXPECT_FALSE(decode_announce_reply(""));
  EXPECT_FALSE(decode_announce_reply("le"));
  EXPECT_FALSE(decode_announce_reply("de"));                                // no interval
  EXPECT_FALSE(decode_announce_reply("d8:intervali-1ee"));                  // negative
  EXPECT_FALSE(decode_announce_reply("d8:intervali1e5:peers5:abcdee"));     // 5 bytes
  EXPECT_FALSE(decode_announce_reply("d8:intervali1e6:peers67:abcdefge"));  // not 18n
  EXPECT_FALSE(decode_announce_reply("d8:intervali1e5:peersi3ee"));
  EXPECT_FALSE(decode_announce_reply("d8:intervali1e5:peersli1eee"));
  auto truncated = decode_announce_reply("d8:intervali1e5:peers6:abc");
  ASSERT_FALSE(truncated);
  EXPECT_EQ(truncated.error().code, make_error_code(Errc::tracker_bad_reply));
}

}  // namespace
}  // namespace starling::tracker
