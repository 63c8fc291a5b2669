#include "tracker/tracker_service.hpp"

#include <gtest/gtest.h>

#include <string>

#include "tracker/announce_reply.hpp"
#include "tracker/scrape.hpp"
#include "tracker/udp_codec.hpp"

namespace starling::tracker {
namespace {

AnnounceRequest request(std::uint8_t torrent, std::uint16_t port, std::int64_t left) {
  AnnounceRequest r;
  r.info_hash.bytes.fill(torrent);
  r.peer_id.fill(static_cast<std::uint8_t>(port));
  r.port = port;
  r.left = left;
  return r;
}

class TrackerServiceTest : public ::testing::Test {
 protected:
  TrackerServiceTest() : service_(settings(), ConnectionIds::with_random_key(), 1) {}
  static TrackerSettings settings() {
    TrackerSettings s;
    s.interval = 600;
    s.min_interval = 300;
    return s;
  }
  std::string http(const std::string& target, std::string_view ip = "10.0.0.1",
                   int expect_status = 200) {
    std::string body;
    const HttpAnswer answer =
        service_.handle_http(target, *IpAddress::parse(ip), Seconds(1000), body, 0);
    EXPECT_EQ(answer.status, expect_status);
    return body;
  }
  std::string udp(const std::string& packet, const PeerAddress& from, Seconds now = Seconds(1000)) {
    std::string out;
    service_.handle_udp({reinterpret_cast<const std::uint8_t*>(packet.data()), packet.size()}, from,
                        now, out, 0);
    return out;
  }
  TrackerService service_;
};

TEST_F(TrackerServiceTest, HttpAnnounceUsesSocketAddressAndReturnsPeers) {
  auto first = request(1, 7001, 0);
  first.ip = "192.0.2.99";  // ignored: the socket address counts
  auto r1 = decode_announce_reply(http("/announce?" + build_announce_query(first), "10.0.0.1"));
  ASSERT_TRUE(r1);
  EXPECT_EQ(r1->interval, 600);
  EXPECT_EQ(r1->min_interval, 300);
  EXPECT_EQ(r1->complete, 1);
  EXPECT_TRUE(r1->peers.empty());

  auto r2 = decode_announce_reply(
      http("/announce?" + build_announce_query(request(1, 7002, 5)), "::ffff:10.0.0.2"));
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->incomplete, 1);
  ASSERT_EQ(r2->peers.size(), 1U);
  EXPECT_EQ(r2->peers[0].address.to_string(), "10.0.0.1:7001");

  auto r3 = decode_announce_reply(
      http("/announce?" + build_announce_query(request(1, 7003, 5)), "2001:db8::3"));
  ASSERT_TRUE(r3);
  EXPECT_EQ(r3->peers.size(), 2U);  // both IPv4 peers, in "peers"
  auto nc = request(1, 7004, 5);
  nc.compact = false;
  auto r4 = decode_announce_reply(http("/announce?" + build_announce_query(nc), "10.0.0.4"));
  ASSERT_TRUE(r4);
  EXPECT_EQ(r4->peers.size(), 3U);  // dictionaries, with the IPv6 peer among them
}

TEST_F(TrackerServiceTest, HttpMalformedGetsFailureReason) {
  auto reply = decode_announce_reply(http("/announce?info_hash=short&port=1"));
  ASSERT_TRUE(reply);
  ASSERT_TRUE(reply->failure_reason);
  EXPECT_NE(reply->failure_reason->find("info_hash"), std::string::npos);
  auto scrape = decode_scrape_reply(http("/scrape"));
  ASSERT_TRUE(scrape);
  EXPECT_TRUE(scrape->failure_reason);
  http("/nothing", "10.0.0.1", 404);
  EXPECT_NE(service_.stats_json().find("\"errors\":3"), std::string::npos);
}

TEST_F(TrackerServiceTest, HttpScrapeCountsAndStats) {
  http("/announce?" + build_announce_query(request(2, 1, 0)));
  auto done = request(2, 2, 0);
  done.event = AnnounceEvent::completed;
  http("/announce?" + build_announce_query(request(2, 2, 10)));
  http("/announce?" + build_announce_query(done));
  Sha1Digest unknown;
  unknown.bytes.fill(9);
  auto reply = decode_scrape_reply(
      http("/scrape?" + build_scrape_query({{request(2, 1, 0).info_hash, unknown}})));
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->files.size(), 2U);
  EXPECT_EQ(reply->files[0].complete, 2);
  EXPECT_EQ(reply->files[0].downloaded, 1);
  EXPECT_EQ(reply->files[1].complete, 0);
  const std::string stats = http("/stats");
  EXPECT_NE(stats.find("\"torrents\":1,\"peers\":2,\"seeds\":2"), std::string::npos) << stats;
  EXPECT_NE(stats.find("\"http_announces\":3"), std::string::npos) << stats;
}

