// A fork-join pool for the simulator: run(job) calls job(part, parts) for part = 0 .. parts-1,
// part 0 on the calling thread and the others on threads kept for the pool's lifetime, and
// returns when every part is done. The simulator gives each part a fixed share of the peers, so
// the result does not depend on the number of threads (see Swarm::have_tick).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace starling::sim {

class Workers {
 public:
  using Job = std::function<void(int part, int parts)>;

  explicit Workers(int threads);  // threads < 1 counts as 1 (no extra thread)
  ~Workers();
  Workers(const Workers&) = delete;
  Workers& operator=(const Workers&) = delete;

  int parts() const { return static_cast<int>(threads_.size()) + 1; }
  void run(const Job& job);

 private:
  void loop(int part);

  std::mutex mutex_;
  std::condition_variable start_;
  std::condition_variable done_;
  const Job* job_ = nullptr;
  std::uint64_t generation_ = 0;  // one per run()
  int running_ = 0;               // extra threads still busy with this generation
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace starling::sim
