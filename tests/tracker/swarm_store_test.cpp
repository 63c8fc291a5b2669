// The SwarmStore contract, run against every store: the in-memory PeerStore and RedisPeerStore
// (against a private redis-server; skipped with a message when redis-server is not installed).
#include "tracker/swarm_store.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <memory>
#include <set>
#include <string>

#include "tracker/peer_store.hpp"
#include "tracker/redis_peer_store.hpp"
#include "tracker/redis_server.hpp"

#include "store_test_support.hpp"

namespace starling::tracker {
namespace {

using test::announce;
using test::from;
using test::Result;
using test::split;
using test::torrent;

struct MemoryStore {
  static const char* unavailable() { return nullptr; }
  static std::unique_ptr<SwarmStore> make(PeerStoreLimits limits) {
    return std::make_unique<PeerStore>(limits);
  }
};

struct RedisStore {
  static testing::RedisServer& server() {
    static testing::RedisServer instance;  // one per test process, stopped at exit
    return instance;
  }
  static const char* unavailable() {
    if (!testing::RedisServer::installed()) {
      return "redis-server is not installed (scripts/deps.sh installs it): Redis store skipped";
    }
    return server().available() ? nullptr : "redis-server did not start";
  }
  // A fresh key prefix per store: tests never see each other's peers.
  static std::unique_ptr<SwarmStore> make(PeerStoreLimits limits) {
    static int stores = 0;
    auto url = parse_redis_url(
        server().url("contract-" + std::to_string(::getpid()) + "-" + std::to_string(stores++)));
    if (!url) return nullptr;
    auto store = RedisPeerStore::open(*url, limits);
    if (!store) {
      ADD_FAILURE() << store.error().message();
      return nullptr;
    }
    return std::move(*store);
  }
};

template <class Factory>
class SwarmStoreContract : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const char* why = Factory::unavailable()) GTEST_SKIP() << why;
  }
  std::unique_ptr<SwarmStore> make(PeerStoreLimits limits = {}) {
    auto store = Factory::make(limits);
    EXPECT_NE(store, nullptr);
    return store;
  }
};

struct StoreNames {
  template <class T>
  static std::string GetName(int) {
    return std::is_same_v<T, MemoryStore> ? "memory" : "redis";
  }
};

using Stores = ::testing::Types<MemoryStore, RedisStore>;
TYPED_TEST_SUITE(SwarmStoreContract, Stores, StoreNames);

TYPED_TEST(SwarmStoreContract, CountsSeedsLeechersAndCompleted) {
  auto store = this->make();
  ASSERT_TRUE(store);
  const auto t = torrent(1);
  EXPECT_EQ(announce(*store, from(t, "10.0.0.1", 1, false, AnnounceEvent::started)).counts,
            (SwarmCounts{0, 1, 0}));
  EXPECT_EQ(announce(*store, from(t, "10.0.0.2", 2, true)).counts, (SwarmCounts{1, 1, 0}));
  // The leecher completes: a seed now, one download counted, once.
  EXPECT_EQ(announce(*store, from(t, "10.0.0.1", 1, true, AnnounceEvent::completed)).counts,
            (SwarmCounts{2, 0, 1}));
  EXPECT_EQ(announce(*store, from(t, "10.0.0.1", 1, true, AnnounceEvent::completed)).counts,
            (SwarmCounts{2, 0, 1}));
  EXPECT_EQ(store->scrape(t).value(), (SwarmCounts{2, 0, 1}));
  // Stopped: removed and gets no peers.
  auto stopped = announce(*store, from(t, "10.0.0.2", 2, true, AnnounceEvent::stopped));
  EXPECT_EQ(stopped.counts, (SwarmCounts{1, 0, 1}));
  EXPECT_TRUE(stopped.peers4.empty());
  // A seed that goes back to leeching (a file deleted) is a leecher again.
  EXPECT_EQ(announce(*store, from(t, "10.0.0.1", 1, false)).counts, (SwarmCounts{0, 1, 1}));
  EXPECT_EQ(announce(*store, from(t, "10.0.0.1", 1, true)).counts, (SwarmCounts{1, 0, 1}));
  EXPECT_EQ(store->scrape(torrent(2)).value(), (SwarmCounts{}));
  // A stop for a torrent nobody announced creates nothing.
  EXPECT_EQ(announce(*store, from(torrent(2), "10.0.0.3", 3, false, AnnounceEvent::stopped)).counts,
            (SwarmCounts{}));
  const auto totals = store->totals();
  EXPECT_EQ(totals.torrents, 1U);
  EXPECT_EQ(totals.peers, 1U);
  EXPECT_EQ(totals.seeds, 1U);
}

