// DHT nodes talking over an in-memory network with a simulated clock: single nodes answering
// queries, a seed found by a leecher that knows only the seed, and 200 nodes where get_peers
// finds the announcer.
#include <gtest/gtest.h>

#include <map>
#include <queue>

#include "dht/dht_node.hpp"
#include "dht/dht_sim_network.hpp"

namespace starling::dht {
namespace {

using namespace std::chrono_literals;

TEST(DhtNode, AnswersPingFindNodeAndChecksAnnounceTokens) {
  testing::SimNetwork net(1);
  auto& a = net.add_node();
  auto& b = net.add_node();
  a.node->add_node(b.address, net.now());
  net.run_for(1s);
  EXPECT_EQ(a.node->table().size(), 1u);
  EXPECT_EQ(b.node->table().size(), 1u);  // b heard a's query
  ASSERT_TRUE(a.node->external_ip());     // from b's "ip" field

  // A forged announce (no valid token) is refused with error 203 and not stored.
  KrpcMessage forged;
  forged.transaction = "zz";
  forged.method = Method::announce_peer;
  forged.id = a.node->id();
  forged.info_hash.bytes[0] = 7;
  forged.port = 5555;
  forged.token = "12345678";
  b.node->on_datagram(a.address, encode_krpc(forged), net.now());
  auto out = b.node->take_outgoing();
  ASSERT_EQ(out.size(), 1u);
  auto reply = decode_krpc(out[0].bytes);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->kind, MessageKind::error);
  EXPECT_EQ(reply->error_code, kErrorProtocol);
  EXPECT_EQ(b.node->storage().peers(), 0u);
  EXPECT_EQ(b.node->counters().bad_tokens, 1u);
}

TEST(DhtNode, RateLimitsIncomingQueriesPerSource) {
  testing::SimNetwork net(2);
  auto& a = net.add_node();
  KrpcMessage ping;
  ping.method = Method::ping;
  ping.id.bytes[0] = 1;
  const PeerAddress from{*tracker::IpAddress::parse("10.9.9.9"), 4000};
  for (int i = 0; i < 80; ++i) {
    ping.transaction = std::to_string(i);
    a.node->on_datagram(from, encode_krpc(ping), net.now());
  }
  EXPECT_EQ(a.node->take_outgoing().size(), 50u);  // max_queries_per_source per second
  EXPECT_EQ(a.node->counters().queries_dropped, 30u);
  a.node->on_datagram(from, encode_krpc(ping), net.now() + 1s);
  EXPECT_EQ(a.node->take_outgoing().size(), 1u);  // a new second
}

TEST(DhtNode, ALeecherBootstrappedOnlyToTheSeedFindsItAtOnce) {
  testing::SimNetwork net(3);
  auto& seed = net.add_node();
  auto& leecher = net.add_node();
  NodeId hash;
  hash.bytes[0] = 0xab;
  seed.node->search(hash, 6881, net.now());  // the seed has it
  const auto start = net.now();
  leecher.node->add_node(seed.address, net.now());
  leecher.node->search(hash, std::nullopt, net.now());
  ASSERT_TRUE(net.run_until([&] { return !leecher.found(hash).empty(); }, 10s));
  EXPECT_LT(net.now() - start, 1s);
  const auto peers = leecher.found(hash);
  // The seed's node is on loopback: it names itself 127.0.0.1 with its peer port.
  EXPECT_NE(std::find(peers.begin(), peers.end(),
                      PeerAddress{*tracker::IpAddress::parse("127.0.0.1"), 6881}),
            peers.end());
}

TEST(DhtNetwork, TwoHundredNodesFindTheAnnouncer) {
  testing::SimNetwork net(42);
  constexpr int kNodes = 200;
  for (int i = 0; i < kNodes; ++i) net.add_node();
  // Each node joins through a random earlier one, as nodes join a real DHT over time.
  std::mt19937_64 rng(99);
  for (int i = 1; i < kNodes; ++i) {
    const auto via = static_cast<std::size_t>(rng() % static_cast<std::uint64_t>(i));
    net.nodes()[static_cast<std::size_t>(i)]->node->add_node(net.nodes()[via]->address, net.now());
    net.run_for(50ms);
  }
  net.run_for(30s);
  std::size_t table_total = 0;
  for (const auto& n : net.nodes()) table_total += n->node->table().size();
  EXPECT_GT(table_total / kNodes, 15u) << "average routing table size";

  // Ten torrents, each announced by one node and searched by another.
  int found = 0;
  std::vector<int> hops;
  for (int t = 0; t < 10; ++t) {
    const NodeId hash = random_node_id(rng);
    auto& announcer = *net.nodes()[rng() % kNodes];
    auto& searcher = *net.nodes()[rng() % kNodes];
    if (&announcer == &searcher) continue;
    announcer.node->search(hash, static_cast<std::uint16_t>(7000 + t), net.now());
    net.run_for(10s);  // the announce lookup completes and stores at the closest nodes
    searcher.node->search(hash, std::nullopt, net.now());
    const bool ok = net.run_until(
        [&] {
          const auto peers = searcher.found(hash);
          return std::find(peers.begin(), peers.end(),
                           PeerAddress{announcer.address.ip,
                                       static_cast<std::uint16_t>(7000 + t)}) != peers.end();
        },
        10s);
    found += ok ? 1 : 0;
    if (!searcher.node->hops_to_peers().empty())
      hops.push_back(searcher.node->hops_to_peers().back());
  }
  EXPECT_GE(found, 9);
  ASSERT_FALSE(hops.empty());
  std::sort(hops.begin(), hops.end());
  std::printf("[ dht-200 ] found %d/10, hops to the first peers: min %d median %d max %d\n", found,
              hops.front(), hops[hops.size() / 2], hops.back());
  EXPECT_LE(hops[hops.size() / 2], 6);
}

}  // namespace
}  // namespace starling::dht
