// The seam between a uTP connection (utp/connection) and its congestion controller (LEDBAT in
// utp/ledbat, or a fixed window in tests). The connection measures; the controller decides how
// many payload bytes may be in flight. Sans-IO: time is a parameter, nothing here reads a clock.
//
// Delay samples come from the uTP header (BEP 29): every packet carries the sender's timestamp,
// and every packet back carries timestamp_difference = (receive time - that timestamp) as seen
// by the receiver. That difference is the one-way delay plus a constant clock offset; LEDBAT only
// uses it relative to its running minimum (the base delay), so the offset cancels out.
#pragma once

#include <chrono>
#include <cstdint>

namespace starling::utp {

using TimePoint = std::chrono::steady_clock::time_point;
using Duration = std::chrono::steady_clock::duration;

// One acknowledgement that advanced the window (new bytes acked, cumulatively or by SACK).
struct AckEvent {
  TimePoint now;
  // Payload bytes newly acknowledged by this packet.
  std::uint32_t bytes_acked = 0;
  // Payload bytes that were in flight just before this acknowledgement.
  std::uint32_t bytes_in_flight = 0;
  // The peer's timestamp_difference_microseconds from this ACK: one-way delay + clock offset.
  // 0 means "no sample" (the peer had nothing to measure yet).
  std::uint32_t delay_sample_us = 0;
  // Smoothed round-trip time as the connection measures it (BEP 29 rtt), for "once per RTT".
  Duration rtt{};
};

class CongestionControl {
 public:
  virtual ~CongestionControl() = default;

  virtual void on_ack(const AckEvent& ack) = 0;
  // A packet was declared lost by fast retransmit (3 duplicate ACKs or SACK evidence). The
  // controller halves its window at most once per round trip.
  virtual void on_loss(TimePoint now, Duration rtt) = 0;
  // The retransmission timer fired: the window collapses to its floor (one packet).
  virtual void on_timeout(TimePoint now) = 0;
  // The connection's largest packet payload changed (MTU probing); the window floor follows.
  virtual void set_packet_size(std::uint32_t bytes) = 0;

  // Payload bytes the connection may have in flight now.
  virtual std::uint32_t window_bytes() const = 0;
};

}  // namespace starling::utp
