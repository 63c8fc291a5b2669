// How many block requests to keep outstanding at one peer: enough that the peer never waits for
// our next request (the slides' "interblock idle time"), i.e. at least the bandwidth-delay product.
// We do not know the RTT, so, like libtorrent, we size by time instead:
//   depth = measured download rate x target_queue_time / block size
// with a floor of min_outstanding, the peer's `reqq` (BEP 10) as the ceiling, a slow start
// (start at initial_outstanding, one more per received block, until the measured rate stops
// growing or a block waited longer than the target) and depth 1 for a snubbed peer (nothing
// received for snub_timeout while we wait).
//
// Time is a parameter: std::chrono::steady_clock::time_point. A simulator builds its own points
// (TimePoint{} + offset); nothing here reads a clock.
#pragma once

#include <chrono>
#include <cstdint>

namespace starling::policy {

using TimePoint = std::chrono::steady_clock::time_point;
using Duration = std::chrono::steady_clock::duration;

struct PipelineSettings {
  // Keep this much transfer time requested. Generous on purpose: overestimating only costs a
  // few queued REQUEST messages, underestimating leaves the peer idle.
  std::chrono::milliseconds target_queue_time{3000};
  // Floor of the depth (except for a snubbed peer): the next request is already at the peer when
  // it finishes a block, even before we have measured anything.
  int min_outstanding = 2;
  // Slow start begins here and adds one per received block.
  int initial_outstanding = 2;
  // The peer's request queue limit when its extension handshake gives no `reqq` (libtorrent's
  // default, and what most clients accept).
  int default_reqq = 250;
  // Our own ceiling, whatever the peer allows.
  int max_outstanding = 500;
  // A peer that sends nothing for this long while we have requests outstanding is snubbed: depth 1
  // until it sends a block again.
  std::chrono::seconds snub_timeout{60};
  // The download rate is measured over windows of (at least) this length.
  std::chrono::milliseconds rate_window{1000};
  // Slow start ends at the first window whose rate is not this factor above the best so far.
  double slow_start_min_gain = 1.10;
};

class RequestPipeline {
 public:
  explicit RequestPipeline(TimePoint now, const PipelineSettings& settings = {});

  // From the peer's extension handshake; <= 0 means "not given".
  void set_peer_reqq(int reqq) { peer_reqq_ = reqq; }

  void on_requests_sent(int count, TimePoint now);
  // One outstanding request was answered with `bytes` of block data, `waited` after it was
  // sent (zero: not known). A block that waited longer than target_queue_time ends slow start:
  // the queue at the peer is already deeper than wanted, and a growing depth would only make
  // every request wait longer (a rate-limited peer that accepts everything looks like a link
  // whose rate still grows).
  void on_block_received(std::int64_t bytes, TimePoint now, Duration waited = Duration::zero());
  // Outstanding requests that will not be answered: rejected, cancelled, choked, timed out.
  void on_requests_dropped(int count, TimePoint now);
  // Closes a rate window or declares the peer snubbed when due. Every event calls it; call it
  // yourself at next_deadline().
  void update(TimePoint now);
  TimePoint next_deadline() const;

  int desired_outstanding() const;
  int outstanding() const { return outstanding_; }
  int requests_to_send() const;
  int ceiling() const;  // min(peer reqq, max_outstanding)

  bool in_slow_start() const { return slow_start_; }
  bool snubbed() const { return snubbed_; }
  double download_rate() const { return rate_; }  // bytes per second, last full window

 private:
  void close_window(TimePoint now);

  PipelineSettings settings_;
  int peer_reqq_ = 0;
  int outstanding_ = 0;
  int slow_start_depth_;
  bool slow_start_ = true;
  bool snubbed_ = false;
  TimePoint last_progress_;  // last block, or when requests went from none to some
  TimePoint window_start_;
  std::int64_t window_bytes_ = 0;
  bool window_waited_ = false;  // some request was outstanding during this window
  double rate_ = 0;
  double best_sample_ = 0;  // slow start: the best window rate so far
};

}  // namespace starling::policy
