// uTP sequence and acknowledgement numbers are 16 bits and wrap (65535 + 1 == 0). Ordering is
// therefore only meaningful within half the number space: `a` is before `b` when the forward
// distance from a to b is below 2^15. Connections keep far fewer packets than that in flight, so
// every comparison they make is between numbers less than half the space apart.
#pragma once

#include <cstdint>

namespace starling::utp {

// Steps forward from `from` to `to` (mod 2^16): seq_distance(65535, 1) == 2.
constexpr std::uint16_t seq_distance(std::uint16_t from, std::uint16_t to) {
  return static_cast<std::uint16_t>(to - from);
}

// `a` strictly before `b` on the wrapping circle.
constexpr bool seq_less(std::uint16_t a, std::uint16_t b) {
  const std::uint16_t d = seq_distance(a, b);
  return d != 0 && d < 0x8000;
}

constexpr bool seq_less_equal(std::uint16_t a, std::uint16_t b) {
  return a == b || seq_less(a, b);
}

constexpr std::uint16_t seq_add(std::uint16_t seq, int delta) {
  return static_cast<std::uint16_t>(seq + delta);
}

}  // namespace starling::utp
