#include "tracker/udp_codec.hpp"

#include <gtest/gtest.h>

#include <string>

namespace starling::tracker::udp {
namespace {

std::span<const std::uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

template <class T>
T request_round_trip(const T& packet) {
  std::string wire;
  encode(wire, packet);
  auto parsed = parse_request(bytes(wire));
  EXPECT_TRUE(parsed) << parsed.error().message();
  if (!parsed) return {};
  EXPECT_TRUE(std::holds_alternative<T>(*parsed));
  return std::get<T>(*parsed);
}

template <class T>
T response_round_trip(const T& packet, bool v6 = false) {
  std::string wire;
  encode(wire, packet);
  auto parsed = parse_response(bytes(wire), v6);
  EXPECT_TRUE(parsed) << parsed.error().message();
  if (!parsed) return {};
  EXPECT_TRUE(std::holds_alternative<T>(*parsed));
  return std::get<T>(*parsed);
}

AnnounceRequest sample_announce() {
  AnnounceRequest a;
  a.connection_id = 0x0102030405060708ULL;
  a.transaction_id = 0xdeadbeef;
  a.info_hash.bytes.fill(0xab);
  a.peer_id.fill('p');
  a.downloaded = 1LL << 40;
  a.left = 77;
  a.uploaded = 5;
  a.event = AnnounceEvent::started;
  a.ip = 0;
  a.key = 0x11223344;
  a.num_want = -1;
  a.port = 6881;
  return a;
}

TEST(UdpCodec, ConnectRoundTripsAndWireLayout) {
  std::string wire;
  encode(wire, ConnectRequest{0x01020304});
  EXPECT_EQ(wire,
            std::string("\x00\x00\x04\x17\x27\x10\x19\x80\x00\x00\x00\x00\x01\x02\x03\x04", 16));
  EXPECT_EQ(request_round_trip(ConnectRequest{7}), ConnectRequest{7});
  const ConnectResponse resp{9, 0xfedcba9876543210ULL};
  EXPECT_EQ(response_round_trip(resp), resp);
}

TEST(UdpCodec, AnnounceRoundTrips) {
  const AnnounceRequest a = sample_announce();
  std::string wire;
  encode(wire, a);
  EXPECT_EQ(wire.size(), kAnnounceRequestSize);
  EXPECT_EQ(request_round_trip(a), a);

  AnnounceResponse r4{1, 1800, 3, 4, {{*IpAddress::parse("1.2.3.4"), 80}}};
  EXPECT_EQ(response_round_trip(r4), r4);
  AnnounceResponse r6{2, 60, 0, 1, {{*IpAddress::parse("fe80::1"), 443}}};
  EXPECT_EQ(response_round_trip(r6, true), r6);
}

TEST(UdpCodec, AnnounceWithBep41OptionsIsAccepted) {
  std::string wire;
  encode(wire, sample_announce());
  wire += std::string("\x02\x05/path", 7);
  auto parsed = parse_request(bytes(wire));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(std::get<AnnounceRequest>(*parsed), sample_announce());
}

TEST(UdpCodec, ScrapeAndErrorRoundTrip) {
  ScrapeRequest s{42, 43, {}};
  for (std::uint8_t i = 0; i < 3; ++i) {
    Sha1Digest d;
    d.bytes.fill(i);
    s.info_hashes.push_back(d);
  }
  EXPECT_EQ(request_round_trip(s), s);
  ScrapeResponse sr{43, {{{}, 1, 2, 3}, {{}, 4, 5, 6}}};
  EXPECT_EQ(response_round_trip(sr), sr);
  ErrorResponse e{44, "bad connection id"};
  EXPECT_EQ(response_round_trip(e), e);
}

TEST(UdpCodec, TruncatedAndGarbagePacketsAreErrors) {
  std::string wire;
  encode(wire, sample_announce());
  for (std::size_t n : {0UL, 1UL, 15UL, 16UL, 97UL}) {
    auto parsed = parse_request(bytes(wire.substr(0, n)));
    ASSERT_FALSE(parsed) << n;
    EXPECT_EQ(parsed.error().code, make_error_code(Errc::tracker_bad_packet));
  }
  auto truncated = parse_request(bytes(wire.substr(0, 50)));
  EXPECT_NE(truncated.error().message().find("announce request needs 98 bytes, got 50"),
            std::string::npos)
      << truncated.error().message();

  std::string bad_connect;
  encode(bad_connect, ConnectRequest{1});
  bad_connect[0] = 1;
  EXPECT_FALSE(parse_request(bytes(bad_connect)));

  std::string bad_action = wire;
  bad_action[11] = 9;
  auto unknown = parse_request(bytes(bad_action));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().offset, 8U);

  std::string bad_event = wire;
  bad_event[83] = 4;
  EXPECT_FALSE(parse_request(bytes(bad_event)));

  std::string scrape_no_hash;
  encode(scrape_no_hash, ScrapeRequest{1, 2, {}});
  EXPECT_FALSE(parse_request(bytes(scrape_no_hash)));

  std::string resp;
  encode(resp, AnnounceResponse{1, 2, 3, 4, {{*IpAddress::parse("1.2.3.4"), 80}}});
  EXPECT_FALSE(parse_response(bytes(resp.substr(0, 25)), false));
  EXPECT_FALSE(parse_response(bytes(resp), true));  // 6 bytes of peers is not 18n
  EXPECT_FALSE(parse_response(bytes(resp.substr(0, 7)), false));
  std::string sresp;
  encode(sresp, ScrapeResponse{1, {{{}, 1, 2, 3}}});
  EXPECT_FALSE(parse_response(bytes(sresp.substr(0, 15)), false));
}

TEST(UdpCodec, LargeScrapeIsCut) {
  ScrapeRequest s{1, 2, std::vector<Sha1Digest>(100)};
  std::string wire;
  encode(wire, s);
  auto parsed = parse_request(bytes(wire));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(std::get<ScrapeRequest>(*parsed).info_hashes.size(), kMaxScrapeHashes);
  EXPECT_EQ(transaction_id_of(bytes(wire)), 2U);
}

}  // namespace
}  // namespace starling::tracker::udp
