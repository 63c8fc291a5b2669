#include "utp/ledbat.hpp"

#include <algorithm>
#include <cmath>

namespace starling::utp {

namespace {

// Delay samples are 32-bit microsecond counters that wrap; a is before b when the distance
// from b to a, read as a signed number, is negative. Valid while the samples compared lie
// within 2^31 us (35 minutes) of each other, which one-way delays always do.
bool before(std::uint32_t a, std::uint32_t b) {
  return static_cast<std::int32_t>(a - b) < 0;
}

LedbatSettings sanitized(LedbatSettings s) {
  if (!(s.gain > 0.0)) s.gain = 1.0;  // also catches NaN
  s.gain = std::min(s.gain, 1.0);
  if (s.target.count() <= 0) s.target = LedbatSettings{}.target;
  if (s.base_history_interval.count() <= 0) {
    s.base_history_interval = LedbatSettings{}.base_history_interval;
  }
  s.packet_size = std::max<std::uint32_t>(s.packet_size, 1);
  s.initial_window_packets = std::max<std::uint32_t>(s.initial_window_packets, 1);
  if (!(s.slow_start_exit_fraction >= 0.0)) s.slow_start_exit_fraction = 0.0;
  s.slow_start_exit_fraction = std::min(s.slow_start_exit_fraction, 1.0);
  if (!(s.decrease_constant >= 0.0)) s.decrease_constant = 0.0;
  if (!(s.max_decrease_fraction >= 0.0)) s.max_decrease_fraction = 0.0;
  s.max_decrease_fraction = std::min(s.max_decrease_fraction, 1.0);
  return s;
}

}  // namespace

Ledbat::Ledbat(const LedbatSettings& settings)
    : settings_(sanitized(settings)),
      packet_size_(settings_.packet_size),
      window_(static_cast<double>(settings_.initial_window_packets) * packet_size_),
      slow_start_threshold_(settings_.max_window_bytes) {
  // The arrays are fixed so a controller allocates nothing; one base slot stays free for the
  // bucket being filled while the oldest is still counted.
  settings_.base_history = std::clamp<std::size_t>(settings_.base_history, 1, kMaxHistory - 1);
  settings_.current_filter = std::clamp<std::size_t>(settings_.current_filter, 1, kMaxHistory);
  clamp_window();
}

void Ledbat::on_ack(const AckEvent& ack) {
  acked_anything_ = true;
  if (ack.delay_sample_us != 0) add_delay_sample(ack.delay_sample_us, ack.now);
  grow(ack);
}

void Ledbat::on_loss(TimePoint now, Duration rtt) {
  // Losses of one window are one congestion event: the packets lost with the first one were
  // sent before the cut could take effect, so they say nothing new.
  const Duration interval = rtt > Duration::zero() ? rtt : settings_.unknown_rtt;
  if (cut_before_ && now - last_cut_ < interval) return;
  window_ = std::max(window_ / 2, floor_bytes());
  slow_start_threshold_ = window_;
  slow_start_ = false;
  cut_before_ = true;
  last_cut_ = now;
}

void Ledbat::on_timeout(TimePoint now) {
  // Nothing came back for a whole timeout: the path may have changed entirely, so restart from
  // one packet, but slow start back to half the old window rather than crawl there linearly
  // (at one packet per RTT, 100 packets would take 100 RTTs).
  slow_start_threshold_ = std::max(window_ / 2, floor_bytes());
  window_ = floor_bytes();
  slow_start_ = true;
  cut_before_ = true;
  last_cut_ = now;
}

void Ledbat::set_packet_size(std::uint32_t bytes) {
  packet_size_ = std::max<std::uint32_t>(bytes, 1);
  // Before the first ACK the window is still the initial one, which is counted in packets.
  if (!acked_anything_) {
    window_ = static_cast<double>(settings_.initial_window_packets) * packet_size_;
  }
  clamp_window();
}

std::uint32_t Ledbat::window_bytes() const {
  return static_cast<std::uint32_t>(window_);
}

std::chrono::microseconds Ledbat::base_delay() const {
  return std::chrono::microseconds(base_count_ == 0 ? 0 : base_minimum());
}

void Ledbat::add_delay_sample(std::uint32_t sample, TimePoint now) {
  const Duration history = settings_.base_history_interval * settings_.base_history;
  if (base_count_ == 0) {
    base_[0] = {sample, now};
    base_first_ = 0;
    base_count_ = 1;
  } else {
    BaseBucket& last = base_[(base_first_ + base_count_ - 1) % kMaxHistory];
    if (now - last.started >= settings_.base_history_interval) {
      base_[(base_first_ + base_count_) % kMaxHistory] = {sample, now};
      ++base_count_;
      // Retire minima older than the history, also after an idle gap of many intervals.
      while (base_count_ > 1 && (base_count_ > settings_.base_history ||
                                 now - base_[base_first_].started >= history)) {
        base_first_ = (base_first_ + 1) % kMaxHistory;
        --base_count_;
      }
    } else if (before(sample, last.minimum)) {
      last.minimum = sample;
    }
  }

  recent_[recent_next_] = sample;
  recent_next_ = (recent_next_ + 1) % settings_.current_filter;
  recent_count_ = std::min(recent_count_ + 1, settings_.current_filter);

  const auto queuing = static_cast<std::int32_t>(current_minimum() - base_minimum());
  // The filter may still hold a sample from before the base moved up; never below zero.
  queuing_us_ = queuing > 0 ? static_cast<std::uint32_t>(queuing) : 0;
}

std::uint32_t Ledbat::base_minimum() const {
  std::uint32_t minimum = base_[base_first_].minimum;
  for (std::size_t i = 1; i < base_count_; ++i) {
    const std::uint32_t m = base_[(base_first_ + i) % kMaxHistory].minimum;
    if (before(m, minimum)) minimum = m;
  }
  return minimum;
}

std::uint32_t Ledbat::current_minimum() const {
  std::uint32_t minimum = recent_[0];
  for (std::size_t i = 1; i < recent_count_; ++i) {
    if (before(recent_[i], minimum)) minimum = recent_[i];
  }
  return minimum;
}

void Ledbat::grow(const AckEvent& ack) {
  if (ack.bytes_acked == 0) return;
  const double target_us = static_cast<double>(settings_.target.count());
  const double queuing_us = queuing_us_;
  if (slow_start_ && queuing_us >= settings_.slow_start_exit_fraction * target_us) {
    slow_start_ = false;
  }

  double change;
  if (slow_start_) {
    // Every acked byte adds a byte: the window doubles per RTT.
    change = ack.bytes_acked;
    if (window_ + change >= slow_start_threshold_) {
      change = std::max(slow_start_threshold_ - window_, 0.0);
      slow_start_ = false;
    }
  } else if (queuing_us <= target_us) {
    // RFC 6817: a whole window acked moves it up by gain x off_target packets (at most one
    // packet per RTT, as TCP).
    const double off_target = (target_us - queuing_us) / target_us;
    change = settings_.gain * off_target * ack.bytes_acked * packet_size_ / window_;
  } else {
    // Above the target (LEDBAT++): a whole window acked takes decrease_constant x the relative
    // excess of the window away, at most max_decrease_fraction of it.
    const double excess = (queuing_us - target_us) / target_us;
    change = -std::min(settings_.decrease_constant * excess, settings_.max_decrease_fraction) *
             ack.bytes_acked;
  }

  if (change > 0) {
    // Grow only into what is used: the bytes in flight plus the allowed increase. Never shrink
    // for being unused, though; an application-limited sender keeps the window it earned.
    const double used = static_cast<double>(ack.bytes_in_flight) +
                        static_cast<double>(settings_.allowed_increase_packets) * packet_size_;
    window_ = std::max(window_, std::min(window_ + change, used));
  } else {
    window_ += change;
  }
  clamp_window();
}

void Ledbat::clamp_window() {
  const double ceiling = std::max<double>(settings_.max_window_bytes, floor_bytes());
  window_ = std::clamp(window_, floor_bytes(), ceiling);
}

void Ledbat::set_max_window(std::uint32_t bytes) {
  settings_.max_window_bytes = bytes;
  clamp_window();
}

}  // namespace starling::utp
