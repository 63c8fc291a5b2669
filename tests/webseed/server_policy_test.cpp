#include "webseed/server_policy.hpp"

#include <gtest/gtest.h>

namespace starling::webseed {
namespace {

using namespace std::chrono_literals;
constexpr std::int64_t kMiB = 1 << 20;

TimePoint at(Duration d) {
  return TimePoint{} + d;
}

TEST(ServerPolicy, StartsWithTwoRequestsAndGrowsWithTheBandwidthDelayProduct) {
  WebSeedSettings settings;
  settings.lookahead = 200ms;
  ServerPolicy policy(at(0s), std::int64_t{256} * 1024, settings);
  EXPECT_EQ(policy.desired_outstanding_bytes(), 512 * 1024);
  policy.on_connected(100ms, at(100ms));
  policy.on_request_sent(8 * kMiB, at(100ms));
  // 8 MiB/s for two seconds, in 100 ms steps.
  for (int i = 1; i <= 20; ++i) policy.on_body_bytes(8 * kMiB / 10, at(100ms + i * 100ms));
  EXPECT_NEAR(policy.rate(), 8.0 * kMiB, 0.05 * 8 * kMiB);
  // rate x (rtt 100 ms + lookahead 200 ms) = 2.4 MiB.
  EXPECT_NEAR(static_cast<double>(policy.desired_outstanding_bytes()), 2.4 * kMiB, 0.15 * kMiB);
}

TEST(ServerPolicy, WithoutPipeliningOneRequestAtATime) {
  WebSeedSettings settings;
  settings.pipelining = false;
  ServerPolicy policy(at(0s), kMiB, settings);
  EXPECT_EQ(policy.bytes_to_request(), kMiB);
  policy.on_request_sent(kMiB, at(0s));
  EXPECT_EQ(policy.bytes_to_request(), 0);
  policy.on_body_bytes(kMiB, at(1s));
  EXPECT_EQ(policy.bytes_to_request(), kMiB);
}

TEST(ServerPolicy, RttFromConnectAndIdleRequests) {
  ServerPolicy policy(at(0s), kMiB);
  policy.on_connected(40ms, at(40ms));
  EXPECT_EQ(policy.rtt(), 40ms);
  policy.on_first_byte_after_idle(at(1s), at(1s + 120ms));
  EXPECT_EQ(policy.rtt(), 50ms);  // 40 + (120 - 40) / 8
}

TEST(ServerPolicy, DetectsAStallOnlyWhileWaiting) {
  WebSeedSettings settings;
  settings.stall_timeout = 5s;
  ServerPolicy policy(at(0s), kMiB, settings);
  EXPECT_FALSE(policy.stalled(at(100s)));  // nothing asked: idle, not stalled
  policy.on_request_sent(kMiB, at(100s));
  EXPECT_FALSE(policy.stalled(at(104s)));
  policy.on_body_bytes(1000, at(104s));
  EXPECT_FALSE(policy.stalled(at(108s)));
  EXPECT_TRUE(policy.stalled(at(110s)));
}

TEST(ServerPolicy, BacksOffExponentiallyThenDrops) {
  WebSeedSettings settings;
  settings.first_backoff = 1s;
  settings.max_failures = 3;
  ServerPolicy policy(at(0s), kMiB, settings);
  EXPECT_EQ(policy.on_failure(at(10s), false), ServerPolicy::Verdict::retry);
  EXPECT_EQ(policy.retry_at(), at(11s));
  EXPECT_EQ(policy.on_failure(at(20s), false), ServerPolicy::Verdict::retry);
  EXPECT_EQ(policy.retry_at(), at(22s));
  EXPECT_EQ(policy.on_failure(at(30s), false), ServerPolicy::Verdict::drop);
  EXPECT_EQ(policy.failures(), 3);
}

TEST(ServerPolicy, SuccessResetsTheCountAndPermanentFailuresDropAtOnce) {
  WebSeedSettings settings;
  settings.max_failures = 2;
  ServerPolicy policy(at(0s), kMiB, settings);
  EXPECT_EQ(policy.on_failure(at(1s), false), ServerPolicy::Verdict::retry);
  policy.on_request_ok();
  EXPECT_EQ(policy.on_failure(at(5s), false), ServerPolicy::Verdict::retry);
  EXPECT_EQ(policy.on_failure(at(9s), true), ServerPolicy::Verdict::drop);
}

}  // namespace
}  // namespace starling::webseed