TYPED_TEST(SwarmStoreContract, ReturnsOthersNotTheRequesterFamiliesApart) {
  auto store = this->make();
  ASSERT_TRUE(store);
  const auto t = torrent(3);
  announce(*store, from(t, "10.0.0.1", 1000));
  announce(*store, from(t, "10.0.0.2", 2000));
  announce(*store, from(t, "2001:db8::1", 3000));
  auto r = announce(*store, from(t, "10.0.0.1", 1000));
  EXPECT_EQ(r.peers4, std::string("\x0a\x00\x00\x02\x07\xd0", 6));
  ASSERT_EQ(r.peers6.size(), 18U);
  EXPECT_EQ(r.peers6.substr(16), std::string("\x0b\xb8", 2));
  StoreAnnounce only4 = from(t, "2001:db8::1", 3000);
  only4.want_v6 = false;
  auto r6 = announce(*store, only4);
  EXPECT_EQ(r6.peers4.size(), 12U);
  EXPECT_TRUE(r6.peers6.empty());
  // IPv4 and IPv6 share the numwant budget.
  StoreAnnounce two = from(t, "10.0.0.9", 9);
  two.numwant = 2;
  auto budget = announce(*store, two);
  EXPECT_EQ(budget.peers4.size() / 6 + budget.peers6.size() / 18, 2U);
  // Same address, other port: another peer.
  EXPECT_EQ(announce(*store, from(t, "10.0.0.1", 1001)).counts.incomplete, 5U);
}

TYPED_TEST(SwarmStoreContract, NumwantDefaultCapAndRandomSubsets) {
  PeerStoreLimits limits;
  limits.default_numwant = 50;
  limits.max_numwant = 200;
  auto store = this->make(limits);
  ASSERT_TRUE(store);
  const auto t = torrent(4);
  for (std::uint16_t p = 1; p <= 500; ++p) announce(*store, from(t, "10.1.0.1", p));
  auto def = announce(*store, from(t, "10.1.0.1", 1));
  EXPECT_EQ(def.peers4.size(), 50U * 6);
  EXPECT_EQ(split(def.peers4, 6).size(), 50U);  // no duplicates
  EXPECT_EQ(split(def.peers4, 6).count(std::string("\x0a\x01\x00\x01\x00\x01", 6)), 0U);
  StoreAnnounce huge = from(t, "10.1.0.1", 1);
  huge.numwant = 1'000'000;
  EXPECT_EQ(announce(*store, huge).peers4.size(), 200U * 6);
  StoreAnnounce none = from(t, "10.1.0.1", 1);
  none.numwant = 0;
  EXPECT_TRUE(announce(*store, none).peers4.empty());
  // Different requesters see different subsets; together they cover much of the swarm.
  std::set<std::string> seen;
  for (int i = 0; i < 40; ++i) {
    for (const auto& p : split(announce(*store, from(t, "10.1.0.1", 1)).peers4, 6)) seen.insert(p);
  }
  EXPECT_GT(seen.size(), 300U);
}

TYPED_TEST(SwarmStoreContract, ExpiresSilentPeersAndEmptyTorrents) {
  PeerStoreLimits limits;
  limits.peer_timeout = Seconds(100);
  auto store = this->make(limits);
  ASSERT_TRUE(store);
  const auto t = torrent(5);
  announce(*store, from(t, "10.0.0.1", 1, true), 1000);
  announce(*store, from(t, "10.0.0.2", 2), 1050);
  EXPECT_EQ(store->sweep(Seconds(1100)), 0U);
  EXPECT_EQ(store->sweep(Seconds(1101)), 1U);  // the seed, silent for 101 s
  EXPECT_EQ(store->scrape(t).value(), (SwarmCounts{0, 1, 0}));
  EXPECT_EQ(store->totals().seeds, 0U);
  announce(*store, from(t, "10.0.0.2", 2), 1140);  // re-announce keeps it
  EXPECT_EQ(store->sweep(Seconds(1200)), 0U);
  EXPECT_EQ(store->sweep(Seconds(1241)), 1U);
  const auto totals = store->totals();
  EXPECT_EQ(totals.torrents, 0U);
  EXPECT_EQ(totals.peers, 0U);
  EXPECT_EQ(totals.bytes, 0U);
}

