// DHT lookups in a simulated network of starling DHT nodes (the unit test's in-memory
// network: 5 ms one-way latency, simulated clock): how many hops and datagrams a get_peers
// lookup needs to reach an announced peer, and how long in simulated time, with the default
// parallelism (alpha = 3) against a sequential reference (alpha = 1) in the same invocation.
// With DEAD percent, that share of the nodes (never the announcer or the searcher) goes silent
// after the network formed, as real DHT nodes do: lookups then meet 2 s query timeouts.
//   dht_hops [NODES=200] [LOOKUPS=30] [RUNS=3] [DEAD=0]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "dht/dht_sim_network.hpp"

using namespace starling::dht;
using namespace std::chrono_literals;

namespace {

struct Result {
  double found = 0;  // share of lookups that found the announcer
  double median_hops = 0;
  double max_hops = 0;
  double median_ms = 0;  // simulated time from the search to the announcer's address
  double datagrams = 0;  // per lookup, both directions, the whole network
};

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

Result run(int nodes, int lookups, std::size_t alpha, std::uint64_t seed, int dead) {
  testing::SimNetwork net(seed);
  DhtSettings settings;
  settings.lookup.alpha = alpha;
  for (int i = 0; i < nodes; ++i) net.add_node(settings);
  std::mt19937_64 rng(seed * 7 + 1);
  for (int i = 1; i < nodes; ++i) {
    const auto via = static_cast<std::size_t>(rng() % static_cast<std::uint64_t>(i));
    net.nodes()[static_cast<std::size_t>(i)]->node->add_node(net.nodes()[via]->address, net.now());
    net.run_for(20ms);
  }
  net.run_for(30s);
  // Nodes 0..9 stay up: the announcers and searchers are drawn from them.
  for (int i = 10; i < nodes; ++i) {
    if (static_cast<int>(rng() % 100) < dead)
      net.set_down(*net.nodes()[static_cast<std::size_t>(i)]);
  }
  std::vector<double> hops;
  std::vector<double> millis;
  std::vector<double> datagrams;
  int found = 0;
  int attempted = 0;
  for (int t = 0; t < lookups; ++t) {
    const NodeId hash = random_node_id(rng);
    const auto pick = static_cast<std::uint64_t>(dead > 0 ? 10 : nodes);
    auto& announcer = *net.nodes()[rng() % pick];
    auto& searcher = *net.nodes()[rng() % pick];
    if (&announcer == &searcher) continue;
    ++attempted;
    const auto port = static_cast<std::uint16_t>(7000 + t);
    announcer.node->search(hash, port, net.now());
    net.run_for(10s);
    const auto before = net.datagrams();
    const auto start = net.now();
    const std::size_t had = searcher.node->hops_to_peers().size();
    searcher.node->search(hash, std::nullopt, net.now());
    const PeerAddress want{announcer.address.ip, port};
    const bool ok = net.run_until(
        [&] {
          const auto peers = searcher.found(hash);
          return std::find(peers.begin(), peers.end(), want) != peers.end();
        },
        10s);
    if (ok) {
      ++found;
      millis.push_back(std::chrono::duration<double, std::milli>(net.now() - start).count());
      if (searcher.node->hops_to_peers().size() > had)
        hops.push_back(searcher.node->hops_to_peers().back());
    }
    net.run_for(3s);  // let the lookup finish, for its datagram count
    searcher.node->stop_search(hash);
    datagrams.push_back(static_cast<double>(net.datagrams() - before));
  }
  Result r;
  r.found = attempted > 0 ? static_cast<double>(found) / attempted : 0;
  r.median_hops = median(hops);
  r.max_hops = hops.empty() ? 0 : *std::max_element(hops.begin(), hops.end());
  r.median_ms = median(millis);
  r.datagrams = median(datagrams);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  const int nodes = argc > 1 ? std::atoi(argv[1]) : 200;
  const int lookups = argc > 2 ? std::atoi(argv[2]) : 30;
  const int runs = argc > 3 ? std::atoi(argv[3]) : 3;
  const int dead = argc > 4 ? std::atoi(argv[4]) : 0;
  std::printf(
      "| alpha | nodes | dead | found | median hops | max hops | median ms to peer | "
      "datagrams/lookup |\n");
  std::printf("|---|---|---|---|---|---|---|---|\n");
  for (const std::size_t alpha : {std::size_t{1}, std::size_t{3}}) {
    std::vector<double> found, hops, max_hops, ms, datagrams;
    for (int r = 0; r < runs; ++r) {
      const Result res = run(nodes, lookups, alpha, 1000 + static_cast<std::uint64_t>(r), dead);
      found.push_back(res.found);
      hops.push_back(res.median_hops);
      max_hops.push_back(res.max_hops);
      ms.push_back(res.median_ms);
      datagrams.push_back(res.datagrams);
    }
    std::printf("| %zu | %d | %d %% | %.0f %% | %.0f | %.0f | %.0f | %.0f |\n", alpha, nodes, dead,
                100 * median(found), median(hops), median(max_hops), median(ms), median(datagrams));
  }
  return 0;
}
