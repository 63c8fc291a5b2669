// 200 real DHT nodes (session::DhtService, each on its own UDP socket on 127.0.0.1) on one
// io_context in one thread: get_peers for an announced hash finds the announcer. The sans-IO
// counterpart on an in-memory network is tests/dht/dht_network_test.cpp; this one goes through
// the kernel's loopback, the socket's batching and the service's timer. Bounded: ~30 s wall in
// all, at most; a lookup normally takes milliseconds.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "session/dht_service.hpp"

namespace starling::session {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using boost::asio::ip::tcp;
using boost::asio::ip::udp;

struct LoopbackNode {
  // Declared before the service, so destroyed after it (the service unregisters itself).
  std::unique_ptr<net::UdpSocket> socket;
  std::unique_ptr<DhtService> dht;
  udp::endpoint endpoint;
  struct Found {
    Clock::time_point at;
    int hops = 0;
  };
  // info-hash -> announcer endpoint -> first time (and hops) we were told about it.
  std::map<Sha1Digest, std::map<tcp::endpoint, Found>> found;
};

class LoopbackDht {
 public:
  LoopbackDht() {
    // KRPC datagrams are small; 200 sockets with the default 32 × 64 KiB receive buffers
    // would take 400 MiB.
    socket_settings_.receive_batch = 8;
    socket_settings_.max_datagram_size = 4096;
  }

