// LEDBAT (RFC 6817), the "scavenger" congestion controller uTP uses (BEP 29): it keeps the
// queue it adds on the path near a fixed target delay, so a bulk transfer yields to everything
// else on the link (a TCP flow, a video call) instead of filling the bottleneck buffer.
//
// The signal is the one-way delay sample the peer echoes in every ACK. Its absolute value is
// meaningless (the two clocks are unrelated, and the 32-bit microsecond counter wraps every
// 71 minutes), so only differences are used: queuing delay = a filtered recent sample minus the
// base delay (the minimum seen over the last `base_history` minutes). All comparisons are
// modular, so a constant clock offset and counter wrap change nothing.
//
// Sans-IO: every input carries `now`; nothing here reads a clock.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "utp/congestion_control.hpp"

namespace starling::utp {

struct LedbatSettings {
  // RFC 6817 TARGET: the queuing delay LEDBAT aims for. The RFC caps it at 100 ms; less would
  // starve on links whose own jitter is of that order.
  std::chrono::microseconds target{100'000};
  // RFC GAIN: how fast the window moves toward the target, in packets per RTT at full
  // off-target. Must be in (0, 1] so LEDBAT never ramps up faster than TCP's one packet per RTT;
  // larger values are clamped to 1, and a non-positive one (a window that never moves) is
  // replaced by 1.
  double gain = 1.0;
  // RFC BASE_HISTORY: the base delay is the minimum over this many intervals, so it forgets a
  // minimum that no longer holds (a route change, clock drift) after at most this long.
  std::size_t base_history = 10;
  std::chrono::seconds base_history_interval{60};
  // RFC CURRENT_FILTER: the current delay is the minimum of the last this-many samples, which
  // removes the upward noise of a delayed ACK or a busy receiver without hiding a real queue.
  std::size_t current_filter = 4;
  // Payload bytes per packet until the connection calls set_packet_size. 1400 leaves room for
  // IPv6, UDP and uTP headers and a tunnel inside a 1500-byte MTU.
  std::uint32_t packet_size = 1400;
  // RFC INIT_CWND: 2 packets, as the RFC recommends. One packet would leave a fresh connection
  // waiting for a delayed ACK; more would add a burst to a path we know nothing about. Slow
  // start reaches any useful window within a few RTTs anyway.
  std::uint32_t initial_window_packets = 2;
  // Upper bound of the window, which bounds the memory a connection keeps for retransmission.
  std::uint32_t max_window_bytes = 8 * 1024 * 1024;
  // RFC ALLOWED_INCREASE: the window grows only while it is (nearly) used: at most this many
  // packets beyond the bytes in flight. An application-limited sender would otherwise inflate
  // the window on every ACK and then burst it all into the path at once.
  std::uint32_t allowed_increase_packets = 1;
  // Slow start (window doubling per RTT) ends when the queuing delay reaches this fraction of the
  // target: one more doubling can add up to a window's worth of queue within one RTT, so
  // leaving at half the target keeps the overshoot near the target rather than at twice it.
  // 0 skips slow start (the linear controller from the first ACK).
  double slow_start_exit_fraction = 0.5;
  // Above the target the window shrinks in proportion to itself, as in LEDBAT++
  // (draft-irtf-iccrg-ledbat-plus-plus, "multiplicative decrease"): by decrease_constant x
  // (queuing delay / target - 1) of the window per RTT, at most max_decrease_fraction of it.
  // RFC 6817's linear decrease (gain x off_target packets per RTT) is far too slow to yield: a
  // window of 170 packets (20 Mbit/s at the 100 ms target) beside a loss-based TCP flow that
  // holds the queue at 300-500 ms would take tens of seconds to give way, while yielding to a
  // queue it did not cause is the whole point of LEDBAT. Near the target the decrease is mild
  // (10 ms over it: a tenth of the window per RTT), so a lone transfer still holds the target.
  double decrease_constant = 1.0;
  double max_decrease_fraction = 0.5;
  // "At most once per RTT" before the connection has measured one.
  Duration unknown_rtt = std::chrono::milliseconds(500);
};

class Ledbat final : public CongestionControl {
 public:
  explicit Ledbat(const LedbatSettings& settings = {});

  void on_ack(const AckEvent& ack) override;
  void on_loss(TimePoint now, Duration rtt) override;
  void on_timeout(TimePoint now) override;
  void set_packet_size(std::uint32_t bytes) override;
  std::uint32_t window_bytes() const override;

  // For logs and tests. Zero until the first delay sample.
  std::chrono::microseconds queuing_delay() const { return std::chrono::microseconds(queuing_us_); }
  // The current minimum of the delay samples (one-way delay plus the unknown clock offset, so
  // only its changes mean something). Zero until the first sample.
  std::chrono::microseconds base_delay() const;
  bool in_slow_start() const { return slow_start_; }
  std::uint32_t packet_size() const { return packet_size_; }
  const LedbatSettings& settings() const { return settings_; }
  // Changes the upper bound of the window (the window itself shrinks to it at once).
  void set_max_window(std::uint32_t bytes);

 private:
  static constexpr std::size_t kMaxHistory = 64;  // bounds both delay arrays
  struct BaseBucket {
    std::uint32_t minimum = 0;
    TimePoint started{};
  };

  void add_delay_sample(std::uint32_t sample, TimePoint now);
  std::uint32_t base_minimum() const;
  std::uint32_t current_minimum() const;
  void grow(const AckEvent& ack);
  void clamp_window();
  double floor_bytes() const { return packet_size_; }

  LedbatSettings settings_;
  std::uint32_t packet_size_;
  double window_;  // fractional: one ACK in congestion avoidance may add less than a byte
  bool acked_anything_ = false;
  bool slow_start_ = true;
  // After a timeout slow start runs again, up to half the window the timeout cut from.
  double slow_start_threshold_;

  // Base-delay history: a ring of per-interval minima, oldest at base_first_.
  std::array<BaseBucket, kMaxHistory> base_{};
  std::size_t base_first_ = 0;
  std::size_t base_count_ = 0;
  // The last current_filter samples, a ring.
  std::array<std::uint32_t, kMaxHistory> recent_{};
  std::size_t recent_next_ = 0;
  std::size_t recent_count_ = 0;
  std::uint32_t queuing_us_ = 0;

  bool cut_before_ = false;
  TimePoint last_cut_{};
};

}  // namespace starling::utp
