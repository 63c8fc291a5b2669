#include "sim/workers.hpp"

namespace starling::sim {

namespace {

// How long a thread polls before it sleeps: a few µs of pause instructions. Longer polls cost
// more than they save on a shared machine, where the other thread often waits for a core
// (2,000 pauses, ~40 µs: n = 2,000 on two threads took 30.6 s user against 26.9 s on one, at
// load 3 on 2 cores).
constexpr int kSpins = 200;

inline void relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Waits until `value` is no longer `old`: polls, then sleeps on it.
template <typename T>
T wait_for_change(const std::atomic<T>& value, T old) {
  for (int i = 0; i < kSpins; ++i) {
    const T now = value.load(std::memory_order_acquire);
    if (now != old) return now;
    relax();
  }
  for (;;) {
    value.wait(old, std::memory_order_acquire);
    const T now = value.load(std::memory_order_acquire);
    if (now != old) return now;
  }
}

}  // namespace

Workers::Workers(int threads) {
  for (int part = 1; part < threads; ++part) threads_.emplace_back([this, part] { loop(part); });
}

Workers::~Workers() {
  stopping_.store(true, std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_release);
  generation_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void Workers::run(const Job& job) {
  if (threads_.empty()) {
    job(0, 1);
    return;
  }
  job_ = &job;
  running_.store(static_cast<std::int32_t>(threads_.size()), std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_release);  // publishes job_ and running_
  generation_.notify_all();
  job(0, parts());
  for (std::int32_t left = running_.load(std::memory_order_acquire); left != 0;) {
    left = wait_for_change(running_, left);
  }
  job_ = nullptr;
}

void Workers::loop(int part) {
  std::uint32_t seen = 0;
  for (;;) {
    seen = wait_for_change(generation_, seen);
    if (stopping_.load(std::memory_order_relaxed)) return;
    (*job_)(part, parts());
    if (running_.fetch_sub(1, std::memory_order_acq_rel) == 1) running_.notify_one();
  }
}

}  // namespace starling::sim
