// A peer's payload rates over a sliding window (the choker ranks peers by what they uploaded to
// us over the last 20 s): totals sampled on every tick, rate = difference over the window.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>

namespace starling::session {

class TransferRates {
 public:
  using Clock = std::chrono::steady_clock;

  explicit TransferRates(Clock::duration window = std::chrono::seconds(20)) : window_(window) {}

  // `received` and `sent` are running totals of payload bytes.
  void sample(Clock::time_point now, std::int64_t received, std::int64_t sent) {
    samples_.push_back({now, received, sent});
    // Keep one sample at or before the window's start, so the rate spans the whole window.
    while (samples_.size() > 2 && now - samples_[1].at >= window_) samples_.pop_front();
  }

  double received_per_second() const { return rate(&Sample::received); }
  double sent_per_second() const { return rate(&Sample::sent); }

 private:
  struct Sample {
    Clock::time_point at;
    std::int64_t received;
    std::int64_t sent;
  };

  double rate(std::int64_t Sample::*field) const {
    if (samples_.size() < 2) return 0;
    const double seconds =
        std::chrono::duration<double>(samples_.back().at - samples_.front().at).count();
    if (seconds <= 0) return 0;
    return static_cast<double>(samples_.back().*field - samples_.front().*field) / seconds;
  }

  Clock::duration window_;
  std::deque<Sample> samples_;
};

}  // namespace starling::session
