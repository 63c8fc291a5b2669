// The time grid of the simulated swarm (SwarmSettings::grid): event times rounded to it, and the
// control messages that reach their peer at the next step.
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

}  // namespace starling::sim
