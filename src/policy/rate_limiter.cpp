#include "policy/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace starling::policy {

namespace {

std::int64_t burst_for(std::int64_t rate, const BucketSettings& settings) {
  const double seconds = std::chrono::duration<double>(settings.burst_time).count();
  const auto from_rate = static_cast<std::int64_t>(static_cast<double>(rate) * seconds);
  return std::max(from_rate, settings.min_burst);
}

}  // namespace

TokenBucket::TokenBucket(std::int64_t rate, TimePoint now, const BucketSettings& settings)
    : settings_(settings),
      rate_(std::max<std::int64_t>(rate, 0)),
      burst_(burst_for(rate_, settings)),
      tokens_(
          static_cast<double>(settings.start_full ? burst_ : std::min(burst_, settings.min_burst))),
      updated_(now) {}

double TokenBucket::tokens_at(TimePoint now) const {
  if (unlimited()) return static_cast<double>(burst_);
  // Time that goes backwards (a caller mixing clocks) earns nothing rather than draining.
  const double elapsed = std::max(0.0, std::chrono::duration<double>(now - updated_).count());
  return std::min(static_cast<double>(burst_), tokens_ + elapsed * static_cast<double>(rate_));
}

void TokenBucket::refill(TimePoint now) {
  tokens_ = tokens_at(now);
  updated_ = std::max(updated_, now);
}

std::int64_t TokenBucket::available(TimePoint now) const {
  if (unlimited()) return burst_;
  return std::max<std::int64_t>(0, static_cast<std::int64_t>(std::floor(tokens_at(now))));
}

std::int64_t TokenBucket::grant(std::int64_t wanted, TimePoint now) {
  if (wanted <= 0) return 0;
  if (unlimited()) return wanted;
  refill(now);
  const std::int64_t granted = std::min(wanted, available(now));
  tokens_ -= static_cast<double>(granted);
  return granted;
}

void TokenBucket::consume(std::int64_t bytes, TimePoint now) {
  if (bytes <= 0 || unlimited()) return;
  refill(now);
  tokens_ -= static_cast<double>(bytes);
}

Duration TokenBucket::time_until(std::int64_t bytes, TimePoint now) const {
  if (unlimited()) return Duration::zero();
  const double target = static_cast<double>(std::min(bytes, burst_));
  const double missing = target - tokens_at(now);
  if (missing <= 0) return Duration::zero();
  // Round up: waking a tick early would find the tokens one short.
  const std::chrono::duration<double> seconds(missing / static_cast<double>(rate_));
  return std::chrono::ceil<Duration>(seconds);
}

void TokenBucket::set_rate(std::int64_t rate, TimePoint now) {
  const bool was_unlimited = unlimited();
  refill(now);
  rate_ = std::max<std::int64_t>(rate, 0);
  burst_ = burst_for(rate_, settings_);
  // Leaving "unlimited" starts with a full bucket; otherwise the savings are kept, up to the
  // new burst.
  tokens_ =
      was_unlimited ? static_cast<double>(burst_) : std::min(tokens_, static_cast<double>(burst_));
  updated_ = std::max(updated_, now);
}

namespace {

bool limits(const TokenBucket* bucket) {
  return bucket != nullptr && !bucket->unlimited();
}

}  // namespace

bool TransferLimits::unlimited() const {
  return !limits(session) && !limits(torrent);
}

std::int64_t TransferLimits::grant(std::int64_t wanted, TimePoint now) {
  if (wanted <= 0) return 0;
  std::int64_t granted = wanted;
  if (limits(session)) granted = std::min(granted, session->available(now));
  if (limits(torrent)) granted = std::min(granted, torrent->available(now));
  if (granted <= 0) return 0;
  if (limits(session)) session->consume(granted, now);
  if (limits(torrent)) torrent->consume(granted, now);
  return granted;
}

Duration TransferLimits::time_until(std::int64_t bytes, TimePoint now) const {
  Duration wait = Duration::zero();
  if (limits(session)) wait = std::max(wait, session->time_until(bytes, now));
  if (limits(torrent)) wait = std::max(wait, torrent->time_until(bytes, now));
  return wait;
}

RateLimiter::RateLimiter(std::int64_t global_rate, TimePoint now, const BucketSettings& settings)
    : global_(global_rate, now, settings) {}

std::int64_t RateLimiter::grant(TokenBucket& torrent, std::int64_t wanted, TimePoint now) {
  return TransferLimits{&global_, &torrent}.grant(wanted, now);
}

Duration RateLimiter::time_until(const TokenBucket& torrent, std::int64_t bytes,
                                 TimePoint now) const {
  return std::max(global_.time_until(bytes, now), torrent.time_until(bytes, now));
}

TimePoint wake_time(TimePoint ready, Duration tick) {
  if (tick <= Duration::zero()) return ready;
  const Duration since_epoch = ready.time_since_epoch();
  const auto ticks = (since_epoch + tick - Duration(1)) / tick;
  return TimePoint(ticks * tick);
}

}  // namespace starling::policy