TEST_F(TrackerServiceTest, UdpConnectAnnounceScrape) {
  const PeerAddress a{*IpAddress::parse("10.0.0.1"), 40000};
  const PeerAddress b{*IpAddress::parse("10.0.0.2"), 40001};
  auto connect_as = [&](const PeerAddress& who) {
    std::string pkt;
    udp::encode(pkt, udp::ConnectRequest{77});
    const std::string reply = udp(pkt, who);
    auto parsed = udp::parse_response(
        {reinterpret_cast<const std::uint8_t*>(reply.data()), reply.size()}, false);
    EXPECT_TRUE(parsed);
    return std::get<udp::ConnectResponse>(*parsed).connection_id;
  };
  auto announce_as = [&](const PeerAddress& who, std::uint64_t cid, std::uint16_t port,
                         Seconds now = Seconds(1000)) {
    udp::AnnounceRequest req;
    req.connection_id = cid;
    req.transaction_id = 5;
    req.info_hash.bytes.fill(3);
    req.port = port;
    req.left = 100;
    std::string pkt;
    udp::encode(pkt, req);
    const std::string reply = udp(pkt, who, now);
    auto parsed = udp::parse_response(
        {reinterpret_cast<const std::uint8_t*>(reply.data()), reply.size()}, false);
    EXPECT_TRUE(parsed);
    return *parsed;
  };
  const std::uint64_t ca = connect_as(a);
  const std::uint64_t cb = connect_as(b);
  announce_as(a, ca, 6881);
  auto rb = std::get<udp::AnnounceResponse>(announce_as(b, cb, 6882));
  EXPECT_EQ(rb.transaction_id, 5U);
  EXPECT_EQ(rb.interval, 600U);
  EXPECT_EQ(rb.leechers, 2U);
  ASSERT_EQ(rb.peers.size(), 1U);
  EXPECT_EQ(rb.peers[0].to_string(), "10.0.0.1:6881");

  // A forged or stolen id (other address) and an expired one get error packets.
  auto forged = announce_as(b, ca, 6882);
  ASSERT_TRUE(std::holds_alternative<udp::ErrorResponse>(forged));
  EXPECT_EQ(std::get<udp::ErrorResponse>(forged).transaction_id, 5U);
  EXPECT_TRUE(std::holds_alternative<udp::ErrorResponse>(announce_as(a, ca, 6881, Seconds(1200))));

  std::string scrape;
  Sha1Digest hash;
  hash.bytes.fill(3);
  udp::encode(scrape, udp::ScrapeRequest{ca, 9, {hash}});
  const std::string sr = udp(scrape, a);
  auto parsed =
      udp::parse_response({reinterpret_cast<const std::uint8_t*>(sr.data()), sr.size()}, false);
  ASSERT_TRUE(parsed);
  const auto& entries = std::get<udp::ScrapeResponse>(*parsed).entries;
  ASSERT_EQ(entries.size(), 1U);
  EXPECT_EQ(entries[0].incomplete, 2);
}

