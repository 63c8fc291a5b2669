#include "sim/engine.hpp"

#include <algorithm>
#include <cmath>

namespace starling::sim {
namespace {
constexpr std::size_t kArity = 4;
}  // namespace

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

int Engine::add_lane(Duration delay, LaneHandler handler) {
  lanes_.push_back(Lane{std::max(delay, Duration::zero()), std::move(handler), {}, 0});
  return static_cast<int>(lanes_.size() - 1);
}

void Engine::post(int lane, std::uint32_t argument) {
  Lane& l = lanes_[static_cast<std::size_t>(lane)];
  // now_ never goes back and the delay is fixed: the queue stays sorted by (when, sequence).
  l.queue.push_back(LaneEntry{now_ + l.delay, next_sequence_++, argument});
}

std::size_t Engine::size() const {
  std::size_t n = heap_.size();
  for (const Lane& l : lanes_) n += l.queue.size() - l.head;
  return n;
}

bool Engine::empty() const {
  if (!heap_.empty()) return false;
  return std::all_of(lanes_.begin(), lanes_.end(),
                     [](const Lane& l) { return l.head == l.queue.size(); });
}

int Engine::next_lane() const {
  int best = -1;
  bool any = !heap_.empty();
  TimePoint when = any ? heap_.front().when : TimePoint{};
  std::uint64_t sequence = any ? heap_.front().sequence : 0;
  for (std::size_t i = 0; i < lanes_.size(); ++i) {
    const Lane& l = lanes_[i];
    if (l.head == l.queue.size()) continue;
    const LaneEntry& e = l.queue[l.head];
    if (!any || e.when < when || (e.when == when && e.sequence < sequence)) {
      best = static_cast<int>(i);
      when = e.when;
      sequence = e.sequence;
      any = true;
    }
  }
  return best;
}

TimePoint Engine::next_time() const {
  const int lane = next_lane();
  if (lane < 0) return heap_.empty() ? TimePoint::max() : heap_.front().when;
  const Lane& l = lanes_[static_cast<std::size_t>(lane)];
  return l.queue[l.head].when;
}

bool Engine::step() {
  const int lane = next_lane();
  if (lane >= 0) {
    Lane& l = lanes_[static_cast<std::size_t>(lane)];
    const LaneEntry e = l.queue[l.head++];
    if (l.head == l.queue.size()) {
      l.queue.clear();
      l.head = 0;
    } else if (l.head >= 4096 && 2 * l.head >= l.queue.size()) {
      l.queue.erase(l.queue.begin(), l.queue.begin() + static_cast<std::ptrdiff_t>(l.head));
      l.head = 0;
    }
    now_ = e.when;
    ++events_run_;
    l.handler(e.argument);  // may post to this lane: `e` is a copy
    return true;
  }
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
  while (!stopped_ && !empty() && next_time() <= end) step();
}

void Engine::place(std::size_t pos, const Entry& entry) {
  heap_[pos] = entry;
  slots_[entry.slot].heap_pos = static_cast<std::uint32_t>(pos);
}

void Engine::sift_up(std::size_t pos) {
  const Entry entry = heap_[pos];
  while (pos > 0) {
    const std::size_t parent = (pos - 1) / kArity;
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
    const std::size_t first = kArity * pos + 1;
    if (first >= n) break;
    const std::size_t last = std::min(first + kArity, n);
    std::size_t child = first;
    for (std::size_t c = first + 1; c < last; ++c) {
      if (earlier(heap_[c], heap_[child])) child = c;
    }
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
