#include "policy/request_pipeline.hpp"

#include <algorithm>
#include <cmath>

#include "core/piece_geometry.hpp"

namespace starling::policy {

RequestPipeline::RequestPipeline(TimePoint now, const PipelineSettings& settings)
    : settings_(settings),
      slow_start_depth_(std::max(settings.initial_outstanding, 1)),
      last_progress_(now),
      window_start_(now) {}

int RequestPipeline::ceiling() const {
  const int reqq = peer_reqq_ > 0 ? peer_reqq_ : settings_.default_reqq;
  return std::max(1, std::min(reqq, settings_.max_outstanding));
}

int RequestPipeline::desired_outstanding() const {
  if (snubbed_) return 1;
  const int high = ceiling();
  const int low = std::clamp(settings_.min_outstanding, 1, high);
  if (slow_start_) return std::clamp(slow_start_depth_, low, high);
  const double queue_seconds = std::chrono::duration<double>(settings_.target_queue_time).count();
  const double blocks = std::ceil(rate_ * queue_seconds / kBlockSize);
  // Compare as doubles: a huge rate must not overflow the int.
  if (blocks >= high) return high;
  return std::max(low, static_cast<int>(blocks));
}

int RequestPipeline::requests_to_send() const {
  return std::max(0, desired_outstanding() - outstanding_);
}

void RequestPipeline::on_requests_sent(int count, TimePoint now) {
  update(now);
  if (count <= 0) return;
  if (outstanding_ == 0) last_progress_ = now;  // the snub clock starts when we start waiting
  outstanding_ += count;
  window_waited_ = true;
}

void RequestPipeline::on_block_received(std::int64_t bytes, TimePoint now, Duration waited) {
  update(now);
  window_bytes_ += bytes;
  outstanding_ = std::max(0, outstanding_ - 1);
  last_progress_ = now;
  if (snubbed_) {
    // Back from the dead: measure it again from scratch.
    snubbed_ = false;
    slow_start_ = true;
    slow_start_depth_ = std::max(settings_.initial_outstanding, 1);
    best_sample_ = 0;
  } else if (slow_start_ && waited > Duration(settings_.target_queue_time)) {
    slow_start_ = false;
    // No full window measured yet: the rate so far stands in for it.
    if (rate_ == 0) {
      const double seconds = std::chrono::duration<double>(now - window_start_).count();
      if (seconds > 0) rate_ = static_cast<double>(window_bytes_) / seconds;
    }
  } else if (slow_start_) {
    slow_start_depth_ = std::min(slow_start_depth_ + 1, ceiling());
  }
}

void RequestPipeline::on_requests_dropped(int count, TimePoint now) {
  update(now);
  outstanding_ = std::max(0, outstanding_ - std::max(count, 0));
}

void RequestPipeline::update(TimePoint now) {
  if (now - window_start_ >= settings_.rate_window) close_window(now);
  if (!snubbed_ && outstanding_ > 0 && now - last_progress_ >= settings_.snub_timeout) {
    snubbed_ = true;
    slow_start_ = false;
  }
}

void RequestPipeline::close_window(TimePoint now) {
  const double seconds = std::chrono::duration<double>(now - window_start_).count();
  // A window in which we asked for nothing says nothing about the peer: keep the old rate.
  if (seconds > 0 && (window_bytes_ > 0 || window_waited_)) {
    const double sample = static_cast<double>(window_bytes_) / seconds;
    rate_ = sample;
    if (slow_start_) {
      if (best_sample_ > 0 && sample < best_sample_ * settings_.slow_start_min_gain) {
        slow_start_ = false;  // more requests no longer bring more data
      }
      best_sample_ = std::max(best_sample_, sample);
    }
  }
  window_start_ = now;
  window_bytes_ = 0;
  window_waited_ = outstanding_ > 0;
}

TimePoint RequestPipeline::next_deadline() const {
  TimePoint deadline = window_start_ + settings_.rate_window;
  if (!snubbed_ && outstanding_ > 0) {
    deadline = std::min(deadline, last_progress_ + Duration(settings_.snub_timeout));
  }
  return deadline;
}

}  // namespace starling::policy
