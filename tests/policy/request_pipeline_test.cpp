#include "policy/request_pipeline.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <queue>
#include <vector>

#include "core/piece_geometry.hpp"

namespace starling::policy {
namespace {

using namespace std::chrono_literals;

TimePoint at(Duration d) {
  return TimePoint{} + d;
}

// ---- A simulated peer ----------------------------------------------------------------------
// One link of `bandwidth` bytes/s and round-trip time `rtt`. A request reaches the peer rtt/2
// after we send it; the peer serves requests FIFO, one block at a time at the link's bandwidth;
// a block reaches us rtt/2 after its last byte left. Utilization is the fraction of the
// measurement interval the peer spent sending.
struct Link {
  double bandwidth = 0;  // bytes per second
  Duration rtt{};
};

struct SimOptions {
  Link link;
  Duration run_for = 10s;
  Duration measure_from = 3s;  // after slow start
  int fixed_depth = 0;         // > 0: keep exactly this many outstanding, no RequestPipeline
  int reqq = 0;                // the peer's reqq, 0 = not given
  Duration stall_at = Duration::max();  // the peer ignores requests arriving from then on
  bool report_wait = true;              // tell the pipeline how long each block waited
};

struct SimResult {
  double utilization = 0;
  int max_outstanding = 0;  // the most requests ever outstanding
  int max_desired = 0;      // the most the pipeline ever asked for
  int final_desired = 0;
  bool slow_start_over = false;
  bool snubbed = false;
  double rate = 0;
  std::int64_t blocks = 0;
};

SimResult simulate(const SimOptions& o, const PipelineSettings& settings = {}) {
  enum class Kind { request_arrives, block_arrives, timer };
  struct Event {
    TimePoint when;
    Kind kind;
    TimePoint sent{};  // of the request (requests and blocks)
    bool operator>(const Event& other) const { return when > other.when; }
  };
  const auto tx = std::chrono::duration_cast<Duration>(
      std::chrono::duration<double>(kBlockSize / o.link.bandwidth));
  const TimePoint end = at(o.run_for);
  const TimePoint measure_from = at(o.measure_from);

  RequestPipeline pipe(at(0s), settings);
  if (o.reqq > 0) pipe.set_peer_reqq(o.reqq);
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events;
  SimResult r;
  TimePoint peer_free = at(0s);
  Duration busy{};
  int outstanding = 0;

  auto send = [&](TimePoint now) {
    const int n = o.fixed_depth > 0 ? o.fixed_depth - outstanding : pipe.requests_to_send();
    for (int i = 0; i < n; ++i) events.push({now + o.link.rtt / 2, Kind::request_arrives, now});
    if (o.fixed_depth == 0) {
      pipe.on_requests_sent(n, now);
      r.max_desired = std::max(r.max_desired, pipe.desired_outstanding());
    }
    outstanding += n;
    r.max_outstanding = std::max(r.max_outstanding, outstanding);
  };
  send(at(0s));
  if (o.fixed_depth == 0) events.push({pipe.next_deadline(), Kind::timer});
  while (!events.empty() && events.top().when <= end) {
    const Event e = events.top();
    events.pop();
    switch (e.kind) {
      case Kind::request_arrives: {
        if (e.when >= at(o.stall_at)) break;
        const TimePoint start = std::max(e.when, peer_free);
        peer_free = start + tx;
        const TimePoint from = std::max(start, measure_from);
        const TimePoint to = std::min(peer_free, end);
        if (to > from) busy += to - from;
        events.push({peer_free + o.link.rtt / 2, Kind::block_arrives, e.sent});
        break;
      }
      case Kind::block_arrives:
        --outstanding;
        ++r.blocks;
        if (o.fixed_depth == 0) {
          pipe.on_block_received(kBlockSize, e.when,
                                 o.report_wait ? e.when - e.sent : Duration::zero());
        }
        send(e.when);
        break;
      case Kind::timer:
        pipe.update(e.when);
        send(e.when);
        events.push({pipe.next_deadline(), Kind::timer});
        break;
    }
  }
  r.utilization = std::chrono::duration<double>(busy) / (end - measure_from);
  r.final_desired = pipe.desired_outstanding();
  r.slow_start_over = !pipe.in_slow_start();
  r.snubbed = pipe.snubbed();
  r.rate = pipe.download_rate();
  return r;
}

constexpr double MBps = 1e6;

// ---- The link stays busy with the pipeline -------------------------------------------------

TEST(RequestPipeline, KeepsALongFatLinkBusy) {
  // 10 MB/s x 50 ms: the bandwidth-delay product is ~31 blocks.
  const SimResult r = simulate({.link = {10 * MBps, 50ms}});
  EXPECT_TRUE(r.slow_start_over);
  EXPECT_GE(r.utilization, 0.95);
  EXPECT_NEAR(r.rate, 10 * MBps, 0.05 * 10 * MBps);
  EXPECT_LE(r.max_outstanding, 250);
}

TEST(RequestPipeline, KeepsAFastLanLinkBusy) {
  const SimResult r = simulate({.link = {100 * MBps, 1ms}});
  EXPECT_TRUE(r.slow_start_over);
  EXPECT_GE(r.utilization, 0.95);
  EXPECT_LE(r.max_outstanding, 250);
}

TEST(RequestPipeline, SlowLinkGetsRateTimesQueueTimeNotTheCeiling) {
  // 100 kB/s: 3 s of it is ~18.3 blocks, so the depth settles at 19, far below reqq.
  const SimResult r = simulate({.link = {0.1 * MBps, 50ms}, .run_for = 20s, .measure_from = 5s});
  EXPECT_TRUE(r.slow_start_over);
  EXPECT_GE(r.utilization, 0.95);
  EXPECT_GE(r.final_desired, 17);
  EXPECT_LE(r.final_desired, 20);
}

TEST(RequestPipeline, SlowStartEndsWhenBlocksWaitLongerThanTheTarget) {
  // A peer held to 200 kB/s that accepts every request (a rate-limited datacenter host): the
  // measured rate grows for a while after the link is full, as the queue fills, so slow start
  // alone overshoots and every request then waits in the queue it built.
  PipelineSettings settings;
  settings.target_queue_time = 250ms;
  const SimOptions link{.link = {0.2 * MBps, 20ms}, .run_for = 10s, .measure_from = 2s};
  const SimResult by_wait = simulate(link, settings);
  SimOptions blind = link;
  blind.report_wait = false;
  const SimResult by_rate = simulate(blind, settings);
  EXPECT_TRUE(by_wait.slow_start_over);
  EXPECT_GE(by_wait.utilization, 0.95);
  // 250 ms at 200 kB/s is ~3 blocks: slow start stops a few blocks past it, not tens.
  EXPECT_LE(by_wait.max_outstanding, 8);
  EXPECT_GT(by_rate.max_outstanding, 2 * by_wait.max_outstanding) << by_rate.max_outstanding;
}

// ---- Without pipelining --------------------------------------------------------------------

TEST(RequestPipeline, OneRequestAtATimeLeavesTheLinkMostlyIdle) {
  // Each block costs a whole RTT of idle time: tx / (tx + rtt).
  const SimResult wan = simulate({.link = {10 * MBps, 50ms}, .fixed_depth = 1});
  EXPECT_NEAR(wan.utilization, 1.6384 / (1.6384 + 50), 0.01);
  EXPECT_LT(wan.utilization, 0.05);
  const SimResult lan = simulate({.link = {100 * MBps, 1ms}, .fixed_depth = 1});
  EXPECT_NEAR(lan.utilization, 0.16384 / (0.16384 + 1), 0.01);
  EXPECT_LT(lan.utilization, 0.20);
}

TEST(RequestPipeline, AFixedSmallDepthIsNotEnoughForALongFatLink) {
  // Five pending requests cover a LAN but not 50 ms at 10 MB/s: the depth has to scale with
  // the bandwidth-delay product, which is what rate x queue time does.
  EXPECT_GE(simulate({.link = {100 * MBps, 1ms}, .fixed_depth = 8}).utilization, 0.95);
  EXPECT_LT(simulate({.link = {10 * MBps, 50ms}, .fixed_depth = 5}).utilization, 0.20);
}

// ---- Limits --------------------------------------------------------------------------------

TEST(RequestPipeline, DepthNeverExceedsThePeersReqq) {
  const SimResult r = simulate({.link = {10 * MBps, 50ms}, .reqq = 20});
  EXPECT_LE(r.max_outstanding, 20);
  EXPECT_LE(r.max_desired, 20);
  EXPECT_EQ(r.final_desired, 20);
  // 20 of the ~31 blocks the link could carry per round trip.
  EXPECT_NEAR(r.utilization, 20 * 1.6384 / (50 + 1.6384), 0.05);

  // Our own max_outstanding caps it too, and a missing reqq means the default.
  PipelineSettings settings;
  settings.max_outstanding = 12;
  EXPECT_LE(simulate({.link = {100 * MBps, 1ms}}, settings).max_outstanding, 12);
  RequestPipeline pipe(at(0s));
  EXPECT_EQ(pipe.ceiling(), 250);
  pipe.set_peer_reqq(0);
  EXPECT_EQ(pipe.ceiling(), 250);
  pipe.set_peer_reqq(1000);
  EXPECT_EQ(pipe.ceiling(), 500);
}

TEST(RequestPipeline, SlowStartGrowsByOnePerBlockUntilTheRateStopsGrowing) {
  RequestPipeline pipe(at(0s));
  EXPECT_TRUE(pipe.in_slow_start());
  EXPECT_EQ(pipe.desired_outstanding(), 2);
  EXPECT_EQ(pipe.requests_to_send(), 2);
  pipe.on_requests_sent(2, at(0s));
  EXPECT_EQ(pipe.requests_to_send(), 0);
  pipe.on_block_received(kBlockSize, at(10ms));
  pipe.on_block_received(kBlockSize, at(20ms));
  EXPECT_EQ(pipe.desired_outstanding(), 4);
  EXPECT_EQ(pipe.requests_to_send(), 4);
  // Window 1 (0-1 s): 2 blocks. Window 2: 4 blocks, twice the rate: still growing.
  pipe.update(at(1s));
  pipe.on_requests_sent(4, at(1s));
  for (int i = 0; i < 4; ++i) pipe.on_block_received(kBlockSize, at(1s + 100ms * (i + 1)));
  pipe.update(at(2s));
  EXPECT_TRUE(pipe.in_slow_start());
  EXPECT_EQ(pipe.desired_outstanding(), 8);
  // Window 3: 4 blocks again: no gain, slow start is over; depth = rate x 3 s / 16 KiB.
  pipe.on_requests_sent(4, at(2s));
  for (int i = 0; i < 4; ++i) pipe.on_block_received(kBlockSize, at(2s + 100ms * (i + 1)));
  pipe.update(at(3s));
  EXPECT_FALSE(pipe.in_slow_start());
  EXPECT_NEAR(pipe.download_rate(), 4 * kBlockSize, 1);
  EXPECT_EQ(pipe.desired_outstanding(), 12);
}

TEST(RequestPipeline, MinimumIsTwoEvenWithNoMeasuredRate) {
  RequestPipeline pipe(at(0s));
  pipe.on_requests_sent(2, at(0s));
  pipe.on_block_received(kBlockSize, at(100ms));
  pipe.update(at(1s));
  pipe.update(at(2s));  // a window with a request outstanding and nothing received: rate 0
  EXPECT_FALSE(pipe.in_slow_start());
  EXPECT_EQ(pipe.download_rate(), 0);
  EXPECT_EQ(pipe.desired_outstanding(), 2);
}

// ---- Snubbing ------------------------------------------------------------------------------

TEST(RequestPipeline, SnubbedPeerDropsToOneRequest) {
  RequestPipeline pipe(at(0s));
  pipe.on_requests_sent(2, at(0s));
  pipe.on_block_received(kBlockSize, at(1s));
  EXPECT_EQ(pipe.next_deadline(), at(2s));  // the rate window
  pipe.update(at(60s));
  EXPECT_FALSE(pipe.snubbed());
  EXPECT_EQ(pipe.next_deadline(), at(61s));  // 60 s after the last block
  pipe.update(at(61s));
  EXPECT_TRUE(pipe.snubbed());
  EXPECT_EQ(pipe.desired_outstanding(), 1);
  EXPECT_EQ(pipe.requests_to_send(), 0);  // one is still outstanding
  // It sends again: no longer snubbed, slow start from the beginning.
  pipe.on_block_received(kBlockSize, at(70s));
  EXPECT_FALSE(pipe.snubbed());
  EXPECT_TRUE(pipe.in_slow_start());
  EXPECT_EQ(pipe.desired_outstanding(), 2);
}

TEST(RequestPipeline, SilenceWithNothingRequestedIsNotSnubbing) {
  RequestPipeline pipe(at(0s));
  pipe.update(at(600s));
  EXPECT_FALSE(pipe.snubbed());
  pipe.on_requests_sent(1, at(600s));  // the snub clock starts now, not at 0
  pipe.update(at(659s));
  EXPECT_FALSE(pipe.snubbed());
  pipe.on_requests_dropped(1, at(659s));  // rejected: nothing to wait for any more
  pipe.update(at(700s));
  EXPECT_FALSE(pipe.snubbed());
}

TEST(RequestPipeline, StalledSimulatedPeerIsSnubbed) {
  // The peer serves for 5 s, then stops answering. 60 s later the depth is 1.
  const SimResult r =
      simulate({.link = {10 * MBps, 50ms}, .run_for = 70s, .measure_from = 1s, .stall_at = 5s});
  EXPECT_TRUE(r.snubbed);
  EXPECT_EQ(r.final_desired, 1);
  const SimResult early =
      simulate({.link = {10 * MBps, 50ms}, .run_for = 60s, .measure_from = 1s, .stall_at = 5s});
  EXPECT_FALSE(early.snubbed);
}

}  // namespace
}  // namespace starling::policy
