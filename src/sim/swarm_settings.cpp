#include "sim/swarm_settings.hpp"

#include <algorithm>
#include <cmath>

namespace starling::sim {

double min_distribution_time(double file_bytes, double seeds_up, double leechers_up_sum,
                             double min_down, int leechers) {
  return std::max({file_bytes / seeds_up, file_bytes / min_down,
                   leechers * file_bytes / (seeds_up + leechers_up_sum)});
}

double min_distribution_time(const SwarmSettings& settings) {
  const auto file = static_cast<double>(settings.file_size());
  const double seed_up = settings.seed_up * settings.seeds;
  const auto free_riders = static_cast<int>(std::lround(settings.free_riders * settings.leechers));
  const double leecher_up = settings.up * (settings.leechers - free_riders);
  return min_distribution_time(file, seed_up, leecher_up, settings.down, settings.leechers);
}

std::vector<int> class_counts(const std::vector<CapacityClass>& classes, int leechers) {
  std::vector<int> counts(classes.size(), 0);
  double total = 0;
  for (const CapacityClass& c : classes) total += std::max(c.fraction, 0.0);
  if (classes.empty() || total <= 0) return counts;
  int given = 0;
  for (std::size_t i = 0; i + 1 < classes.size(); ++i) {
    const double share = std::max(classes[i].fraction, 0.0) / total;
    counts[i] = std::min(static_cast<int>(std::lround(share * leechers)), leechers - given);
    given += counts[i];
  }
  counts.back() = leechers - given;
  return counts;
}

}  // namespace starling::sim
