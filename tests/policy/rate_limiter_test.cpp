#include "policy/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <set>

namespace starling::policy {
namespace {

using namespace std::chrono_literals;

constexpr std::int64_t KiB = 1024;
constexpr std::int64_t MiB = 1024 * KiB;
constexpr std::int64_t kBlock = 16 * KiB;

TimePoint at(Duration d) {
  return TimePoint{} + d;
}

using GrantFn = std::function<std::int64_t(std::int64_t, TimePoint)>;
using WaitFn = std::function<Duration(std::int64_t, TimePoint)>;

// A sender that asks for 16 KiB blocks as fast as it is allowed over [from, from + length):
// whatever is granted goes out at once; when nothing is, it sleeps until a whole block is
// available (as a timer would). `whole_blocks`: it only asks once a whole block is available.
std::int64_t send_for(const GrantFn& grant, const WaitFn& wait, TimePoint from, Duration length,
                      bool whole_blocks = false) {
  std::int64_t total = 0;
  for (TimePoint now = from; now < from + length;) {
    const Duration until = wait(kBlock, now);
    if (whole_blocks && until > Duration::zero()) {
      now += until;
      continue;
    }
    const std::int64_t granted = grant(kBlock, now);
    total += granted;
    if (granted == 0) now += std::max(until, Duration(1ns));
  }
  return total;
}

std::int64_t send_for(TokenBucket& bucket, TimePoint from, Duration length,
                      bool whole_blocks = false) {
  return send_for([&](std::int64_t n, TimePoint t) { return bucket.grant(n, t); },
                  [&](std::int64_t n, TimePoint t) { return bucket.time_until(n, t); }, from,
                  length, whole_blocks);
}

std::int64_t send_for(RateLimiter& limiter, TokenBucket& torrent, TimePoint from, Duration length) {
  return send_for([&](std::int64_t n, TimePoint t) { return limiter.grant(torrent, n, t); },
                  [&](std::int64_t n, TimePoint t) { return limiter.time_until(torrent, n, t); },
                  from, length);
}

double seconds(Duration d) {
  return std::chrono::duration<double>(d).count();
}

// ---- TokenBucket -----------------------------------------------------------------------------

class TokenBucketRate : public ::testing::TestWithParam<std::int64_t> {};

TEST_P(TokenBucketRate, TenSecondsOfBlocksComeToRateTimesTenSeconds) {
  const std::int64_t rate = GetParam();
  const double expected = static_cast<double>(rate) * 10;
  for (const bool whole_blocks : {false, true}) {
    TokenBucket bucket(rate, at(0s));
    const auto total = static_cast<double>(send_for(bucket, at(0s), 10s, whole_blocks));
    EXPECT_NEAR(total, expected, 0.05 * expected) << "whole blocks only: " << whole_blocks;
  }
}

INSTANTIATE_TEST_SUITE_P(TokenBucket, TokenBucketRate,
                         ::testing::Values(100 * KiB, 2 * MiB, 50 * MiB));

TEST(TokenBucket, GrantsPartiallyWhatIsThere) {
  TokenBucket bucket(100 * KiB, at(0s));
  // Starts full: the burst is one block message, as 100 KiB x 0.1 s is less.
  EXPECT_EQ(bucket.burst(), kBlock + 13);
  EXPECT_EQ(bucket.grant(20000, at(0s)), kBlock + 13);
  EXPECT_EQ(bucket.grant(1, at(0s)), 0);
  EXPECT_EQ(bucket.available(at(0s)), 0);
  // 100 ms at 100 KiB/s: 10 KiB, all of which a bigger request gets.
  EXPECT_EQ(bucket.grant(20000, at(100ms)), 10 * KiB);
  EXPECT_EQ(bucket.grant(1000, at(150ms)), 1000);  // 5 KiB more came in meanwhile
  EXPECT_EQ(bucket.available(at(150ms)), 5 * KiB - 1000);
  EXPECT_EQ(bucket.grant(0, at(150ms)), 0);
  EXPECT_EQ(bucket.grant(-5, at(150ms)), 0);
}

TEST(TokenBucket, TimeUntilSaysWhenTheBytesAreThere) {
  TokenBucket bucket(1 * MiB, at(0s));
  bucket.grant(bucket.burst(), at(0s));
  const Duration wait = bucket.time_until(kBlock, at(0s));
  EXPECT_NEAR(seconds(wait), 1.0 / 64, 1e-6);
  EXPECT_LT(bucket.available(at(0s) + wait - 1ms), kBlock);
  EXPECT_EQ(bucket.grant(kBlock, at(0s) + wait), kBlock);
  EXPECT_EQ(bucket.time_until(0, at(1s)), Duration::zero());
  // More than the burst never accumulates: the wait is until the bucket is full.
  EXPECT_NEAR(seconds(bucket.time_until(100 * MiB, at(1s))), 0, 1e-9);
  bucket.grant(bucket.burst(), at(1s));
  EXPECT_NEAR(seconds(bucket.time_until(100 * MiB, at(1s))), 0.1, 1e-3);
}

TEST(TokenBucket, CanStartNearlyEmptyWithALongBurst) {
  BucketSettings settings;
  settings.burst_time = 1000ms;
  settings.start_full = false;
  TokenBucket bucket(2 * MiB, at(0s), settings);
  EXPECT_EQ(bucket.burst(), 2 * MiB);
  EXPECT_EQ(bucket.grant(4 * MiB, at(0s)), settings.min_burst);  // not the whole second's worth
  // A sleeper that wakes late keeps what it earned, up to a second of it.
  EXPECT_EQ(bucket.grant(4 * MiB, at(800ms)), static_cast<std::int64_t>(0.8 * 2 * MiB));
  EXPECT_EQ(bucket.grant(4 * MiB, at(3800ms)), 2 * MiB);
}

TEST(TokenBucket, UnlimitedGrantsEverything) {
  TokenBucket bucket(0, at(0s));
  EXPECT_TRUE(bucket.unlimited());
  EXPECT_EQ(bucket.grant(1'000'000'000, at(0s)), 1'000'000'000);
  EXPECT_EQ(bucket.grant(1'000'000'000, at(0s)), 1'000'000'000);
  EXPECT_EQ(bucket.time_until(1'000'000'000, at(0s)), Duration::zero());
  EXPECT_TRUE(TokenBucket(-7, at(0s)).unlimited());
}

TEST(TokenBucket, BurstIsASettingWithAOneBlockFloor) {
  EXPECT_EQ(TokenBucket(1000, at(0s)).burst(), kBlock + 13);
  EXPECT_EQ(TokenBucket(10 * MiB, at(0s)).burst(), MiB);
  BucketSettings settings;
  settings.burst_time = 1s;
  EXPECT_EQ(TokenBucket(10 * MiB, at(0s), settings).burst(), 10 * MiB);
  settings.min_burst = 64 * KiB;
  EXPECT_EQ(TokenBucket(1000, at(0s), settings).burst(), 64 * KiB);
  // An idle bucket saves up no more than its burst.
  TokenBucket bucket(1 * MiB, at(0s));
  EXPECT_EQ(bucket.grant(100 * MiB, at(60s)), bucket.burst());
}

TEST(TokenBucket, RateChangeTakesEffect) {
  TokenBucket bucket(100 * KiB, at(0s));
  const auto slow = static_cast<double>(send_for(bucket, at(0s), 10s));
  EXPECT_NEAR(slow, 1000.0 * KiB, 50.0 * KiB);
  bucket.set_rate(2 * MiB, at(10s));
  EXPECT_EQ(bucket.rate(), 2 * MiB);
  const auto fast = static_cast<double>(send_for(bucket, at(10s), 10s));
  EXPECT_NEAR(fast, 20.0 * MiB, 1.0 * MiB);
  bucket.set_rate(0, at(20s));
  EXPECT_EQ(bucket.grant(100 * MiB, at(20s)), 100 * MiB);
  bucket.set_rate(100 * KiB, at(21s));
  const auto again = static_cast<double>(send_for(bucket, at(21s), 10s));
  EXPECT_NEAR(again, 1000.0 * KiB, 50.0 * KiB);
}

TEST(TokenBucket, TimeGoingBackwardsEarnsNothing) {
  TokenBucket bucket(1 * MiB, at(10s));
  bucket.grant(bucket.burst(), at(10s));
  EXPECT_EQ(bucket.grant(kBlock, at(5s)), 0);
  EXPECT_EQ(bucket.available(at(10s)), 0);
}

// ---- RateLimiter -----------------------------------------------------------------------------

TEST(RateLimiter, HonoursTheSmallerOfTheTwoRates) {
  {
    RateLimiter limiter(1 * MiB, at(0s));
    TokenBucket torrent(200 * KiB, at(0s));
    const auto total = static_cast<double>(send_for(limiter, torrent, at(0s), 10s));
    EXPECT_NEAR(total, 2000.0 * KiB, 100.0 * KiB);
  }
  {
    RateLimiter limiter(200 * KiB, at(0s));
    TokenBucket torrent(1 * MiB, at(0s));
    const auto total = static_cast<double>(send_for(limiter, torrent, at(0s), 10s));
    EXPECT_NEAR(total, 2000.0 * KiB, 100.0 * KiB);
  }
  {
    RateLimiter limiter(0, at(0s));
    TokenBucket torrent(0, at(0s));
    EXPECT_EQ(limiter.grant(torrent, 5 * MiB, at(0s)), 5 * MiB);
    EXPECT_EQ(limiter.time_until(torrent, 5 * MiB, at(0s)), Duration::zero());
  }
}

TEST(RateLimiter, TakesFromBothBuckets) {
  RateLimiter limiter(1 * MiB, at(0s));
  TokenBucket a(0, at(0s));
  TokenBucket b(0, at(0s));
  // Two unlimited torrents share the global limit.
  std::int64_t total = 0;
  for (TimePoint now = at(0s); now < at(10s); now += 1ms) {
    total += limiter.grant(a, kBlock, now);
    total += limiter.grant(b, kBlock, now);
  }
  EXPECT_NEAR(static_cast<double>(total), 10.0 * MiB, 0.5 * MiB);

  // The torrent's bucket is charged too, even when the global one is the tighter.
  TokenBucket limited(1 * MiB, at(20s));
  const std::int64_t before = limited.available(at(20s));
  const std::int64_t granted = limiter.grant(limited, 4 * KiB, at(20s));
  EXPECT_EQ(granted, 4 * KiB);
  EXPECT_EQ(limited.available(at(20s)), before - granted);
}

TEST(RateLimiter, GlobalRateChangeTakesEffect) {
  RateLimiter limiter(100 * KiB, at(0s));
  TokenBucket torrent(0, at(0s));
  EXPECT_NEAR(static_cast<double>(send_for(limiter, torrent, at(0s), 10s)), 1000.0 * KiB,
              50.0 * KiB);
  limiter.set_global_rate(2 * MiB, at(10s));
  EXPECT_EQ(limiter.global().rate(), 2 * MiB);
  EXPECT_NEAR(static_cast<double>(send_for(limiter, torrent, at(10s), 10s)), 20.0 * MiB, 1.0 * MiB);
}

}  // namespace
}  // namespace starling::policy

namespace starling::policy {
namespace {

// ---- TransferLimits: a torrent's bucket and, unless it opts out, the session's ---------------

std::int64_t send_for(TransferLimits limits, TimePoint from, Duration length) {
  return send_for([&](std::int64_t n, TimePoint t) { return limits.grant(n, t); },
                  [&](std::int64_t n, TimePoint t) { return limits.time_until(n, t); }, from,
                  length);
}

TEST(TransferLimits, TheTighterOfTorrentAndSessionWins) {
  BucketSettings settings;
  settings.burst_time = 1000ms;  // the session's setting
  {
    TokenBucket session(1 * MiB, at(0s), settings);
    TokenBucket torrent(200'000, at(0s), settings);
    const auto total = static_cast<double>(send_for({&session, &torrent}, at(0s), 10s));
    EXPECT_NEAR(total, 2'200'000.0, 110'000.0);  // 10 s at the rate plus one burst
  }
  {
    TokenBucket session(200'000, at(0s), settings);
    TokenBucket torrent(1 * MiB, at(0s), settings);
    const auto total = static_cast<double>(send_for({&session, &torrent}, at(0s), 10s));
    EXPECT_NEAR(total, 2'200'000.0, 110'000.0);
  }
}

TEST(TransferLimits, ATorrentLimitHoldsUnderAnUnlimitedSession) {
  TokenBucket session(0, at(0s));
  TokenBucket torrent(300'000, at(0s));
  const TransferLimits limits{&session, &torrent};
  EXPECT_FALSE(limits.unlimited());
  const auto total = static_cast<double>(send_for(limits, at(0s), 10s));
  EXPECT_NEAR(total, 3'000'000.0, 150'000.0);
}

TEST(TransferLimits, ATorrentThatIgnoresTheSessionLeavesItsBucketAlone) {
  TokenBucket session(100'000, at(0s));
  TokenBucket torrent(0, at(0s));
  const TransferLimits ignoring{nullptr, &torrent};
  EXPECT_TRUE(ignoring.unlimited());
  EXPECT_EQ(TransferLimits{}.grant(5 * MiB, at(0s)), 5 * MiB);
  const std::int64_t before = session.available(at(0s));
  TransferLimits copy = ignoring;
  EXPECT_EQ(copy.grant(5 * MiB, at(0s)), 5 * MiB);
  EXPECT_EQ(copy.time_until(5 * MiB, at(0s)), Duration::zero());
  EXPECT_EQ(session.available(at(0s)), before);  // the session's budget is untouched

  // Honouring it again: the session's rate applies and is charged.
  TransferLimits honouring{&session, &torrent};
  const std::int64_t granted = honouring.grant(4 * KiB, at(0s));
  EXPECT_EQ(granted, 4 * KiB);
  EXPECT_EQ(session.available(at(0s)), before - granted);
}

TEST(TransferLimits, WaitsForTheSlowerBucket) {
  TokenBucket session(1 * MiB, at(0s));
  TokenBucket torrent(100'000, at(0s));
  TransferLimits limits{&session, &torrent};
  // Drain both, then ask for one block: the torrent's bucket decides the wait.
  while (limits.grant(kBlock, at(0s)) > 0) {
  }
  const Duration wait = limits.time_until(kBlock, at(0s));
  EXPECT_EQ(wait, torrent.time_until(kBlock, at(0s)));
  EXPECT_GT(wait, session.time_until(kBlock, at(0s)));
  EXPECT_NEAR(seconds(wait), static_cast<double>(kBlock) / 100'000.0, 0.01);
}

TEST(TransferLimits, RateChangesAtRunTimeTakeEffect) {
  TokenBucket session(0, at(0s));
  TokenBucket torrent(0, at(0s));
  TransferLimits limits{&session, &torrent};
  EXPECT_EQ(limits.grant(10 * MiB, at(0s)), 10 * MiB);
  torrent.set_rate(200'000, at(1s));
  EXPECT_FALSE(limits.unlimited());
  EXPECT_NEAR(static_cast<double>(send_for(limits, at(1s), 10s)), 2'000'000.0, 100'000.0);
  torrent.set_rate(0, at(11s));
  EXPECT_TRUE(limits.unlimited());
}

TEST(WakeTime, RoundsUpToTheNextTick) {
  EXPECT_EQ(wake_time(at(0ms), 20ms), at(0ms));
  EXPECT_EQ(wake_time(at(1ns), 20ms), at(20ms));
  EXPECT_EQ(wake_time(at(20ms), 20ms), at(20ms));
  EXPECT_EQ(wake_time(at(21ms), 20ms), at(40ms));
  EXPECT_EQ(wake_time(at(21ms), Duration::zero()), at(21ms));  // no grid
}

TEST(WakeTime, FourSendersWakingOnTheGridStillGetTheRate) {
  // Four transfers share one 1 MiB/s bucket; each sleeps until its block's tokens are due,
  // rounded up to the 20 ms grid. Together they still send rate x time, and their timers fire
  // at no more than 50 distinct instants a second (one process wake-up each).
  constexpr std::int64_t rate = MiB;
  TokenBucket bucket(rate, at(0s));
  std::array<TimePoint, 4> wake{};
  std::array<std::int64_t, 4> credit{};
  std::int64_t sent = 0;
  std::set<TimePoint> timer_instants;
  for (;;) {
    const auto next = std::min_element(wake.begin(), wake.end());
    const TimePoint now = *next;
    if (now >= at(10s)) break;
    const auto i = static_cast<std::size_t>(next - wake.begin());
    credit[i] += bucket.grant(kBlock - credit[i], now);
    if (credit[i] >= kBlock) {
      credit[i] -= kBlock;
      sent += kBlock;
      wake[i] = now;  // asks for the next block at once
    } else {
      wake[i] = wake_time(now + bucket.time_until(kBlock - credit[i], now), kDefaultWakeTick);
      timer_instants.insert(wake[i]);
    }
  }
  EXPECT_NEAR(static_cast<double>(sent), 10.0 * rate, 0.02 * 10.0 * rate);
  EXPECT_LE(timer_instants.size(), 10U * 50 + 1);
}

}  // namespace
}  // namespace starling::policy
