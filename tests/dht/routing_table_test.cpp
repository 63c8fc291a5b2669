#include "dht/routing_table.hpp"

#include <gtest/gtest.h>

#include "dht/lookup.hpp"
#include "dht/peer_storage.hpp"
#include "dht/tokens.hpp"

namespace starling::dht {
namespace {

using Clock = std::chrono::steady_clock;

PeerAddress addr(std::uint32_t n) {
  return PeerAddress{tracker::IpAddress::v4_from(0x0a000000U + n),
                     static_cast<std::uint16_t>(1000 + n % 60000)};
}

TEST(NodeIdMath, PrefixDistanceAndOrdering) {
  NodeId a;
  NodeId b;
  EXPECT_EQ(common_prefix_bits(a, b), 160);
  b.bytes[0] = 0x01;
  EXPECT_EQ(common_prefix_bits(a, b), 7);
  b.bytes[0] = 0x80;
  EXPECT_EQ(common_prefix_bits(a, b), 0);
  NodeId c;
  c.bytes[19] = 1;
  EXPECT_TRUE(closer(a, c, b));
  EXPECT_FALSE(closer(a, b, c));
  EXPECT_FALSE(closer(a, c, c));
  std::mt19937_64 rng(1);
  for (int bits = 0; bits < 160; bits += 7) {
    EXPECT_EQ(common_prefix_bits(a, random_id_with_prefix(a, bits, rng)), bits);
  }
}

TEST(RoutingTable, BucketsHoldKAndKeepTheRestAsReplacements) {
  std::mt19937_64 rng(7);
  const NodeId own = random_node_id(rng);
  RoutingTable table(own, RoutingSettings{.k = 8, .replacements = 2});
  const auto now = Clock::now();
  // Twelve nodes in bucket 0 (first bit differs from ours).
  std::vector<NodeInfo> far;
  for (std::uint32_t i = 0; i < 12; ++i)
    far.push_back({random_id_with_prefix(own, 0, rng), addr(i)});
  int added = 0;
  int waiting = 0;
  for (const auto& n : far) {
    const auto heard = table.heard_from(n, now, false);
    added += heard == RoutingTable::Heard::added ? 1 : 0;
    waiting += heard == RoutingTable::Heard::replacement ? 1 : 0;
  }
  EXPECT_EQ(added, 8);
  EXPECT_EQ(waiting, 4);
  EXPECT_EQ(table.size(), 8u);
  // The same id from another address does not take over the entry; our own id is ignored.
  EXPECT_EQ(table.heard_from({far[0].id, addr(999)}, now, false), RoutingTable::Heard::ignored);
  EXPECT_EQ(table.heard_from({own, addr(998)}, now, false), RoutingTable::Heard::ignored);
  EXPECT_EQ(table.heard_from(far[0], now, true), RoutingTable::Heard::updated);
  // A node that never answered goes at its first timeout; the newest replacement moves in.
  table.failed(far[1].address);
  EXPECT_EQ(table.size(), 8u);
  EXPECT_FALSE(table.contains(far[1].id));
  EXPECT_TRUE(table.contains(far[11].id));
  // One that answered survives two timeouts and goes at the third.
  table.failed(far[0].address);
  table.failed(far[0].address);
  EXPECT_TRUE(table.contains(far[0].id));
  table.failed(far[0].address);
  EXPECT_FALSE(table.contains(far[0].id));
}

TEST(RoutingTable, ClosestSortsByXorDistance) {
  std::mt19937_64 rng(3);
  const NodeId own = random_node_id(rng);
  RoutingTable table(own);
  const auto now = Clock::now();
  for (std::uint32_t i = 0; i < 300; ++i)
    table.heard_from({random_node_id(rng), addr(i)}, now, true);
  const NodeId target = random_node_id(rng);
  const auto closest = table.closest(target, 8);
  ASSERT_EQ(closest.size(), 8u);
  for (std::size_t i = 1; i < closest.size(); ++i) {
    EXPECT_TRUE(closer(target, closest[i - 1].id, closest[i].id));
  }
  // Refresh targets fall into the stale buckets.
  const auto targets =
      table.refresh_targets(now + std::chrono::hours(1), std::chrono::minutes(15), rng);
  EXPECT_FALSE(targets.empty());
  for (std::size_t i = 0; i < targets.size(); ++i) {
    EXPECT_EQ(table.bucket_of(targets[i]), static_cast<int>(i));
  }
  EXPECT_TRUE(
      table.refresh_targets(now + std::chrono::hours(1), std::chrono::minutes(15), rng).empty());
}

TEST(Lookup, QueriesAlphaAtATimeAndEndsWhenTheKClosestAnswered) {
  std::mt19937_64 rng(5);
  const NodeId target = random_node_id(rng);
  Lookup lookup(target, LookupSettings{.k = 2, .alpha = 2});
  std::vector<NodeInfo> start;
  for (std::uint32_t i = 0; i < 4; ++i) start.push_back({random_node_id(rng), addr(i)});
  lookup.add_candidates(start, 1);
  auto first = lookup.next_queries();
  ASSERT_EQ(first.size(), 2u);
  EXPECT_TRUE(lookup.next_queries().empty());  // alpha in flight
  // The first names a node closer than everything: it is asked next, one hop further.
  NodeInfo closest{target, addr(100)};
  closest.id.bytes[19] ^= 1;
  EXPECT_EQ(lookup.on_response(first[0].address, first[0].id, {closest}, "tok"), 1);
  auto second = lookup.next_queries();
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].id, closest.id);
  lookup.on_failure(first[1].address);
  EXPECT_FALSE(lookup.done());
  EXPECT_EQ(lookup.on_response(closest.address, closest.id, {}, "t2"), 2);
  // Now the two closest live candidates: `closest` answered, the next fresh one must be asked.
  while (!lookup.done()) {
    auto more = lookup.next_queries();
    ASSERT_FALSE(more.empty());
    for (const auto& n : more) lookup.on_response(n.address, n.id, {}, "");
  }
  const auto answered = lookup.closest_answered();
  ASSERT_EQ(answered.size(), 2u);
  EXPECT_EQ(answered[0].node.id, closest.id);
  EXPECT_EQ(answered[0].token, "t2");
}

