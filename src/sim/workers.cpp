#include "sim/workers.hpp"

namespace starling::sim {

Workers::Workers(int threads) {
  for (int part = 1; part < threads; ++part) threads_.emplace_back([this, part] { loop(part); });
}

Workers::~Workers() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  start_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void Workers::run(const Job& job) {
  if (threads_.empty()) {
    job(0, 1);
    return;
  }
  {
    const std::lock_guard lock(mutex_);
    job_ = &job;
    running_ = static_cast<int>(threads_.size());
    ++generation_;
  }
  start_.notify_all();
  job(0, parts());
  std::unique_lock lock(mutex_);
  done_.wait(lock, [this] { return running_ == 0; });
  job_ = nullptr;
}

void Workers::loop(int part) {
  std::uint64_t seen = 0;
  for (;;) {
    const Job* job = nullptr;
    {
      std::unique_lock lock(mutex_);
      start_.wait(lock, [&] { return stopping_ || generation_ != seen; });
      if (stopping_) return;
      seen = generation_;
      job = job_;
    }
    (*job)(part, parts());
    {
      const std::lock_guard lock(mutex_);
      --running_;
    }
    done_.notify_one();
  }
}

}  // namespace starling::sim
