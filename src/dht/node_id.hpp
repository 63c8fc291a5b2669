// DHT node ids (BEP 5): 160-bit numbers in the same space as info-hashes, compared by XOR
// distance. Randomness comes from the caller's generator, so simulations are reproducible.
#pragma once

#include <cstdint>
#include <random>

#include "core/digest.hpp"

namespace starling::dht {

using NodeId = Sha1Digest;
inline constexpr int kIdBits = 160;

// Leading bits `a` and `b` share: 160 when equal.
int common_prefix_bits(const NodeId& a, const NodeId& b);
// a XOR b.
NodeId distance(const NodeId& a, const NodeId& b);
// True when `a` is strictly closer to `target` than `b` (XOR metric).
bool closer(const NodeId& target, const NodeId& a, const NodeId& b);

NodeId random_node_id(std::mt19937_64& rng);
// A random id sharing exactly `prefix_bits` leading bits with `own` (0 <= prefix_bits < 160):
// a target that falls into that bucket of `own`'s routing table.
NodeId random_id_with_prefix(const NodeId& own, int prefix_bits, std::mt19937_64& rng);

}  // namespace starling::dht
