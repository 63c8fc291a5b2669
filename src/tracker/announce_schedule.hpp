// Which tracker to announce to, and when: BEP 12 tiers with back-off, sans-IO (time is passed in).
//
// A round tries the trackers in order, tier by tier, and stops at the first that answers; that
// tracker moves to the front of its tier, and the next round starts `interval` later (what the
// tracker asked, at least `min_interval`). When every tracker failed, the next round waits
// retry_initial, doubling with each failed round up to retry_max.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace starling::tracker {

struct ScheduleSettings {
  std::chrono::seconds default_interval{1800};  // when a reply names none
  std::chrono::seconds min_interval{10};        // floor on what a tracker may ask for
  std::chrono::seconds retry_initial{15};
  std::chrono::seconds retry_max{1800};
};

class AnnounceSchedule {
 public:
  using Clock = std::chrono::steady_clock;

  // Tiers in order (shuffle each tier first, as BEP 12 says, if wanted). Empty tiers and URLs
  // seen before are dropped.
  explicit AnnounceSchedule(std::vector<std::vector<std::string>> tiers,
                            ScheduleSettings settings = {});

  bool empty() const { return tiers_.empty(); }
  const std::vector<std::vector<std::string>>& tiers() const { return tiers_; }
  // The tracker to try now (the round's next one). Only when !empty().
  const std::string& current() const { return tiers_[tier_][index_]; }

  // current() answered: promote it, end the round.
  void on_success(Clock::time_point now, std::optional<std::chrono::seconds> interval,
                  std::optional<std::chrono::seconds> min_interval = std::nullopt);
  // current() failed. True when another tracker is left to try in this round; false when the
  // round is over (every tracker failed) and the next one is scheduled after a back-off.
  bool on_failure(Clock::time_point now);

  Clock::time_point next_round() const { return next_round_; }
  int failed_rounds() const { return failed_rounds_; }

 private:
  void end_round();

  std::vector<std::vector<std::string>> tiers_;
  ScheduleSettings settings_;
  std::size_t tier_ = 0;
  std::size_t index_ = 0;
  Clock::time_point next_round_{};
  int failed_rounds_ = 0;
};

}  // namespace starling::tracker
