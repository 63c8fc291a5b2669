#include "sim/engine.hpp"

#include <cmath>

namespace starling::sim {

double to_seconds(TimePoint t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

TimePoint from_seconds(double seconds) {
  const double ticks = std::ceil(seconds * static_cast<double>(Duration::period::den) /
                                 static_cast<double>(Duration::period::num));
  if (ticks >= static_cast<double>(Duration::max().count())) return TimePoint::max();
  return TimePoint{} + Duration(static_cast<Duration::rep>(ticks));
}

EventId Engine::at(TimePoint when, Callback callback) {
  std::uint32_t slot = 0;
  if (free_slots_.empty()) {
    slot = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();
  } else {
    slot = free_slots_.back();
    free_slots_.pop_back();
  }
  Slot& s = slots_[slot];
  s.callback = std::move(callback);
  heap_.push_back(Entry{when < now_ ? now_ : when, next_sequence_++, slot});
  s.heap_pos = static_cast<std::uint32_t>(heap_.size() - 1);
  sift_up(heap_.size() - 1);
  return EventId{slot, s.generation};
}

bool Engine::pending(EventId id) const {
  return id.valid() && id.slot < slots_.size() && slots_[id.slot].generation == id.generation &&
         slots_[id.slot].heap_pos != UINT32_MAX;
}

bool Engine::cancel(EventId id) {
  if (!pending(id)) return false;
  remove_at(slots_[id.slot].heap_pos);
  return true;
}

bool Engine::reschedule(EventId id, TimePoint when) {
  if (!pending(id)) return false;
  const std::size_t pos = slots_[id.slot].heap_pos;
  heap_[pos].when = when < now_ ? now_ : when;
  heap_[pos].sequence = next_sequence_++;
  sift_up(pos);
  sift_down(slots_[id.slot].heap_pos);
  return true;
}

bool Engine::step() {
  if (heap_.empty()) return false;
  const std::uint32_t slot = heap_.front().slot;
  now_ = heap_.front().when;
  // Take the callback out first: it may schedule events, which can reuse this slot.
  Callback callback = std::move(slots_[slot].callback);
  remove_at(0);
  ++events_run_;
  callback();
  return true;
}

void Engine::run_until(TimePoint end) {
  stopped_ = false;
  while (!stopped_ && !heap_.empty() && heap_.front().when <= end) step();
}

void Engine::place(std::size_t pos, const Entry& entry) {
  heap_[pos] = entry;
  slots_[entry.slot].heap_pos = static_cast<std::uint32_t>(pos);
}

void Engine::sift_up(std::size_t pos) {
  const Entry entry = heap_[pos];
  while (pos > 0) {
    const std::size_t parent = (pos - 1) / 2;
    if (!earlier(entry, heap_[parent])) break;
    place(pos, heap_[parent]);
    pos = parent;
  }
  place(pos, entry);
}

void Engine::sift_down(std::size_t pos) {
  const Entry entry = heap_[pos];
  const std::size_t n = heap_.size();
  for (;;) {
    std::size_t child = 2 * pos + 1;
    if (child >= n) break;
    if (child + 1 < n && earlier(heap_[child + 1], heap_[child])) ++child;
    if (!earlier(heap_[child], entry)) break;
    place(pos, heap_[child]);
    pos = child;
  }
  place(pos, entry);
}

void Engine::remove_at(std::size_t pos) {
  const std::uint32_t slot = heap_[pos].slot;
  Slot& s = slots_[slot];
  s.heap_pos = UINT32_MAX;
  s.callback = nullptr;
  ++s.generation;
  free_slots_.push_back(slot);
  const Entry last = heap_.back();
  heap_.pop_back();
  if (pos == heap_.size()) return;
  place(pos, last);
  sift_up(pos);
  sift_down(slots_[last.slot].heap_pos);
}

}  // namespace starling::sim
