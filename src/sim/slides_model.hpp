// The seed slides' deterministic model of a swarm: a file of one piece, one seed, and peers that
// each upload to one peer at a time, all at the same upload rate. Whoever has the file serves a
// peer that lacks it; when that transfer ends both serve. The number of holders doubles every
// T = F / u, so with n peers in all (the seed included) the last one completes at
// T * ceil(log2 n) — exactly T * log2 n when n is a power of two — against (n - 1) * T for a
// client-server distribution.
//
// It runs on the simulator's own Engine and Network (a transfer is a flow over the max-min fair
// network), not on the policy classes: the model has no pieces to pick and no choking.
#pragma once

#include <cstdint>
#include <vector>

namespace starling::sim {

struct SlidesSettings {
  int leechers = 7;
  double file_bytes = 1024.0 * 1024;
  double up = 1024.0 * 1024;  // every peer's and the seed's upload rate, bytes/s
};

struct SlidesResult {
  std::vector<double> completion_s;  // per leecher, in leecher order
  double round_s = 0;                // T = F / u
  double predicted_last_s = 0;       // T * ceil(log2(leechers + 1))
};

SlidesResult run_slides_model(const SlidesSettings& settings);

}  // namespace starling::sim
