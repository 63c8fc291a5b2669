#include "sim/engine.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <vector>

namespace starling::sim {
namespace {

using namespace std::chrono_literals;

TEST(Engine, RunsEventsInTimeOrder) {
  Engine engine;
  std::vector<int> order;
  engine.at(TimePoint{} + 3s, [&] { order.push_back(3); });
  engine.at(TimePoint{} + 1s, [&] { order.push_back(1); });
  engine.at(TimePoint{} + 2s, [&] { order.push_back(2); });
  engine.run();
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(engine.now(), TimePoint{} + 3s);
}

TEST(Engine, TiesRunInSchedulingOrder) {
  Engine engine;
  std::vector<int> order;
  for (int i = 0; i < 100; ++i) engine.at(TimePoint{} + 1s, [&order, i] { order.push_back(i); });
  engine.run();
  ASSERT_EQ(order.size(), 100U);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(order[static_cast<std::size_t>(i)], i);
}

TEST(Engine, EventsScheduledByEventsAndInThePastRunNow) {
  Engine engine;
  std::vector<double> times;
  engine.at(TimePoint{} + 2s, [&] {
    engine.after(1s, [&] { times.push_back(to_seconds(engine.now())); });
    engine.at(TimePoint{}, [&] { times.push_back(to_seconds(engine.now())); });
  });
  engine.run();
  EXPECT_EQ(times, (std::vector<double>{2.0, 3.0}));
}

TEST(Engine, CancelAndReschedule) {
  Engine engine;
  std::vector<int> order;
  const EventId a = engine.at(TimePoint{} + 1s, [&] { order.push_back(1); });
  const EventId b = engine.at(TimePoint{} + 2s, [&] { order.push_back(2); });
  engine.at(TimePoint{} + 3s, [&] { order.push_back(3); });
  EXPECT_TRUE(engine.cancel(a));
  EXPECT_FALSE(engine.cancel(a));
  EXPECT_TRUE(engine.reschedule(b, TimePoint{} + 4s));
  EXPECT_EQ(engine.next_time(), TimePoint{} + 3s);
  engine.run();
  EXPECT_EQ(engine.next_time(), TimePoint::max());
  EXPECT_EQ(order, (std::vector<int>{3, 2}));
  EXPECT_FALSE(engine.pending(b));
  EXPECT_FALSE(engine.reschedule(b, TimePoint{} + 5s));
}

TEST(Engine, RunUntilStopsBeforeLaterEvents) {
  Engine engine;
  int runs = 0;
  engine.at(TimePoint{} + 1s, [&] { ++runs; });
  engine.at(TimePoint{} + 5s, [&] { ++runs; });
  engine.run_until(TimePoint{} + 2s);
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(engine.size(), 1U);
}

// A lane event runs exactly where after(delay, ...) posted at the same moment would have run:
// the same run, event for event, with lanes or with the heap alone.
TEST(Engine, LaneEventsRunWhereHeapEventsWould) {
  const auto run = [](bool use_lane) {
    Engine engine;
    std::vector<std::pair<double, int>> log;
    const int lane = engine.add_lane(100ms, [&](std::uint32_t id) {
      log.emplace_back(to_seconds(engine.now()), static_cast<int>(id));
    });
    std::uint64_t x = 12345;
    for (int i = 0; i < 300; ++i) {
      x = x * 6364136223846793005ULL + 1442695040888963407ULL;
      const auto t = TimePoint{} + std::chrono::milliseconds((x >> 33) % 1000);
      engine.at(t, [&engine, &log, lane, use_lane, i] {
        log.emplace_back(to_seconds(engine.now()), -i);
        const auto id = static_cast<std::uint32_t>(i);
        if (use_lane) {
          engine.post(lane, id);
        } else {
          engine.after(100ms, [&engine, &log, id] {
            log.emplace_back(to_seconds(engine.now()), static_cast<int>(id));
          });
        }
        // Ties: an event due at the same time as the lane's, scheduled after it.
        if (i % 3 == 0) engine.after(100ms, [&log, i] { log.emplace_back(-1, i); });
      });
    }
    EXPECT_EQ(engine.size(), 300U);
    engine.run();
    EXPECT_EQ(engine.events_run(), 700U);
    EXPECT_EQ(engine.size(), 0U);
    return log;
  };
  EXPECT_EQ(run(true), run(false));
}

TEST(Engine, LaneEventsStopAtRunUntil) {
  Engine engine;
  int runs = 0;
  const int lane = engine.add_lane(1s, [&](std::uint32_t) { ++runs; });
  engine.post(lane, 0);
  engine.at(TimePoint{} + 2s, [&] { engine.post(lane, 1); });
  engine.run_until(TimePoint{} + 2500ms);
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(engine.size(), 1U);
  engine.run();
  EXPECT_EQ(runs, 2);
  EXPECT_EQ(engine.now(), TimePoint{} + 3s);
}

TEST(Engine, SecondsRoundTrip) {
  EXPECT_DOUBLE_EQ(to_seconds(from_seconds(1.5)), 1.5);
  EXPECT_GE(from_seconds(1e-10), TimePoint{} + 1ns - 1ns);
}

}  // namespace
}  // namespace starling::sim
