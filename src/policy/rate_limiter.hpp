// Upload and download rate limits as token buckets, sans-IO: time is a parameter.
//
// A bucket fills at `rate` bytes per second up to `burst` bytes; sending (or reading) n bytes
// takes n tokens. The burst bounds how far a transfer that was idle can run ahead of the rate,
// so the long-run total stays at rate x time. A session has one RateLimiter per direction
// (global --max-up / --max-down) and one TokenBucket per torrent and direction; a transfer takes
// from both.
#pragma once

#include <chrono>
#include <cstdint>

namespace starling::policy {

using TimePoint = std::chrono::steady_clock::time_point;
using Duration = std::chrono::steady_clock::duration;

struct BucketSettings {
  // The burst is this much time at the rate: small enough that the limit holds over any
  // second, large enough that a sender woken by a timer does not have to wake again per block.
  std::chrono::milliseconds burst_time{100};
  // But never less than one whole PIECE message (16 KiB block + 13 bytes of header), so a block
  // can always go out in one piece even at a very low rate.
  std::int64_t min_burst = 16 * 1024 + 13;
  // A new bucket holds its whole burst (true) or just min_burst (false: a fresh transfer starts
  // at the rate, so its total over a few seconds stays within the limit even with a long burst).
  bool start_full = true;
};

class TokenBucket {
 public:
  // `rate` in bytes per second; 0 = unlimited. The bucket starts full.
  explicit TokenBucket(std::int64_t rate = 0, TimePoint now = {},
                       const BucketSettings& settings = {});

  // Takes up to `wanted` bytes: returns how many may go now (all, some or none).
  std::int64_t grant(std::int64_t wanted, TimePoint now);
  // How long until `bytes` are available (zero if they are now). More than the burst never
  // accumulates: for such a request this is the time until the bucket is full.
  Duration time_until(std::int64_t bytes, TimePoint now) const;
  // Bytes that could be granted now (the burst if unlimited).
  std::int64_t available(TimePoint now) const;
  // Takes `bytes` unconditionally (may go into debt, paid back before the next grant).
  void consume(std::int64_t bytes, TimePoint now);

  // Takes effect from `now`: tokens earned so far were earned at the old rate.
  void set_rate(std::int64_t rate, TimePoint now);
  std::int64_t rate() const { return rate_; }
  bool unlimited() const { return rate_ <= 0; }
  std::int64_t burst() const { return burst_; }

 private:
  void refill(TimePoint now);
  double tokens_at(TimePoint now) const;

  BucketSettings settings_;
  std::int64_t rate_;
  std::int64_t burst_;
  double tokens_;
  TimePoint updated_;
};

// When a transfer waiting for tokens that are due at `ready` should wake: `ready` rounded up
// to the next multiple of `tick` on the clock. Every transfer of a process waiting for tokens
// then wakes in the same timer batch instead of one wake-up each (many small wake-ups were a
// large share of a rate-limited swarm's CPU). Tokens keep accruing meanwhile, so the rate is
// unchanged as long as `tick` is shorter than the bucket's burst time.
TimePoint wake_time(TimePoint ready, Duration tick);
constexpr Duration kDefaultWakeTick = std::chrono::milliseconds(20);

// The buckets one transfer in one direction takes from: its torrent's and, unless that torrent
// ignores the session's limits, the session's. A null or unlimited bucket does not limit. A grant
// is the smaller of what each bucket has, taken from both; the wait is the longer of the two.
struct TransferLimits {
  TokenBucket* session = nullptr;
  TokenBucket* torrent = nullptr;

  bool unlimited() const;
  std::int64_t grant(std::int64_t wanted, TimePoint now);
  Duration time_until(std::int64_t bytes, TimePoint now) const;
};

// One direction of a session: the global bucket, combined with the bucket of the torrent a
// transfer belongs to. A transfer gets the smaller of the two grants and takes it from both.
class RateLimiter {
 public:
  explicit RateLimiter(std::int64_t global_rate = 0, TimePoint now = {},
                       const BucketSettings& settings = {});

  std::int64_t grant(TokenBucket& torrent, std::int64_t wanted, TimePoint now);
  // When `bytes` will pass both buckets.
  Duration time_until(const TokenBucket& torrent, std::int64_t bytes, TimePoint now) const;

  void set_global_rate(std::int64_t rate, TimePoint now) { global_.set_rate(rate, now); }
  const TokenBucket& global() const { return global_; }

 private:
  TokenBucket global_;
};

}  // namespace starling::policy
