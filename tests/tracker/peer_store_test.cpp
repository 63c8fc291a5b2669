#include "tracker/peer_store.hpp"

#include <gtest/gtest.h>

#include <unistd.h>
#include <cstdio>
#include <fstream>
#include <set>
#include <string>

#include "store_test_support.hpp"

namespace starling::tracker {
namespace {

using test::announce;
using test::from;
using test::Result;
using test::split;
using test::torrent;

// The behaviour every store shares is in swarm_store_test.cpp; here, what is PeerStore's own.

TEST(PeerStore, ChurnKeepsIndexConsistent) {
  PeerStore store;
  const auto t = torrent(6);
  std::set<int> live;
  std::uint64_t x = 12345;
  for (int step = 0; step < 20000; ++step) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    const int port = 1 + static_cast<int>((x >> 33) % 300);
    const bool stop = ((x >> 20) & 3) == 0;
    announce(store, from(t, "10.0.0.1", static_cast<std::uint16_t>(port), false,
                         stop ? AnnounceEvent::stopped : AnnounceEvent::none));
    if (stop) {
      live.erase(port);
    } else {
      live.insert(port);
    }
    ASSERT_EQ(store.scrape(t).value().incomplete, live.size());
  }
  StoreAnnounce all = from(t, "10.9.9.9", 1);
  all.numwant = 1000;
  auto r = announce(store, all);
  EXPECT_EQ(r.peers4.size(), std::min<std::size_t>(live.size(), 200) * 6);
  for (const auto& p : split(r.peers4, 6)) {
    EXPECT_EQ(live.count((static_cast<std::uint8_t>(p[4]) << 8) | static_cast<std::uint8_t>(p[5])),
              1U);
  }
}

std::size_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t pages = 0;
  std::size_t resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

// docs/architecture.md: an IPv4 peer costs at most 12 x 2 (array slack) + 4 x 4 (index slots)
// = 40 bytes, a torrent kTorrentOverhead more.
TEST(PeerStore, MillionPeersStayWithinTheDocumentedBound) {
  constexpr std::uint32_t kTorrents = 10'000;
  constexpr std::uint32_t kPeers = 1'000'000;
  constexpr std::size_t kBound = kPeers * 40 + kTorrents * PeerStore::kTorrentOverhead;
  PeerStoreLimits limits;
  limits.peer_timeout = Seconds(3600);
  const std::size_t rss_before = resident_bytes();
  {
    PeerStore store(limits);
    SwarmCounts counts;
    std::string peers4;
    std::string peers6;
    StoreAnnounce a;
    a.numwant = 0;
    for (std::uint32_t i = 0; i < kPeers; ++i) {
      a.info_hash = torrent(i % kTorrents);
      a.peer = {IpAddress::v4_from(0x0a000000U + i / 60000),
                static_cast<std::uint16_t>(1 + i % 60000)};
      ASSERT_EQ(store.announce(a, Seconds(10), counts, peers4, peers6), AnnounceStatus::ok);
    }
    const auto totals = store.totals();
    EXPECT_EQ(totals.torrents, kTorrents);
    EXPECT_EQ(totals.peers, kPeers);
    EXPECT_LE(totals.bytes, kBound);
    std::printf("store accounting: %zu bytes, %.1f per peer; RSS growth %zu bytes\n", totals.bytes,
                static_cast<double>(totals.bytes) / kPeers,
                resident_bytes() - std::min(resident_bytes(), rss_before));
    EXPECT_GE(totals.bytes, kPeers * 16U);  // the accounting is not trivially small
#if !defined(__SANITIZE_ADDRESS__) && !defined(__has_feature)
    const std::size_t rss_growth = resident_bytes() - std::min(resident_bytes(), rss_before);
    EXPECT_LE(rss_growth, kBound + kBound / 2) << "RSS grew by " << rss_growth;
#elif defined(__has_feature)
#if !__has_feature(address_sanitizer)
    const std::size_t rss_growth = resident_bytes() - std::min(resident_bytes(), rss_before);
    EXPECT_LE(rss_growth, kBound + kBound / 2) << "RSS grew by " << rss_growth;
#endif
#endif
    (void)rss_before;
    // An hour later, everyone has expired.
    EXPECT_EQ(store.sweep(Seconds(10 + 3601)), kPeers);
    EXPECT_EQ(store.totals().peers, 0U);
    EXPECT_EQ(store.totals().torrents, 0U);
  }
}

}  // namespace
}  // namespace starling::tracker