TEST(Tokens, ValidForTheSameIpAcrossOneRotationOnly) {
  std::mt19937_64 rng(9);
  const auto t0 = Clock::now();
  TokenIssuer tokens(rng, t0, std::chrono::minutes(5));
  const auto ip = *tracker::IpAddress::parse("10.1.2.3");
  const auto other = *tracker::IpAddress::parse("10.1.2.4");
  const std::string token = tokens.issue(ip, t0);
  EXPECT_TRUE(tokens.valid(ip, token, t0));
  EXPECT_FALSE(tokens.valid(other, token, t0));
  EXPECT_FALSE(tokens.valid(ip, token + "x", t0));
  EXPECT_TRUE(tokens.valid(ip, token, t0 + std::chrono::minutes(7)));    // previous secret
  EXPECT_FALSE(tokens.valid(ip, token, t0 + std::chrono::minutes(11)));  // two rotations on
}

TEST(PeerStorage, BoundsTorrentsAndPeersAndExpires) {
  std::mt19937_64 rng(2);
  PeerStorage storage(PeerStorageLimits{.max_torrents = 2,
                                        .max_peers_per_torrent = 3,
                                        .lifetime = std::chrono::minutes(30),
                                        .max_reply_peers = 2});
  const auto t0 = Clock::now();
  NodeId h1;
  NodeId h2;
  NodeId h3;
  h2.bytes[0] = 2;
  h3.bytes[0] = 3;
  for (std::uint32_t i = 0; i < 5; ++i) {
    EXPECT_TRUE(storage.add(h1, addr(i), t0 + std::chrono::seconds(i)));
  }
  EXPECT_EQ(storage.peers(), 3u);  // the oldest were replaced
  EXPECT_EQ(storage.get(h1, rng).size(), 2u);
  EXPECT_TRUE(storage.add(h2, addr(9), t0));
  EXPECT_FALSE(storage.add(h3, addr(9), t0));
  EXPECT_EQ(storage.torrents(), 2u);
  storage.expire(t0 + std::chrono::minutes(30) + std::chrono::seconds(2));
  EXPECT_EQ(storage.torrents(), 1u);
  EXPECT_EQ(storage.peers(), 2u);
}

}  // namespace
}  // namespace starling::dht