TEST_F(TrackerServiceTest, UdpGarbageGetsErrorPacket) {
  const PeerAddress a{*IpAddress::parse("10.0.0.1"), 1};
  for (const std::string& garbage :
       {std::string("x"), std::string(16, '\xff'), std::string(40, 'a')}) {
    const std::string reply = udp(garbage, a);
    auto parsed = udp::parse_response(
        {reinterpret_cast<const std::uint8_t*>(reply.data()), reply.size()}, false);
    ASSERT_TRUE(parsed);
    ASSERT_TRUE(std::holds_alternative<udp::ErrorResponse>(*parsed));
    EXPECT_NE(std::get<udp::ErrorResponse>(*parsed).message.find("tracker: malformed UDP packet"),
              std::string::npos);
  }
}

}  // namespace
}  // namespace starling::tracker

namespace starling::tracker {
namespace {

// A store that cannot be asked (Redis down): every request gets a clear refusal.
class UnavailableStore final : public SwarmStore {
 public:
  UnavailableStore() : SwarmStore({}) {}
  AnnounceStatus announce(const StoreAnnounce&, Seconds, SwarmCounts&, std::string&,
                          std::string&) override {
    return AnnounceStatus::unavailable;
  }
  Expected<SwarmCounts> scrape(const Sha1Digest&) const override {
    return Error(Errc::io_error, "redis down");
  }
  std::size_t sweep(Seconds) override { return 0; }
  StoreTotals totals() const override { return {}; }
};

TEST(TrackerServiceStore, UnavailableStoreGetsFailureReasonsNotCrashes) {
  TrackerService service({}, ConnectionIds::with_random_key(), 1,
                         std::make_unique<UnavailableStore>());
  const IpAddress ip = *IpAddress::parse("10.0.0.1");
  AnnounceRequest a;
  a.info_hash.bytes.fill(1);
  a.port = 6881;
  std::string body;
  service.handle_http("/announce?" + build_announce_query(a), ip, Seconds(1), body, 0);
  auto reply = decode_announce_reply(body);
  ASSERT_TRUE(reply);
  ASSERT_TRUE(reply->failure_reason);
  EXPECT_EQ(*reply->failure_reason, "tracker's peer store is unavailable; try again later");

  body.clear();
  service.handle_http("/scrape?" + build_scrape_query({{a.info_hash}}), ip, Seconds(1), body, 0);
  auto scrape = decode_scrape_reply(body);
  ASSERT_TRUE(scrape);
  ASSERT_TRUE(scrape->failure_reason);
  EXPECT_NE(scrape->failure_reason->find("unavailable"), std::string::npos);

  // UDP: connect, then the announce gets an error packet with the same text.
  const PeerAddress from{ip, 40000};
  std::string out;
  std::string pkt;
  udp::encode(pkt, udp::ConnectRequest{1});
  service.handle_udp({reinterpret_cast<const std::uint8_t*>(pkt.data()), pkt.size()}, from,
                     Seconds(1), out, 0);
  auto connected =
      udp::parse_response({reinterpret_cast<const std::uint8_t*>(out.data()), out.size()}, false);
  ASSERT_TRUE(connected);
  udp::AnnounceRequest req;
  req.connection_id = std::get<udp::ConnectResponse>(*connected).connection_id;
  req.transaction_id = 2;
  req.info_hash = a.info_hash;
  req.port = 6881;
  pkt.clear();
  out.clear();
  udp::encode(pkt, req);
  service.handle_udp({reinterpret_cast<const std::uint8_t*>(pkt.data()), pkt.size()}, from,
                     Seconds(1), out, 0);
  auto refused =
      udp::parse_response({reinterpret_cast<const std::uint8_t*>(out.data()), out.size()}, false);
  ASSERT_TRUE(refused);
  const auto* error = std::get_if<udp::ErrorResponse>(&*refused);
  ASSERT_NE(error, nullptr);
  EXPECT_NE(error->message.find("unavailable"), std::string::npos);
  EXPECT_NE(service.stats_json().find("\"errors\":3"), std::string::npos);
}

}  // namespace
}  // namespace starling::tracker
