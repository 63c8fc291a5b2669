// The numbers a deploy reports: completion-time percentiles and T_min, the fluid lower bound on
// the time to give N hosts a file of F bytes from one origin (each byte leaves the origin at
// least once; each host receives F; all N·F bytes are uploaded by the origin and the hosts):
//   T_min = max(F / u_origin, F / min_i d_i, N·F / (u_origin + Σ u_i)).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace starling::deploy {

// The p-th percentile (0..100) by linear interpolation between the closest ranks (so p50 of an
// even count is the mean of the middle two). 0 for an empty input.
double percentile(std::vector<double> values, double p);

struct Capacities {
  double origin_up = 0;      // bytes/s; 0 = unknown (the term is left out)
  std::vector<double> down;  // per host, bytes/s; 0 = unknown
  std::vector<double> up;    // per host, bytes/s
};

// Seconds; 0 when no term is known.
double t_min(double file_bytes, const Capacities& caps);

// A link rate in bytes per second: "100mbit", "1gbit", "500kbit" (decimal bits, as `tc` writes
// them) or a size per second as elsewhere in the CLI ("12m" = 12 MiB/s, "500k", "1048576").
std::optional<double> parse_link_rate(std::string_view text);

}  // namespace starling::deploy
