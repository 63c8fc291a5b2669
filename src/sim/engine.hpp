// A discrete-event engine: a simulated clock and a queue of timed callbacks. Nothing here reads a
// real clock; time is a policy::TimePoint built as TimePoint{} + offset, the same type the policy
// modules (Choker, RequestPipeline) take, so the simulator hands them its clock unchanged.
//
// Events run in time order; events due at the same time run in the order they were scheduled
// (or last rescheduled), so a run is reproducible. The queue is an indexed binary heap: cancel and
// reschedule are O(log n) and leave nothing stale behind, which matters for flow completions whose
// time moves whenever a rate changes.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "policy/choker.hpp"

namespace starling::sim {

using TimePoint = policy::TimePoint;
using Duration = TimePoint::duration;

// Seconds since the simulation started, and back (rounded up, so an event is never early).
double to_seconds(TimePoint t);
TimePoint from_seconds(double seconds);

// A handle on a scheduled event. Stale handles (the event ran or was cancelled) are recognised.
struct EventId {
  std::uint32_t slot = UINT32_MAX;
  std::uint32_t generation = 0;
  bool valid() const { return slot != UINT32_MAX; }
};

class Engine {
 public:
  using Callback = std::function<void()>;

  TimePoint now() const { return now_; }
  EventId at(TimePoint when, Callback callback);  // `when` before now() runs at now()
  EventId after(Duration delay, Callback callback) { return at(now_ + delay, std::move(callback)); }
  bool pending(EventId id) const;
  bool cancel(EventId id);  // false when it already ran or was cancelled
  // Moves a pending event; it then runs after other events already due at `when`.
  bool reschedule(EventId id, TimePoint when);

  // Runs the earliest event; false when none is left.
  bool step();
  // Runs events until none is left, stop() is called, or the next one is later than `end`.
  void run_until(TimePoint end);
  void run() { run_until(TimePoint::max()); }
  void stop() { stopped_ = true; }

  // A lane: events that all come `delay` after they are posted. Posted in time order, they fall
  // due in that order, so a FIFO holds them instead of the heap (no sifting, no callback per
  // event); step() merges the lanes with the heap by (time, sequence), so they run exactly where
  // at(now() + delay, ...) would have run them. Not cancellable.
  using LaneHandler = std::function<void(std::uint32_t)>;
  int add_lane(Duration delay, LaneHandler handler);
  void post(int lane, std::uint32_t argument);

  std::size_t size() const;
  std::uint64_t events_run() const { return events_run_; }
  // When the next event is due; TimePoint::max() when none is left.
  TimePoint next_time() const;

 private:
  struct Slot {
    Callback callback;
    std::uint32_t generation = 0;
    std::uint32_t heap_pos = UINT32_MAX;  // UINT32_MAX: free
  };
  // The heap holds the ordering key itself, so sifting compares without touching the slots.
  struct Entry {
    TimePoint when{};
    std::uint64_t sequence = 0;
    std::uint32_t slot = 0;
  };
  static bool earlier(const Entry& a, const Entry& b) {
    return a.when != b.when ? a.when < b.when : a.sequence < b.sequence;
  }
  struct LaneEntry {
    TimePoint when{};
    std::uint64_t sequence = 0;
    std::uint32_t argument = 0;
  };
  struct Lane {
    Duration delay{};
    LaneHandler handler;
    std::vector<LaneEntry> queue;  // due from `head` on
    std::size_t head = 0;
  };
  // The lane whose front is due before the heap's top, or -1 for the heap (or nothing at all).
  int next_lane() const;
  bool empty() const;
  void place(std::size_t pos, const Entry& entry);
  void sift_up(std::size_t pos);
  void sift_down(std::size_t pos);
  void remove_at(std::size_t pos);

  TimePoint now_{};
  std::uint64_t next_sequence_ = 0;
  std::uint64_t events_run_ = 0;
  bool stopped_ = false;
  std::vector<Slot> slots_;
  std::vector<std::uint32_t> free_slots_;
  std::vector<Entry> heap_;  // a 4-ary heap, earliest first (half the levels of a binary one)
  std::vector<Lane> lanes_;
};

}  // namespace starling::sim
