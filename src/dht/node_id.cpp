#include "dht/node_id.hpp"

#include <bit>

namespace starling::dht {

int common_prefix_bits(const NodeId& a, const NodeId& b) {
  for (std::size_t i = 0; i < a.bytes.size(); ++i) {
    const auto x = static_cast<std::uint8_t>(a.bytes[i] ^ b.bytes[i]);
    if (x != 0) return static_cast<int>(i * 8) + std::countl_zero(x);
  }
  return kIdBits;
}

NodeId distance(const NodeId& a, const NodeId& b) {
  NodeId d;
  for (std::size_t i = 0; i < d.bytes.size(); ++i) {
    d.bytes[i] = static_cast<std::uint8_t>(a.bytes[i] ^ b.bytes[i]);
  }
  return d;
}

bool closer(const NodeId& target, const NodeId& a, const NodeId& b) {
  for (std::size_t i = 0; i < target.bytes.size(); ++i) {
    const auto da = static_cast<std::uint8_t>(a.bytes[i] ^ target.bytes[i]);
    const auto db = static_cast<std::uint8_t>(b.bytes[i] ^ target.bytes[i]);
    if (da != db) return da < db;
  }
  return false;
}

NodeId random_node_id(std::mt19937_64& rng) {
  NodeId id;
  for (auto& byte : id.bytes) byte = static_cast<std::uint8_t>(rng());
  return id;
}

NodeId random_id_with_prefix(const NodeId& own, int prefix_bits, std::mt19937_64& rng) {
  NodeId id = random_node_id(rng);
  for (int bit = 0; bit <= prefix_bits && bit < kIdBits; ++bit) {
    const auto byte = static_cast<std::size_t>(bit / 8);
    const auto mask = static_cast<std::uint8_t>(0x80U >> (bit % 8));
    // Copy the shared prefix, then flip the first bit after it.
    const bool own_bit = (own.bytes[byte] & mask) != 0;
    const bool want = bit < prefix_bits ? own_bit : !own_bit;
    id.bytes[byte] =
        static_cast<std::uint8_t>(want ? (id.bytes[byte] | mask) : (id.bytes[byte] & ~mask));
  }
  return id;
}

}  // namespace starling::dht
