// Per web seed decisions, sans-IO (time is a parameter): how many bytes to keep requested from
// the server, whether it has stalled, and what to do after a failure.
//
// Pipelining (the seed's "no server idles between pieces"): the next request must already be at
// the server when it finishes the current one, so we keep at least the bandwidth-delay product
// requested plus a margin: max(2 requests, rate x (RTT + lookahead)). The rate is measured over
// windows while requests are outstanding; the RTT is sampled from the connection set-up and from
// requests sent to an idle server (time to the first byte). With pipelining off: one request at
// a time, so the server idles for a round trip between requests.
//
// Failures (connect error, HTTP error, malformed reply, stall) back the server off exponentially;
// after `max_failures` in a row, or one permanent failure (404, 410, 403), it is dropped.
#pragma once

#include <chrono>
#include <cstdint>

namespace starling::webseed {

using TimePoint = std::chrono::steady_clock::time_point;
using Duration = std::chrono::steady_clock::duration;

struct WebSeedSettings {
  // Keep several range requests outstanding per server (HTTP/1.1 pipelining); off = one at a time.
  bool pipelining = true;
  // The largest range asked for in one request. Small enough that the two requests pipelining
  // keeps at a slow server are little work to redo in end game (the 4-mirror benchmark: 1.02x of
  // the optimum, 1.08x with 1 MiB requests), large enough that per-request overhead is nothing.
  std::int64_t max_request_bytes = 256 << 10;
  // Transfer time requested beyond one round trip.
  std::chrono::milliseconds lookahead{200};
  // Never more than this requested from one server.
  std::int64_t max_outstanding_bytes = 16 << 20;
  // Outstanding requests and no byte for this long: the server has stalled.
  std::chrono::milliseconds stall_timeout{8000};
  std::chrono::milliseconds connect_timeout{10000};
  // Back-off after a failure: first_backoff, doubled after each further failure, up to max.
  std::chrono::milliseconds first_backoff{1000};
  std::chrono::milliseconds max_backoff{60000};
  int max_failures = 3;
  int max_redirects = 5;
  // Rate measurement window.
  std::chrono::milliseconds rate_window{500};
};

class ServerPolicy {
 public:
  // `request_bytes`: the size of one request (a piece, or max_request_bytes when pieces are
  // larger): pipelining keeps at least two of them outstanding.
  ServerPolicy(TimePoint now, std::int64_t request_bytes, const WebSeedSettings& settings = {});

  // --- events
  void on_connected(Duration setup_time, TimePoint now);
  // A request of `bytes` went out (or was queued to go out).
  void on_request_sent(std::int64_t bytes, TimePoint now);
  // The first byte of a reply to a request sent at `sent`, which found the server idle.
  void on_first_byte_after_idle(TimePoint sent, TimePoint now);
  void on_body_bytes(std::int64_t bytes, TimePoint now);
  void on_all_dropped();  // the connection went: nothing outstanding
  void on_request_ok() { consecutive_failures_ = 0; }

  enum class Verdict { retry, drop };
  // `permanent`: the server says the data is not there (404): drop now.
  Verdict on_failure(TimePoint now, bool permanent);
  TimePoint retry_at() const { return retry_at_; }

  // --- decisions
  std::int64_t desired_outstanding_bytes() const;
  std::int64_t outstanding_bytes() const { return outstanding_; }
  // Bytes to request now (may be <= 0).
  std::int64_t bytes_to_request() const { return desired_outstanding_bytes() - outstanding_; }
  bool stalled(TimePoint now) const;

  double rate() const { return rate_; }  // bytes per second
  Duration rtt() const { return rtt_; }
  int failures() const { return failures_; }
  int consecutive_failures() const { return consecutive_failures_; }

 private:
  void sample_rtt(Duration sample);
  void roll_window(TimePoint now);

  WebSeedSettings settings_;
  std::int64_t request_bytes_;
  std::int64_t outstanding_ = 0;
  TimePoint last_progress_;
  TimePoint window_start_;
  std::int64_t window_bytes_ = 0;
  double rate_ = 0;
  Duration rtt_{};
  bool have_rtt_ = false;
  int failures_ = 0;
  int consecutive_failures_ = 0;
  TimePoint retry_at_{};
};

}  // namespace starling::webseed
