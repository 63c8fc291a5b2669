// A pool for the simulator: run(job) calls job(part, parts) for part = 0 .. parts-1, part 0 on
// the calling thread and the others on threads kept for the pool's lifetime, and returns when
// every part is done. The simulator gives each part a fixed share of the peers, so the result
// does not depend on the number of threads (see Swarm::have_tick).
//
// A run is a barrier, not a lock handshake: the caller publishes the job by bumping a
// generation counter, the threads poll it for a few µs after each run before they sleep on it
// (a futex wait), and each counts itself done on an atomic the caller waits on the same way.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
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

  const Job* job_ = nullptr;                              // written before generation_ is bumped
  alignas(64) std::atomic<std::uint32_t> generation_{0};  // one per run(); wraps harmlessly
  alignas(64) std::atomic<std::int32_t> running_{0};      // extra threads still busy with this run
  std::atomic<bool> stopping_{false};
  std::vector<std::thread> threads_;
};

}  // namespace starling::sim