TYPED_TEST(SwarmStoreContract, LimitsAndWhitelist) {
  PeerStoreLimits limits;
  limits.max_torrents = 2;
  limits.max_peers_per_torrent = 3;
  limits.max_peers = 5;
  auto store = this->make(limits);
  ASSERT_TRUE(store);
  for (std::uint16_t p = 1; p <= 5; ++p) announce(*store, from(torrent(1), "10.0.0.1", p));
  EXPECT_EQ(store->scrape(torrent(1)).value().incomplete, 3U);
  for (std::uint16_t p = 1; p <= 5; ++p) announce(*store, from(torrent(2), "10.0.0.1", p));
  EXPECT_EQ(store->scrape(torrent(2)).value().incomplete, 2U);  // the total limit
  EXPECT_EQ(announce(*store, from(torrent(3), "10.0.0.1", 1)).status,
            AnnounceStatus::torrent_limit);
  // A peer not stored still gets peers.
  EXPECT_EQ(announce(*store, from(torrent(1), "10.0.0.9", 9)).peers4.size(), 18U);

  auto listed = this->make();
  ASSERT_TRUE(listed);
  listed->set_whitelist({torrent(7)});
  EXPECT_EQ(announce(*listed, from(torrent(7), "10.0.0.1", 1)).status, AnnounceStatus::ok);
  EXPECT_EQ(announce(*listed, from(torrent(8), "10.0.0.1", 1)).status, AnnounceStatus::not_allowed);
}

TYPED_TEST(SwarmStoreContract, ChurnKeepsCountsExact) {
  auto store = this->make();
  ASSERT_TRUE(store);
  const auto t = torrent(6);
  std::set<int> live;
  std::uint64_t x = 12345;
  for (int step = 0; step < 2000; ++step) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    const int port = 1 + static_cast<int>((x >> 33) % 100);
    const bool stop = ((x >> 20) & 3) == 0;
    announce(*store, from(t, "10.0.0.1", static_cast<std::uint16_t>(port), false,
                          stop ? AnnounceEvent::stopped : AnnounceEvent::none));
    if (stop) {
      live.erase(port);
    } else {
      live.insert(port);
    }
    ASSERT_EQ(store->scrape(t).value().incomplete, live.size());
  }
  StoreAnnounce all = from(t, "10.9.9.9", 1);
  all.numwant = 1000;
  auto r = announce(*store, all);
  EXPECT_EQ(r.peers4.size(), live.size() * 6);
  for (const auto& p : split(r.peers4, 6)) {
    EXPECT_EQ(live.count((static_cast<std::uint8_t>(p[4]) << 8) | static_cast<std::uint8_t>(p[5])),
              1U);
  }
  EXPECT_EQ(store->totals().peers, live.size() + 1);
}

TYPED_TEST(SwarmStoreContract, AnswersByRack) {
  auto store = this->make();
  ASSERT_TRUE(store);
  // .1-.5 in rack a, .6-.9 in rack b.
  auto racks = std::make_shared<RackMap>();
  auto peer = [](int last) {
    return PeerAddress{IpAddress::v4_from(0x0A000000U | static_cast<std::uint32_t>(last)), 6881};
  };
  for (int i = 1; i <= 9; ++i) racks->assign(peer(i).ip, i <= 5 ? "a" : "b");
  store->set_racks(racks, LocalitySettings{.min_cross = 1, .min_peers = 0});
  const Sha1Digest hash = sha1("deploy");
  for (int i = 1; i <= 9; ++i) {
    StoreAnnounce a;
    a.info_hash = hash;
    a.peer = peer(i);
    a.numwant = 0;
    ASSERT_TRUE(announce(*store, a).peers4.empty());
  }
  StoreAnnounce ask;
  ask.info_hash = hash;
  ask.peer = peer(1);
  ask.numwant = 5;
  const auto got = *parse_compact_peers(announce(*store, ask).peers4, false);
  ASSERT_EQ(got.size(), 5U);
  int same_rack = 0;
  for (const auto& p : got) {
    EXPECT_NE(p, peer(1));
    if (racks->rack_of(p.ip) == "a") ++same_rack;
  }
  EXPECT_EQ(same_rack, 4);  // .2-.5: all of rack a but itself, and one from rack b
}

}  // namespace
}  // namespace starling::tracker