  LoopbackNode& add_node(std::mt19937_64& rng) {
    auto node = std::make_unique<LoopbackNode>();
    node->socket = std::make_unique<net::UdpSocket>(io_, socket_settings_);
    const Status opened =
        node->socket->open(udp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
    EXPECT_TRUE(opened) << (opened ? "" : opened.error().message());
    node->endpoint = node->socket->local_endpoint();
    node->dht = std::make_unique<DhtService>(io_, *node->socket, dht::random_node_id(rng));
    LoopbackNode& n = *node;
    n.dht->on_peers = [&n](const Sha1Digest& hash, const std::vector<tcp::endpoint>& peers) {
      for (const auto& peer : peers) {
        n.found[hash].try_emplace(peer, LoopbackNode::Found{Clock::now(), n.dht->hops_of_found()});
      }
    };
    nodes_.push_back(std::move(node));
    return n;
  }

  // Runs the io_context until `done` holds or `limit` (real time) has passed.
  bool run_until(const std::function<bool()>& done, Clock::duration limit) {
    const auto deadline = Clock::now() + limit;
    while (!done()) {
      if (Clock::now() >= deadline) return false;
      if (io_.stopped()) io_.restart();
      io_.run_for(10ms);
    }
    return true;
  }
  void run_for(Clock::duration d) {
    run_until([] { return false; }, d);
  }

  std::vector<std::unique_ptr<LoopbackNode>>& nodes() { return nodes_; }

 private:
  boost::asio::io_context io_;
  net::UdpSocketSettings socket_settings_;
  std::vector<std::unique_ptr<LoopbackNode>> nodes_;  // after io_: destroyed before it
};

TEST(DhtLoopback, TwoHundredNodesOnLoopbackFindTheAnnouncer) {
  const auto test_start = Clock::now();
  const auto hard_end = test_start + 30s;
  const auto remaining = [&] { return std::max(Clock::duration{0}, hard_end - Clock::now()); };

  constexpr int kNodes = 200;
  constexpr int kTriples = 5;
  LoopbackDht net;
  std::mt19937_64 rng(4242);
  // Joining in waves of 20: each node through one random earlier node, every other one also
  // through a second, as nodes join a real DHT over time.
  for (int i = 0; i < kNodes; ++i) {
    auto& node = net.add_node(rng);
    if (i > 0) {
      const auto bound = static_cast<std::uint64_t>(i);
      node.dht->add_node(net.nodes()[rng() % bound]->endpoint);
      if (i % 2 == 0) node.dht->add_node(net.nodes()[rng() % bound]->endpoint);
    }
    if (i % 20 == 19) net.run_for(100ms);
  }
  net.run_for(3s);  // let the tables settle (bootstrap lookups and their answers)
  const auto settled = Clock::now();
  std::size_t table_total = 0;
  std::size_t empty_tables = 0;
  for (const auto& n : net.nodes()) {
    const auto size = n->dht->node().table().size();
    table_total += size;
    empty_tables += size == 0 ? 1 : 0;
  }
  EXPECT_EQ(empty_tables, 0u);
  EXPECT_GT(table_total / kNodes, 10u) << "average routing table size";

  int found = 0;
  std::vector<int> hops;
  std::vector<double> ms_to_find;
  for (int t = 0; t < kTriples; ++t) {
    const Sha1Digest hash = dht::random_node_id(rng);
    const auto a = static_cast<std::size_t>(rng() % kNodes);
    auto s = static_cast<std::size_t>(rng() % kNodes);
    if (s == a) s = (s + 1) % kNodes;
    auto& announcer = *net.nodes()[a];
    auto& searcher = *net.nodes()[s];
    // A seed's node announces its peer port, which is its UDP port (one socket, as in Session).
    const tcp::endpoint expected(announcer.endpoint.address(), announcer.endpoint.port());

    // The announcer looks the hash up and stores itself at the closest nodes that answered.
    std::uint64_t stored_before = 0;
    for (const auto& n : net.nodes()) stored_before += n->dht->node().counters().announces_stored;
    announcer.dht->search(hash, announcer.endpoint.port());
    const bool stored = net.run_until(
        [&] {
          std::uint64_t stored_now = 0;
          for (const auto& n : net.nodes()) {
            stored_now += n->dht->node().counters().announces_stored;
          }
          return stored_now > stored_before;
        },
        std::min<Clock::duration>(5s, remaining()));
    EXPECT_TRUE(stored) << "triple " << t << ": no node stored the announce";
    net.run_for(std::min<Clock::duration>(200ms, remaining()));  // the other announce replies

    const auto search_start = Clock::now();
    searcher.dht->search(hash, std::nullopt);
    const bool ok = net.run_until([&] { return searcher.found[hash].count(expected) != 0; },
                                  std::min<Clock::duration>(8s, remaining()));
    EXPECT_TRUE(ok) << "triple " << t << ": node " << s << " did not find announcer " << a << " at "
                    << expected;
    if (!ok) continue;
    ++found;
    const auto& f = searcher.found[hash].at(expected);
    hops.push_back(f.hops);
    ms_to_find.push_back(std::chrono::duration<double, std::milli>(f.at - search_start).count());
    std::printf(
        "[ dht-loopback ] triple %d: node %zu found announcer %zu (%s) in %.1f ms, %d hop(s)\n", t,
        s, a, (expected.address().to_string() + ":" + std::to_string(expected.port())).c_str(),
        ms_to_find.back(), f.hops);
    announcer.dht->stop_search(hash);
    searcher.dht->stop_search(hash);
  }
  const double total_s = std::chrono::duration<double>(Clock::now() - test_start).count();
  const double settle_s = std::chrono::duration<double>(settled - test_start).count();
  EXPECT_EQ(found, kTriples);
  EXPECT_LT(total_s, 40.0);
  ASSERT_FALSE(hops.empty()) << "nothing found";
  std::sort(hops.begin(), hops.end());
  std::sort(ms_to_find.begin(), ms_to_find.end());
  std::printf(
      "[ dht-loopback ] %d nodes, avg table %zu, found %d/%d; hops min %d median %d max %d; "
      "ms to find min %.1f median %.1f max %.1f; join+settle %.1f s, total %.1f s\n",
      kNodes, table_total / kNodes, found, kTriples, hops.front(), hops[hops.size() / 2],
      hops.back(), ms_to_find.front(), ms_to_find[ms_to_find.size() / 2], ms_to_find.back(),
      settle_s, total_s);
  RecordProperty("found", found);
  RecordProperty("median_hops", hops[hops.size() / 2]);
  RecordProperty("max_hops", hops.back());
  RecordProperty("median_ms_to_find", static_cast<int>(ms_to_find[ms_to_find.size() / 2]));
}

}  // namespace
}  // namespace starling::session
