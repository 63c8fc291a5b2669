// The time grid of the simulated swarm (SwarmSettings::grid): event times rounded to it, and the
// control messages that reach their peer at the next step.
#include <algorithm>
#include <utility>

#include "sim/swarm.hpp"

namespace starling::sim {

TimePoint Swarm::on_grid(TimePoint t) const {
  if (!gridded() || t == TimePoint::max()) return t;
  const Duration since = t.time_since_epoch();
  const Duration::rep steps = (since.count() + grid_.count() - 1) / grid_.count();
  return TimePoint{} + steps * grid_;
}

TimePoint Swarm::next_step() const {
  if (!gridded()) return engine_.now();
  return TimePoint{} + (engine_.now().time_since_epoch() / grid_ + 1) * grid_;
}

EventId Swarm::after(Duration delay, Engine::Callback callback) {
  return engine_.at(on_grid(engine_.now() + delay), std::move(callback));
}

// One engine event per step delivers every message sent during the step before, in the order
// they were sent.
void Swarm::deliver_next_step(MessageEffect effect, std::uint32_t target) {
  if (messages_.empty()) engine_.at(next_step(), [this] { deliver_messages(); });
  messages_.push_back(Message{effect, target});
}

void Swarm::deliver_messages() {
  delivering_.clear();
  delivering_.swap(messages_);
  for (const Message& m : delivering_) {
    switch (m.effect) {
      case MessageEffect::request:
        request(m.target);  // nothing if the sender choked again or the receiver lost interest
        break;
      case MessageEffect::refill:
        if (peers_[m.target].present && !peers_[m.target].done) refill(m.target);
        break;
    }
  }
}

// A half's front request finishes in `when`'s step (rounded up to the grid here). One event per
// step with finishes runs them all; a half moved to another step leaves a stale entry behind, which
// that step skips (finish_step names the step it counts on).
void Swarm::schedule_grid_finish(HalfId h, TimePoint when) {
  SimHalf& s = halves_[h];
  if (when == TimePoint::max()) {
    cancel_grid_finish(h);
    return;
  }
  const std::int64_t step = on_grid(std::max(when, engine_.now())).time_since_epoch() / grid_;
  if (s.finish_step == step) return;
  s.finish_step = step;
  std::vector<HalfId>& finishes = step_finishes_[step];
  if (finishes.empty()) {
    engine_.at(TimePoint{} + step * grid_, [this, step] { run_step_finishes(step); });
  }
  finishes.push_back(h);
}

void Swarm::cancel_grid_finish(HalfId h) {
  halves_[h].finish_step = -1;
}

// Every request finishing in this step. A finish touches its receiver's picker, the halves towards
// the receiver and their flows' byte counts, and reads the senders' have bitfields (which change
// only when a piece passes, an effect): so the workers take a range of receivers each, and what a
// finish does beyond its receiver (bytes sent, flows that end, finish times, pieces passed and
// their HAVEs) is applied afterwards in the order of the finishes, as one thread would have
// applied it. Pieces pass at the end of the step they completed in.
void Swarm::run_step_finishes(std::int64_t step) {
  const auto it = step_finishes_.find(step);
  if (it == step_finishes_.end()) return;
  finishing_.clear();
  for (HalfId h : it->second) {
    SimHalf& s = halves_[h];
    if (s.finish_step != step) continue;  // moved or cancelled since, or named twice
    s.finish_step = -1;
    if (s.flow != kNoFlow && !s.queue.empty()) finishing_.push_back(h);
  }
  step_finishes_.erase(it);
  if (finishing_.empty()) return;
  grid_finishes_ += finishing_.size();
  const std::size_t n = peers_.size();
  const auto job = [this, n](int index, int parts) {
    StepPart& part = parts_[static_cast<std::size_t>(index)];
    part.effects.clear();
    const std::size_t begin = n * static_cast<std::size_t>(index) / static_cast<std::size_t>(parts);
    const std::size_t end =
        n * static_cast<std::size_t>(index + 1) / static_cast<std::size_t>(parts);
    for (std::size_t i = 0; i < finishing_.size(); ++i) {
      const HalfId h = finishing_[i];
      const PeerId to = halves_[h].to;
      if (to < begin || to >= end) continue;
      part.finish = static_cast<std::uint32_t>(i);
      finish_front(h, part);
    }
  };
  // The merge below makes the run the same however the receivers are split: a few finishes are
  // not worth waking the workers for.
  if (finishing_.size() < static_cast<std::size_t>(std::max(settings_.parallel_finishes, 1))) {
    job(0, 1);
  } else {
    workers_->run(job);
  }
  step_effects_.clear();
  for (StepPart& part : parts_) {
    step_effects_.insert(step_effects_.end(), part.effects.begin(), part.effects.end());
    part.effects.clear();  // parts that sit out the next step must not bring these again
    requests_ += part.requests;
    part.requests = 0;
    duplicate_bytes_ += part.duplicate_bytes;  // whole blocks: exact in any order
    part.duplicate_bytes = 0;
  }
  // Each part's effects are in finish order already; a finish's own effects keep theirs.
  std::stable_sort(step_effects_.begin(), step_effects_.end(),
                   [](const StepEffect& a, const StepEffect& b) { return a.finish < b.finish; });
  for (const StepEffect& effect : step_effects_) apply(effect);
}

}  // namespace starling::sim
