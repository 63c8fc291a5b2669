#include "utp/ledbat.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <utility>
#include <vector>

namespace starling::utp {
namespace {

using namespace std::chrono_literals;
using std::chrono::microseconds;

constexpr std::uint32_t kPacket = 1000;
constexpr Duration kRtt = 50ms;
constexpr microseconds kOneWay = 20ms;  // the path's delay without any queue

LedbatSettings settings_with(double slow_start_exit_fraction) {
  LedbatSettings s;
  s.packet_size = kPacket;
  s.slow_start_exit_fraction = slow_start_exit_fraction;
  return s;
}

// A sender on a simulated clock: it keeps its window full, and the peer's ACKs carry the
// one-way delay (path + queue) plus a clock offset, as the uTP header does.
class LedbatSim {
 public:
  explicit LedbatSim(const LedbatSettings& settings, std::uint32_t clock_offset = 7'654'321)
      : cc(settings), offset(clock_offset) {}

  std::uint32_t sample(microseconds queuing) const {
    return offset + static_cast<std::uint32_t>((kOneWay + queuing).count());
  }

  // One ACK of one packet, with `flight` bytes out (0: the whole window, the sender is busy).
  void ack(microseconds queuing, std::uint32_t flight = 0) {
    AckEvent event;
    event.now = now;
    event.bytes_acked = kPacket;
    event.bytes_in_flight = flight != 0 ? flight : cc.window_bytes();
    event.delay_sample_us = sample(queuing);
    event.rtt = kRtt;
    cc.on_ack(event);
  }

  // One round trip: the window at its start comes back packet by packet, spread over the RTT.
  void round_trip(microseconds queuing, std::uint32_t flight = 0) {
    const std::uint32_t packets = std::max<std::uint32_t>(cc.window_bytes() / kPacket, 1);
    for (std::uint32_t i = 0; i < packets; ++i) {
      ack(queuing, flight);
      now += kRtt / packets;
    }
  }

  // The uncongested path, so later samples are measured against it.
  void learn_base() { ack(0us); }

