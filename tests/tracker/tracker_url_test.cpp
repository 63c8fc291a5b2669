#include "tracker/tracker_url.hpp"

#include "tracker/announcer.hpp"

#include <gtest/gtest.h>

namespace starling::tracker {
namespace {

TEST(TrackerUrl, HttpWithPathQueryAndDefaultPort) {
  auto u = parse_tracker_url("http://tracker.example.org/announce.php?passkey=abc");
  ASSERT_TRUE(u) << u.error().message();
  EXPECT_EQ(u->scheme, TrackerScheme::http);
  EXPECT_EQ(u->host, "tracker.example.org");
  EXPECT_EQ(u->port, 80);
  EXPECT_EQ(u->target, "/announce.php?passkey=abc");
  EXPECT_EQ(u->target_with_query("info_hash=x"), "/announce.php?passkey=abc&info_hash=x");
}

TEST(TrackerUrl, UdpAndIpv6Hosts) {
  auto u = parse_tracker_url("udp://[::1]:6969/announce");
  ASSERT_TRUE(u) << u.error().message();
  EXPECT_EQ(u->scheme, TrackerScheme::udp);
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 6969);
  auto h = parse_tracker_url("http://user:pw@127.0.0.1:8080");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->host, "127.0.0.1");
  EXPECT_EQ(h->port, 8080);
  EXPECT_EQ(h->target, "/");
  EXPECT_EQ(h->target_with_query("a=1"), "/?a=1");
  EXPECT_EQ(parse_tracker_url("https://t.example/a")->port, 443);
}

TEST(TrackerUrl, MalformedUrlsAreRefusedWithTheUrlNamed) {
  for (const char* bad : {"ftp://x/announce", "udp://host", "http://:80/a", "http://h:0/a",
                          "http://h:65536/a", "http://h:12x/a", "udp://[::1:6969", "tracker"}) {
    auto u = parse_tracker_url(bad);
    ASSERT_FALSE(u) << bad;
    EXPECT_NE(u.error().message().find(bad), std::string::npos) << u.error().message();
  }
}

TEST(TrackerUrl, ScrapeUrlFollowsTheAnnounceConvention) {
  const auto scrape_of = [](const char* text) -> std::string {
    auto scrape = scrape_url(*parse_tracker_url(text));
    return scrape ? scrape->target : "(none)";
  };
  EXPECT_EQ(scrape_of("http://t.example/announce"), "/scrape");
  EXPECT_EQ(scrape_of("http://t.example/x/announce.php?passkey=a/b"), "/x/scrape.php?passkey=a/b");
  EXPECT_EQ(scrape_of("http://t.example/announce?x=announce"), "/scrape?x=announce");
  EXPECT_EQ(scrape_of("http://t.example/a"), "(none)");
  EXPECT_EQ(scrape_of("http://t.example/x/announce/y"), "(none)");
  EXPECT_EQ(scrape_of("udp://t.example:80"), "/");  // UDP scrapes the same address
}

}  // namespace
}  // namespace starling::tracker
