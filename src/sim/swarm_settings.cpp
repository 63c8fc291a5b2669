#include "sim/swarm_settings.hpp"

#include <algorithm>
#include <cmath>

namespace starling::sim {

double min_distribution_time(const SwarmSettings& settings) {
  const auto file = static_cast<double>(settings.file_size());
  const double seed_up = settings.seed_up * settings.seeds;
  const auto free_riders = static_cast<int>(std::lround(settings.free_riders * settings.leechers));
  const double leecher_up = settings.up * (settings.leechers - free_riders);
  return std::max(
      {file / seed_up, file / settings.down, settings.leechers * file / (seed_up + leecher_up)});
}

}  // namespace starling::sim
