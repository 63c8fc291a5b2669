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
  engine.run();
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

TEST(Engine, SecondsRoundTrip) {
  EXPECT_DOUBLE_EQ(to_seconds(from_seconds(1.5)), 1.5);
  EXPECT_GE(from_seconds(1e-10), TimePoint{} + 1ns - 1ns);
}

}  // namespace
}  // namespace starling::sim
