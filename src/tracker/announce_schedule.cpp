#include "tracker/announce_schedule.hpp"

#include <algorithm>
#include <set>

namespace starling::tracker {

AnnounceSchedule::AnnounceSchedule(std::vector<std::vector<std::string>> tiers,
                                   ScheduleSettings settings)
    : settings_(settings) {
  std::set<std::string, std::less<>> seen;
  for (auto& tier : tiers) {
    std::vector<std::string> kept;
    for (auto& url : tier) {
      if (!url.empty() && seen.insert(url).second) kept.push_back(std::move(url));
    }
    if (!kept.empty()) tiers_.push_back(std::move(kept));
  }
}

void AnnounceSchedule::end_round() {
  tier_ = 0;
  index_ = 0;
}

void AnnounceSchedule::on_success(Clock::time_point now,
                                  std::optional<std::chrono::seconds> interval,
                                  std::optional<std::chrono::seconds> min_interval) {
  auto& tier = tiers_[tier_];
  std::rotate(tier.begin(), tier.begin() + static_cast<std::ptrdiff_t>(index_),
              tier.begin() + static_cast<std::ptrdiff_t>(index_) + 1);
  end_round();
  failed_rounds_ = 0;
  std::chrono::seconds wait = interval.value_or(settings_.default_interval);
  if (min_interval) wait = std::max(wait, *min_interval);
  next_round_ = now + std::max(wait, settings_.min_interval);
}

bool AnnounceSchedule::on_failure(Clock::time_point now) {
  if (++index_ < tiers_[tier_].size()) return true;
  index_ = 0;
  if (++tier_ < tiers_.size()) return true;
  end_round();
  ++failed_rounds_;
  auto wait = settings_.retry_initial;
  for (int i = 1; i < failed_rounds_ && wait < settings_.retry_max; ++i) wait *= 2;
  next_round_ = now + std::min(wait, settings_.retry_max);
  return false;
}

}  // namespace starling::tracker
