#include "webseed/server_policy.hpp"

#include <algorithm>

namespace starling::webseed {

ServerPolicy::ServerPolicy(TimePoint now, std::int64_t request_bytes,
                           const WebSeedSettings& settings)
    : settings_(settings),
      request_bytes_(std::max<std::int64_t>(1, request_bytes)),
      last_progress_(now),
      window_start_(now) {}

void ServerPolicy::sample_rtt(Duration sample) {
  if (sample < Duration::zero()) return;
  // A smoothed RTT as TCP keeps one (RFC 6298, alpha 1/8).
  rtt_ = have_rtt_ ? rtt_ + (sample - rtt_) / 8 : sample;
  have_rtt_ = true;
}

void ServerPolicy::on_connected(Duration setup_time, TimePoint now) {
  sample_rtt(setup_time);
  last_progress_ = now;
}

void ServerPolicy::on_request_sent(std::int64_t bytes, TimePoint now) {
  if (outstanding_ == 0) {
    // Waiting starts now, not when the server last sent something.
    last_progress_ = now;
    roll_window(now);
    window_start_ = now;
    window_bytes_ = 0;
  }
  outstanding_ += bytes;
}

void ServerPolicy::on_first_byte_after_idle(TimePoint sent, TimePoint now) {
  sample_rtt(now - sent);
}

void ServerPolicy::roll_window(TimePoint now) {
  const Duration length = now - window_start_;
  if (length < settings_.rate_window) return;
  const double seconds = std::chrono::duration<double>(length).count();
  const double sample = static_cast<double>(window_bytes_) / seconds;
  // Quick to follow (a server's rate is what it is), smooth enough to ignore one late window.
  rate_ = rate_ == 0 ? sample : 0.5 * rate_ + 0.5 * sample;
  window_start_ = now;
  window_bytes_ = 0;
}

void ServerPolicy::on_body_bytes(std::int64_t bytes, TimePoint now) {
  outstanding_ = std::max<std::int64_t>(0, outstanding_ - bytes);
  window_bytes_ += bytes;
  last_progress_ = now;
  roll_window(now);
}

void ServerPolicy::on_all_dropped() {
  outstanding_ = 0;
}

ServerPolicy::Verdict ServerPolicy::on_failure(TimePoint now, bool permanent) {
  ++failures_;
  ++consecutive_failures_;
  outstanding_ = 0;
  if (permanent || consecutive_failures_ >= settings_.max_failures) return Verdict::drop;
  auto backoff = settings_.first_backoff;
  for (int i = 1; i < consecutive_failures_ && backoff < settings_.max_backoff; ++i) backoff *= 2;
  retry_at_ = now + std::min(backoff, settings_.max_backoff);
  return Verdict::retry;
}

std::int64_t ServerPolicy::desired_outstanding_bytes() const {
  const std::int64_t one = request_bytes_;
  if (!settings_.pipelining) return one;
  const double seconds =
      std::chrono::duration<double>(rtt_ + Duration(settings_.lookahead)).count();
  const auto bdp = static_cast<std::int64_t>(rate_ * seconds);
  return std::clamp<std::int64_t>(bdp, 2 * one, std::max(2 * one, settings_.max_outstanding_bytes));
}

bool ServerPolicy::stalled(TimePoint now) const {
  return outstanding_ > 0 && now - last_progress_ > settings_.stall_timeout;
}

}  // namespace starling::webseed
