// What is RedisPeerStore's own: replicas sharing one swarm through Redis, key prefixes keeping
// fleets apart, and a Redis that dies and comes back (the contract is in swarm_store_test.cpp).
#include "tracker/redis_peer_store.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

#include "tracker/redis_server.hpp"

namespace starling::tracker {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

StoreAnnounce from(std::string_view ip, std::uint16_t port, bool seed = false) {
  StoreAnnounce a;
  a.info_hash = sha1("replicas");
  a.peer = {*IpAddress::parse(ip), port};
  a.seed = seed;
  return a;
}

class RedisPeerStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::RedisServer::installed()) {
      GTEST_SKIP() << "redis-server is not installed (scripts/deps.sh installs it)";
    }
    if (!server_.available()) GTEST_SKIP() << "redis-server did not start";
  }
  std::unique_ptr<RedisPeerStore> open(const std::string& prefix, RedisTimeouts timeouts = {}) {
    auto url = parse_redis_url(server_.url(prefix + "-" + std::to_string(::getpid())));
    EXPECT_TRUE(url);
    auto store = RedisPeerStore::open(*url, {}, timeouts);
    EXPECT_TRUE(store) << (store ? "" : store.error().message());
    return store ? std::move(*store) : nullptr;
  }
  testing::RedisServer server_;
};

TEST_F(RedisPeerStoreTest, ReplicasShareTheSwarmAndPrefixesKeepFleetsApart) {
  auto replica_a = open("fleet");
  auto replica_b = open("fleet");
  auto other_fleet = open("other");
  ASSERT_TRUE(replica_a && replica_b && other_fleet);
  SwarmCounts counts;
  std::string peers4;
  std::string peers6;
  ASSERT_EQ(replica_a->announce(from("10.0.0.1", 1, true), Seconds(100), counts, peers4, peers6),
            AnnounceStatus::ok);
  // A peer asking the other replica finds the seed that announced to the first.
  ASSERT_EQ(replica_b->announce(from("10.0.0.2", 2), Seconds(101), counts, peers4, peers6),
            AnnounceStatus::ok);
  EXPECT_EQ(peers4, std::string("\x0a\x00\x00\x01\x00\x01", 6));
  EXPECT_EQ(counts, (SwarmCounts{1, 1, 0}));
  EXPECT_EQ(replica_a->totals().peers, 2U);
  // The same Redis, another prefix: another fleet, nobody there.
  peers4.clear();
  ASSERT_EQ(other_fleet->announce(from("10.0.0.3", 3), Seconds(101), counts, peers4, peers6),
            AnnounceStatus::ok);
  EXPECT_TRUE(peers4.empty());
  EXPECT_EQ(counts, (SwarmCounts{0, 1, 0}));
  EXPECT_EQ(other_fleet->totals().peers, 1U);
}

TEST_F(RedisPeerStoreTest, FailsFastWhileRedisIsDownAndRecovers) {
  RedisTimeouts timeouts;
  timeouts.connect = milliseconds(300);
  timeouts.command = milliseconds(300);
  timeouts.backoff_min = milliseconds(50);
  timeouts.backoff_max = milliseconds(200);
  auto store = open("down", timeouts);
  ASSERT_TRUE(store);
  std::vector<bool> changes;  // announces run on this thread: no lock needed
  store->on_state_change([&](bool available, const std::string&) { changes.push_back(available); });
  SwarmCounts counts;
  std::string peers4;
  std::string peers6;
  ASSERT_EQ(store->announce(from("10.0.0.1", 1), Seconds(100), counts, peers4, peers6),
            AnnounceStatus::ok);

  server_.kill();
  const auto before = steady_clock::now();
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(store->announce(from("10.0.0.2", 2), Seconds(101), counts, peers4, peers6),
              AnnounceStatus::unavailable);
  }
  EXPECT_FALSE(store->scrape(sha1("replicas")));
  EXPECT_EQ(store->totals().peers, 0U);
  EXPECT_EQ(store->sweep(Seconds(100000)), 0U);
  EXPECT_LT(steady_clock::now() - before, std::chrono::seconds(3));  // no hang
  EXPECT_NE(store->last_error().find("redis://127.0.0.1:"), std::string::npos)
      << store->last_error();

  // Back (empty, its script cache too): the store reconnects after its backoff and reloads
  // the scripts; peers re-announce and the swarm rebuilds.
  server_.start();
  ASSERT_TRUE(server_.available());
  AnnounceStatus status = AnnounceStatus::unavailable;
  for (int i = 0; i < 50 && status != AnnounceStatus::ok; ++i) {
    std::this_thread::sleep_for(milliseconds(50));
    status = store->announce(from("10.0.0.2", 2), Seconds(102), counts, peers4, peers6);
  }
  ASSERT_EQ(status, AnnounceStatus::ok);
  EXPECT_EQ(changes, (std::vector<bool>{false, true}));  // once down, once back
  EXPECT_EQ(counts, (SwarmCounts{0, 1, 0}));
  EXPECT_EQ(store->sweep(Seconds(100000)), 1U);
}

TEST_F(RedisPeerStoreTest, OpenNamesAnUnreachableRedis) {
  const std::uint16_t port = server_.port();
  server_.kill();
  auto url = parse_redis_url("redis://127.0.0.1:" + std::to_string(port));
  ASSERT_TRUE(url);
  auto store = RedisPeerStore::open(*url, {});
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().message().find("redis://127.0.0.1:" + std::to_string(port)),
            std::string::npos)
      << store.error().message();
}

}  // namespace
}  // namespace starling::tracker
