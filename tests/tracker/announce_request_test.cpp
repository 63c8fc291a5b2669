#include "tracker/announce_request.hpp"

#include <gtest/gtest.h>

#include <string>

#include "tracker/url_query.hpp"

namespace starling::tracker {
namespace {

std::string escaped(std::string_view raw) {
  std::string out;
  append_percent_encoded(out, raw);
  return out;
}

const std::string kHashRaw("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f&=%+\xff",
                           20);
const std::string kIdRaw = "-ST0001-abcdefghijkl";

std::string base_query() {
  return "info_hash=" + escaped(kHashRaw) + "&peer_id=" + escaped(kIdRaw) + "&port=6881";
}

TEST(AnnounceRequest, ParsesAllFields) {
  const std::string q = base_query() +
                        "&uploaded=10&downloaded=20&left=30&event=started&numwant=12"
                        "&compact=1&no_peer_id=1&key=ab%2Fc&ip=10.0.0.1&ipv6=%3A%3A1&unknown=7";
  auto r = parse_announce_query(q);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->info_hash.view(), kHashRaw);
  EXPECT_EQ(std::string(r->peer_id.begin(), r->peer_id.end()), kIdRaw);
  EXPECT_EQ(r->port, 6881);
  EXPECT_EQ(r->uploaded, 10);
  EXPECT_EQ(r->downloaded, 20);
  EXPECT_EQ(r->left, 30);
  EXPECT_EQ(r->event, AnnounceEvent::started);
  EXPECT_EQ(r->numwant, 12);
  EXPECT_TRUE(r->compact);
  EXPECT_TRUE(r->no_peer_id);
  EXPECT_EQ(r->key, "ab/c");
  EXPECT_EQ(r->ip, "10.0.0.1");
  EXPECT_EQ(r->ipv6, "::1");
  EXPECT_FALSE(r->is_seed());
}

TEST(AnnounceRequest, DefaultsWhenOptionalFieldsAreMissing) {
  auto r = parse_announce_query(base_query());
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->left, AnnounceRequest::kLeftUnknown);
  EXPECT_FALSE(r->is_seed());
  EXPECT_EQ(r->numwant, AnnounceRequest::kNumwantDefault);
  EXPECT_EQ(r->event, AnnounceEvent::none);
  EXPECT_TRUE(r->compact);
  auto seed = parse_announce_query(base_query() + "&left=0&compact=0&event=completed");
  ASSERT_TRUE(seed);
  EXPECT_TRUE(seed->is_seed());
  EXPECT_FALSE(seed->compact);
  EXPECT_EQ(seed->event, AnnounceEvent::completed);
}

TEST(AnnounceRequest, UnescapedBinaryBytesAreTakenLiterally) {
  // Some clients leave unreserved bytes as they are: "abcdefghij0123456789" is 20 bytes.
  auto r =
      parse_announce_query("info_hash=abcdefghij0123456789&peer_id=" + escaped(kIdRaw) + "&port=1");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->info_hash.view(), "abcdefghij0123456789");
}

TEST(AnnounceRequest, BadInfoHashLengthNamesFieldAndOffset) {
  const std::string q =
      "port=1&info_hash=" + escaped(kHashRaw.substr(0, 19)) + "&peer_id=" + escaped(kIdRaw);
  auto r = parse_announce_query(q);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, make_error_code(Errc::tracker_bad_request));
  EXPECT_NE(r.error().detail.find("info_hash"), std::string::npos);
  EXPECT_EQ(r.error().offset, 7U);
  EXPECT_FALSE(parse_announce_query("info_hash=" + escaped(kHashRaw) +
                                    "00&peer_id=" + escaped(kIdRaw) + "&port=1"));
  EXPECT_FALSE(parse_announce_query("info_hash=%zz" + escaped(kHashRaw.substr(1)) +
                                    "&peer_id=" + escaped(kIdRaw) + "&port=1"));
}

TEST(AnnounceRequest, BadPortsAreRejected) {
  const std::string prefix = "info_hash=" + escaped(kHashRaw) + "&peer_id=" + escaped(kIdRaw);
  for (const char* port : {"0", "65536", "-1", "", "12a", "99999999999999999999"}) {
    auto r = parse_announce_query(prefix + "&port=" + port);
    ASSERT_FALSE(r) << port;
    EXPECT_NE(r.error().detail.find("port"), std::string::npos);
  }
  EXPECT_TRUE(parse_announce_query(prefix + "&port=65535"));
}

TEST(AnnounceRequest, MissingRequiredFields) {
  auto no_port =
      parse_announce_query("info_hash=" + escaped(kHashRaw) + "&peer_id=" + escaped(kIdRaw));
  ASSERT_FALSE(no_port);
  EXPECT_NE(no_port.error().detail.find("missing port"), std::string::npos);
  EXPECT_FALSE(parse_announce_query("peer_id=" + escaped(kIdRaw) + "&port=1"));
  EXPECT_FALSE(parse_announce_query("info_hash=" + escaped(kHashRaw) + "&port=1"));
  EXPECT_FALSE(parse_announce_query(""));
}

TEST(AnnounceRequest, BadNumbersAndEvents) {
  EXPECT_FALSE(parse_announce_query(base_query() + "&uploaded=-5"));
  EXPECT_FALSE(parse_announce_query(base_query() + "&left=1e3"));
  EXPECT_FALSE(parse_announce_query(base_query() + "&event=bogus"));
  EXPECT_FALSE(parse_announce_query(base_query() + "&numwant=x"));
  EXPECT_TRUE(parse_announce_query(base_query() + "&event=paused"));
}

TEST(AnnounceRequest, HugeNumwantIsClamped) {
  auto r = parse_announce_query(base_query() + "&numwant=9999999999999999999");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->numwant, 2147483647);
  auto longer = parse_announce_query(base_query() + "&numwant=123456789012345678901234567890");
  ASSERT_TRUE(longer);
  EXPECT_EQ(longer->numwant, 2147483647);
  EXPECT_FALSE(parse_announce_query(base_query() + "&uploaded=99999999999999999999"));
}

TEST(AnnounceRequest, BuildThenParseRoundTrips) {
  AnnounceRequest a;
  for (std::size_t i = 0; i < 20; ++i) {
    a.info_hash.bytes[i] = static_cast<std::uint8_t>(i * 13 + 200);
    a.peer_id[i] = static_cast<std::uint8_t>(255 - i);
  }
  a.port = 51413;
  a.uploaded = 1;
  a.downloaded = 2;
  a.left = 3;
  a.event = AnnounceEvent::stopped;
  a.numwant = 80;
  a.compact = false;
  a.no_peer_id = true;
  a.key = "k e/y";
  a.ip = "192.0.2.1";
  a.ipv6 = "2001:db8::1";
  auto back = parse_announce_query(build_announce_query(a));
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(*back, a);

  AnnounceRequest minimal;
  minimal.port = 1;
  auto again = parse_announce_query(build_announce_query(minimal));
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, minimal);
}

}  // namespace
}  // namespace starling::tracker
