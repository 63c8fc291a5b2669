#include "deploy/summary.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <string>

namespace starling::deploy {

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  p = std::clamp(p, 0.0, 100.0);
  const double rank = p / 100.0 * static_cast<double>(values.size() - 1);
  const auto low = static_cast<std::size_t>(std::floor(rank));
  const std::size_t high = std::min(low + 1, values.size() - 1);
  const double frac = rank - static_cast<double>(low);
  return values[low] + (values[high] - values[low]) * frac;
}

double t_min(double file_bytes, const Capacities& caps) {
  double bound = 0;
  if (caps.origin_up > 0) bound = std::max(bound, file_bytes / caps.origin_up);
  double slowest = 0;
  for (const double d : caps.down) {
    if (d > 0) slowest = slowest == 0 ? d : std::min(slowest, d);
  }
  if (slowest > 0) bound = std::max(bound, file_bytes / slowest);
  const auto hosts = static_cast<double>(std::max(caps.down.size(), caps.up.size()));
  double upload = caps.origin_up;
  for (const double u : caps.up) upload += std::max(0.0, u);
  if (upload > 0 && hosts > 0) bound = std::max(bound, hosts * file_bytes / upload);
  return bound;
}

std::optional<double> parse_link_rate(std::string_view text) {
  const std::string owned(text);
  char* end = nullptr;
  const double value = std::strtod(owned.c_str(), &end);
  if (end == owned.c_str() || !std::isfinite(value) || value < 0) return std::nullopt;
  std::string suffix(end);
  for (auto& c : suffix) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (suffix == "bit") return value / 8;
  if (suffix == "kbit") return value * 1e3 / 8;
  if (suffix == "mbit") return value * 1e6 / 8;
  if (suffix == "gbit") return value * 1e9 / 8;
  if (suffix.empty() || suffix == "b") return value;
  if (suffix == "k" || suffix == "kb" || suffix == "kib") return value * 1024;
  if (suffix == "m" || suffix == "mb" || suffix == "mib") return value * 1024 * 1024;
  if (suffix == "g" || suffix == "gb" || suffix == "gib") return value * 1024 * 1024 * 1024;
  return std::nullopt;
}

}  // namespace starling::deploy