  Ledbat cc;
  std::uint32_t offset;
  TimePoint now = TimePoint{} + 1h;
};

TEST(Ledbat, SettingsAreClampedToTheirValidRange) {
  LedbatSettings s;
  s.gain = 4.0;
  EXPECT_EQ(Ledbat(s).settings().gain, 1.0);
  s.gain = -1.0;
  EXPECT_EQ(Ledbat(s).settings().gain, 1.0);
  s.gain = 0.25;
  EXPECT_EQ(Ledbat(s).settings().gain, 0.25);
}

TEST(Ledbat, StartsWithTheInitialWindowInPacketsOfTheConnectionsSize) {
  Ledbat cc;
  EXPECT_EQ(cc.window_bytes(), 2 * LedbatSettings{}.packet_size);
  cc.set_packet_size(500);
  EXPECT_EQ(cc.window_bytes(), 1000u);
  EXPECT_TRUE(cc.in_slow_start());
}

TEST(Ledbat, SetMaxWindowBoundsTheWindowAndCanRaiseItAgain) {
  LedbatSim sim(settings_with(0.5));
  sim.cc.set_max_window(8 * kPacket);
  sim.learn_base();
  for (int i = 0; i < 20; ++i) sim.round_trip(0us);
  EXPECT_EQ(sim.cc.window_bytes(), 8 * kPacket) << "slow start stops at the bound";
  sim.cc.set_max_window(4 * kPacket);
  EXPECT_EQ(sim.cc.window_bytes(), 4 * kPacket) << "a lower bound applies at once";
  sim.cc.set_max_window(64 * kPacket);
  for (int i = 0; i < 20; ++i) sim.round_trip(0us);
  EXPECT_GT(sim.cc.window_bytes(), 8 * kPacket) << "a raised bound lets the window grow";
}

TEST(Ledbat, BelowTargetTheWindowGrowsByAtMostOnePacketPerRoundTrip) {
  for (const double gain : {1.0, 3.0, 0.5}) {  // 3 is clamped to 1
    LedbatSettings s = settings_with(0.0);
    s.gain = gain;
    LedbatSim sim(s);
    sim.learn_base();
    for (int rtt = 0; rtt < 30; ++rtt) {
      const std::uint32_t before = sim.cc.window_bytes();
      sim.round_trip(20ms);
      const std::uint32_t after = sim.cc.window_bytes();
      EXPECT_GT(after, before) << "gain " << gain << " rtt " << rtt;
      EXPECT_LE(after - before, kPacket) << "gain " << gain << " rtt " << rtt;
    }
    EXPECT_EQ(sim.cc.queuing_delay(), 20ms);
  }
}

TEST(Ledbat, AtTheTargetTheWindowHolds) {
  LedbatSim sim(settings_with(0.0));
  sim.learn_base();
  for (int rtt = 0; rtt < 10; ++rtt) sim.round_trip(10ms);
  sim.round_trip(100ms);  // fills the filter with on-target samples
  const std::uint32_t window = sim.cc.window_bytes();
  for (int rtt = 0; rtt < 20; ++rtt) sim.round_trip(100ms);
  EXPECT_EQ(sim.cc.window_bytes(), window);
  EXPECT_EQ(sim.cc.queuing_delay(), 100ms);
}

// A full window built on an empty path, then held at the target for a few round trips.
LedbatSim sim_at_a_large_window() {
  LedbatSim sim(settings_with(0.0));
  sim.learn_base();
  for (int rtt = 0; rtt < 60; ++rtt) sim.round_trip(0us);
  return sim;
}

TEST(Ledbat, AboveTheTargetTheWindowShrinksInProportionToTheExcessDelay) {
  // LEDBAT++ multiplicative decrease: (queuing / target - 1) of the window per RTT.
  for (const auto& [queuing, fraction] :
       {std::pair{110ms, 0.1}, std::pair{125ms, 0.25}, std::pair{150ms, 0.5}}) {
    LedbatSim sim = sim_at_a_large_window();
    ASSERT_GT(sim.cc.window_bytes(), 50 * kPacket);
    sim.ack(microseconds(queuing));  // fills the filter with the new delay
    sim.ack(microseconds(queuing));
    sim.ack(microseconds(queuing));
    sim.ack(microseconds(queuing));
    const double before = sim.cc.window_bytes();
    sim.round_trip(microseconds(queuing));
    const double after = sim.cc.window_bytes();
    EXPECT_NEAR(after, before * (1 - fraction), kPacket) << queuing.count() << " ms";
  }
}

TEST(Ledbat, AboveTheTargetTheWindowAtMostHalvesPerRoundTrip) {
  LedbatSim sim = sim_at_a_large_window();
  for (int i = 0; i < 4; ++i) sim.ack(400ms);
  const double before = sim.cc.window_bytes();
  sim.round_trip(400ms);
  EXPECT_NEAR(sim.cc.window_bytes(), before / 2, kPacket);
}

TEST(Ledbat, ItYieldsToAQueueItDidNotCauseWithinAFewRoundTrips) {
  // The case: a loss-based TCP flow fills a bloated buffer to 300+ ms. RFC 6817's linear
  // decrease (about one packet per RTT) would keep most of the window for tens of RTTs.
  LedbatSim sim = sim_at_a_large_window();
  ASSERT_GT(sim.cc.window_bytes(), 50 * kPacket);
  for (int rtt = 0; rtt < 8; ++rtt) sim.round_trip(300ms);
  EXPECT_LE(sim.cc.window_bytes(), 2 * kPacket);
  // And it comes back once the queue is gone, one packet per RTT.
  const std::uint32_t low = sim.cc.window_bytes();
  for (int rtt = 0; rtt < 10; ++rtt) sim.round_trip(0us);
  EXPECT_GT(sim.cc.window_bytes(), low + 5 * kPacket);
}

TEST(Ledbat, SlightlyAboveTheTargetTheWindowSettlesRatherThanCollapses) {
  // A lone transfer hovering just over the target loses a little per RTT, not all of it.
  LedbatSim sim = sim_at_a_large_window();
  const std::uint32_t window = sim.cc.window_bytes();
  for (int rtt = 0; rtt < 3; ++rtt) sim.round_trip(102ms);
  EXPECT_GT(sim.cc.window_bytes(), window * 8 / 10);
}

TEST(Ledbat, SlowStartDoublesPerRoundTripAndEndsNearTheTarget) {
  LedbatSim sim(settings_with(0.5));
  sim.learn_base();
  ASSERT_TRUE(sim.cc.in_slow_start());
  for (int rtt = 0; rtt < 4; ++rtt) {
    const std::uint32_t before = sim.cc.window_bytes();
    sim.round_trip(10ms);
    EXPECT_EQ(sim.cc.window_bytes(), 2 * before) << rtt;
    EXPECT_TRUE(sim.cc.in_slow_start());
  }
  sim.round_trip(40ms);  // below half the target: still doubling
  EXPECT_TRUE(sim.cc.in_slow_start());
  sim.round_trip(50ms);  // half the target reached
  EXPECT_FALSE(sim.cc.in_slow_start());
  const std::uint32_t exited_at = sim.cc.window_bytes();
  sim.round_trip(50ms);
  EXPECT_LE(sim.cc.window_bytes(), exited_at + kPacket);
}

TEST(Ledbat, SlowStartEndsAtTheConfiguredFractionOfTheTarget) {
  LedbatSim sim(settings_with(1.0));
  sim.learn_base();
  for (int rtt = 0; rtt < 3; ++rtt) sim.round_trip(90ms);
  EXPECT_TRUE(sim.cc.in_slow_start());
  sim.round_trip(100ms);
  EXPECT_FALSE(sim.cc.in_slow_start());
}

TEST(Ledbat, LossEndsSlowStart) {
  LedbatSim sim(settings_with(0.5));
  sim.learn_base();
  sim.round_trip(0us);
  sim.cc.on_loss(sim.now, kRtt);
  EXPECT_FALSE(sim.cc.in_slow_start());
}

TEST(Ledbat, LossesWithinOneRoundTripHalveTheWindowOnce) {
  LedbatSim sim(settings_with(0.0));
  sim.learn_base();
  for (int rtt = 0; rtt < 30; ++rtt) sim.round_trip(0us);
  const std::uint32_t window = sim.cc.window_bytes();
  ASSERT_GT(window, 20 * kPacket);

  sim.cc.on_loss(sim.now, kRtt);
  sim.cc.on_loss(sim.now + 1ms, kRtt);
  sim.cc.on_loss(sim.now + kRtt - 1ms, kRtt);
  EXPECT_EQ(sim.cc.window_bytes(), window / 2);
  sim.cc.on_loss(sim.now + kRtt, kRtt);  // a new round trip: a new congestion event
  EXPECT_EQ(sim.cc.window_bytes(), window / 4);
}

TEST(Ledbat, TimeoutCollapsesTheWindowToOnePacketAndSlowStartsBack) {
  LedbatSim sim(settings_with(0.5));
  sim.learn_base();
  for (int rtt = 0; rtt < 6; ++rtt) sim.round_trip(0us);
  const std::uint32_t window = sim.cc.window_bytes();
  ASSERT_GT(window, 100 * kPacket);
  sim.cc.on_timeout(sim.now);
  EXPECT_EQ(sim.cc.window_bytes(), kPacket);
  EXPECT_TRUE(sim.cc.in_slow_start());
  for (int rtt = 0; rtt < 10; ++rtt) sim.round_trip(0us);
  // Slow start stopped at half the old window; the linear controller went on from there.
  EXPECT_GE(sim.cc.window_bytes(), window / 2);
  EXPECT_FALSE(sim.cc.in_slow_start());
}

TEST(Ledbat, TheWindowNeverFallsBelowOnePacket) {
  LedbatSim sim(settings_with(0.0));
  sim.learn_base();
  for (int step = 0; step < 200; ++step) {
    sim.round_trip(2s);
    if (step % 7 == 0) sim.cc.on_loss(sim.now, kRtt);
    if (step % 31 == 0) sim.cc.on_timeout(sim.now);
    ASSERT_GE(sim.cc.window_bytes(), kPacket) << step;
  }
  sim.cc.set_packet_size(3 * kPacket);  // the floor follows the packet size
  EXPECT_GE(sim.cc.window_bytes(), 3 * kPacket);
}

TEST(Ledbat, AnApplicationLimitedSenderDoesNotInflateTheWindow) {
  LedbatSim sim(settings_with(0.0));
  sim.learn_base();
  for (int rtt = 0; rtt < 200; ++rtt) sim.round_trip(0us, 2 * kPacket);
  EXPECT_LE(sim.cc.window_bytes(), 3 * kPacket);

  // A window earned while busy is kept when the sender goes quiet.
  LedbatSim busy(settings_with(0.0));
  busy.learn_base();
  for (int rtt = 0; rtt < 20; ++rtt) busy.round_trip(0us);
  const std::uint32_t earned = busy.cc.window_bytes();
  for (int rtt = 0; rtt < 20; ++rtt) busy.round_trip(0us, 2 * kPacket);
  EXPECT_EQ(busy.cc.window_bytes(), earned);
}

TEST(Ledbat, TheBaseDelayForgetsAMinimumAfterTheHistoryLength) {
  LedbatSim sim(settings_with(0.0), 1000);
  const TimePoint start = sim.now;
  sim.ack(-10ms);  // a 10 ms path, once
  const std::uint32_t low = sim.sample(-10ms);
  const std::uint32_t usual = sim.sample(40ms);
  for (sim.now = start + 1s; sim.now < start + 10min; sim.now += 1s) {
    sim.ack(40ms);
    ASSERT_EQ(sim.cc.base_delay().count(), low);
  }
  EXPECT_EQ(sim.cc.queuing_delay(), 50ms);
  sim.ack(40ms);  // ten minutes after the low sample
  EXPECT_EQ(sim.cc.base_delay().count(), usual);
  EXPECT_EQ(sim.cc.queuing_delay(), 0ms);
}

TEST(Ledbat, AnIdleGapRetiresTheWholeHistory) {
  LedbatSim sim(settings_with(0.0), 1000);
  sim.ack(-10ms);
  sim.now += 1h;
  sim.ack(40ms);
  EXPECT_EQ(sim.cc.base_delay().count(), sim.sample(40ms));
}

// Runs a fixed script of ACKs, losses and a timeout; returns every window and queuing delay.
std::vector<std::uint64_t> script(std::uint32_t clock_offset) {
  LedbatSim sim(settings_with(0.5), clock_offset);
  std::vector<std::uint64_t> trace;
  const microseconds queues[] = {0ms, 5ms, 30ms, 60ms, 120ms, 90ms, 20ms, 250ms, 100ms, 0ms};
  for (int step = 0; step < 60; ++step) {
    sim.round_trip(queues[step % 10]);
    if (step == 17) sim.cc.on_loss(sim.now, kRtt);
    if (step == 41) sim.cc.on_timeout(sim.now);
    trace.push_back(sim.cc.window_bytes());
    trace.push_back(static_cast<std::uint64_t>(sim.cc.queuing_delay().count()));
  }
  return trace;
}

TEST(Ledbat, AConstantClockOffsetChangesNothing) {
  const auto reference = script(0x1000);
  EXPECT_EQ(script(0x9E3779B9u), reference);
  // Samples run across the 32-bit wrap during the script.
  EXPECT_EQ(script(0xFFFFFFFFu - 150'000), reference);
  EXPECT_EQ(script(0x7FFFFFFFu), reference);
}

TEST(Ledbat, QueuingDelayIsMeasuredAcrossTheTimestampWrap) {
  LedbatSim sim(settings_with(0.0), 0xFFFFFFFFu - static_cast<std::uint32_t>(kOneWay.count()) -
                                        1000);  // the base sample is 1 ms before the wrap
  sim.learn_base();
  const std::uint32_t base = sim.sample(0us);
  for (int i = 0; i < 4; ++i) sim.ack(50ms);
  ASSERT_LT(sim.sample(50ms), base);  // the counter wrapped
  EXPECT_EQ(sim.cc.base_delay().count(), base);
  EXPECT_EQ(sim.cc.queuing_delay(), 50ms);
}

}  // namespace
}  // namespace starling::utp
