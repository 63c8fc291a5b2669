#include "sim/network.hpp"

#include <gtest/gtest.h>

namespace starling::sim {
namespace {

constexpr double kMiB = 1024.0 * 1024;

TimePoint at(double seconds) {
  return from_seconds(seconds);
}

TEST(Network, OneFlowTakesBytesOverRate) {
  Network net;
  const NodeId a = net.add_node(kMiB, kMiB);
  const NodeId b = net.add_node(kMiB, 8 * kMiB);
  const FlowId f = net.add_flow(a, b, 10 * kMiB, at(0));
  net.settle(at(0));
  EXPECT_DOUBLE_EQ(net.rate(f), kMiB);
  EXPECT_NEAR(to_seconds(net.finish_time(f)), 10.0, 1e-6);
  EXPECT_NEAR(net.transferred(f, at(4)), 4 * kMiB, 1);
}

TEST(Network, TwoFlowsShareAnUplinkEqually) {
  Network net;
  const NodeId a = net.add_node(2 * kMiB, kMiB);
  const NodeId b = net.add_node(kMiB, 8 * kMiB);
  const NodeId c = net.add_node(kMiB, 8 * kMiB);
  const FlowId ab = net.add_flow(a, b, 4 * kMiB, at(0));
  const FlowId ac = net.add_flow(a, c, 8 * kMiB, at(0));
  net.settle(at(0));
  EXPECT_DOUBLE_EQ(net.rate(ab), kMiB);
  EXPECT_DOUBLE_EQ(net.rate(ac), kMiB);
  // When the first one ends, the other takes the whole uplink: 4 MiB left at 2 MiB/s.
  EXPECT_NEAR(to_seconds(net.finish_time(ab)), 4.0, 1e-6);
  net.remove_flow(ab, at(4));
  net.settle(at(4));
  EXPECT_DOUBLE_EQ(net.rate(ac), 2 * kMiB);
  EXPECT_NEAR(to_seconds(net.finish_time(ac)), 6.0, 1e-6);
}

TEST(Network, MaxMinWithADownloadBottleneck) {
  // a uploads 10 to b and c; c can take only 2, so b gets the remaining 8.
  Network net;
  const NodeId a = net.add_node(10, 100);
  const NodeId b = net.add_node(10, 100);
  const NodeId c = net.add_node(10, 2);
  const FlowId ab = net.add_flow(a, b, 100, at(0));
  const FlowId ac = net.add_flow(a, c, 100, at(0));
  net.settle(at(0));
  EXPECT_DOUBLE_EQ(net.rate(ac), 2);
  EXPECT_DOUBLE_EQ(net.rate(ab), 8);
}

TEST(Network, DownlinkSharedByManySenders) {
  // Four senders of 10 each into a downlink of 20: 5 each, whatever their uplinks allow.
  Network net;
  const NodeId d = net.add_node(1, 20);
  std::vector<FlowId> flows;
  for (int i = 0; i < 4; ++i) flows.push_back(net.add_flow(net.add_node(10, 10), d, 50, at(0)));
  net.settle(at(0));
  for (FlowId f : flows) EXPECT_DOUBLE_EQ(net.rate(f), 5);
  EXPECT_DOUBLE_EQ(net.down_load(d), 20);
}

TEST(Network, LocalSettleMatchesGlobalFillOnAChain) {
  // a -> b -> c -> d, every link 10; then b's downlink gets a second sender. Local refilling
  // with spreading must agree with the global fill.
  Network local;
  Network global;
  for (Network* net : {&local, &global}) {
    for (int i = 0; i < 5; ++i) net->add_node(10, 10);
    net->add_flow(0, 1, 1000, at(0));
    net->add_flow(1, 2, 1000, at(0));
    net->add_flow(2, 3, 1000, at(0));
    net->add_flow(3, 1, 1000, at(0));
    net->settle(at(0));
    net->add_flow(4, 1, 1000, at(1));
  }
  local.settle(at(1));
  global.recompute_all(at(1));
  for (FlowId f = 0; f < 5; ++f) EXPECT_NEAR(local.rate(f), global.rate(f), 1e-9) << f;
  for (NodeId n = 0; n < 5; ++n) {
    EXPECT_LE(local.up_load(n), 10 + 1e-9);
    EXPECT_LE(local.down_load(n), 10 + 1e-9);
  }
}

TEST(Network, AddedBytesKeepTheRate) {
  Network net;
  const NodeId a = net.add_node(4, 4);
  const NodeId b = net.add_node(4, 4);
  const FlowId f = net.add_flow(a, b, 8, at(0));
  net.settle(at(0));
  net.add_bytes(f, 8, at(2));
  EXPECT_TRUE(net.settle(at(2)).empty());
  EXPECT_NEAR(to_seconds(net.finish_time(f)), 4.0, 1e-9);
  EXPECT_NEAR(net.remove_flow(f, at(3)), 12, 1e-9);
}

// On a time grid a finish is handled at the step end: the next request's bytes continue the flow
// as if added when the old ones ran out (what it moved meanwhile counts), so the link loses no
// time between requests.
TEST(Network, ContinuedFlowKeepsTheBytesItMovedAfterRunningOut) {
  Network net;
  const NodeId a = net.add_node(100, 1000);
  const NodeId b = net.add_node(1000, 1000);
  const FlowId f = net.add_flow(a, b, 1000, at(0));
  net.settle(at(0));
  EXPECT_NEAR(to_seconds(net.finish_time(f)), 10.0, 1e-6);
  net.continue_flow(f, 500, at(12));  // 200 bytes moved since it ran out at 10 s
  EXPECT_NEAR(net.remaining(f, at(12)), 300, 1e-6);
  EXPECT_NEAR(net.transferred(f, at(12)), 1200, 1e-6);
  EXPECT_NEAR(to_seconds(net.finish_time(f)), 15.0, 1e-6);
  // add_bytes (the exact model) starts the new bytes where it is called.
  net.add_bytes(f, 100, at(15));
  EXPECT_NEAR(to_seconds(net.finish_time(f)), 16.0, 1e-6);
  // More carried over than the new bytes: the flow is done at once, nothing goes negative.
  net.continue_flow(f, 50, at(20));
  EXPECT_NEAR(net.remaining(f, at(20)), 0, 1e-9);
  EXPECT_NEAR(net.transferred(f, at(20)), 1650, 1e-6);
}

}  // namespace
}  // namespace starling::sim
