#include "core/bitfield.hpp"

#include <algorithm>
#include <bit>

namespace starling {
namespace {
// Bytes needed for `bits` bits; (bits + 7) / 8 would wrap to 0 for sizes near SIZE_MAX.
std::size_t byte_count(std::size_t bits) {
  return bits / 8 + (bits % 8 != 0 ? 1 : 0);
}
}  // namespace

Bitfield::Bitfield(std::size_t size, bool value)
    : bytes_(byte_count(size), value ? 0xff : 0x00), size_(size) {
  clear_spare_bits();
}

std::optional<Bitfield> Bitfield::from_bytes(std::string_view bytes, std::size_t size) {
  if (bytes.size() != byte_count(size)) return std::nullopt;
  Bitfield b;
  b.size_ = size;
  b.bytes_.assign(bytes.begin(), bytes.end());
  Bitfield trimmed = b;
  trimmed.clear_spare_bits();
  if (trimmed.bytes_ != b.bytes_) return std::nullopt;
  return b;
}

void Bitfield::set(std::size_t i, bool value) {
  std::uint8_t mask = static_cast<std::uint8_t>(0x80u >> (i & 7));
  if (value) {
    bytes_[i >> 3] |= mask;
  } else {
    bytes_[i >> 3] &= static_cast<std::uint8_t>(~mask);
  }
}

void Bitfield::set_all(bool value) {
  std::fill(bytes_.begin(), bytes_.end(), value ? 0xff : 0x00);
  clear_spare_bits();
}

std::size_t Bitfield::count() const {
  std::size_t n = 0;
  for (auto b : bytes_) n += static_cast<std::size_t>(std::popcount(b));
  return n;
}

bool Bitfield::none() const {
  return std::all_of(bytes_.begin(), bytes_.end(), [](std::uint8_t b) { return b == 0; });
}

void Bitfield::clear_spare_bits() {
  std::size_t spare = bytes_.size() * 8 - size_;
  if (spare > 0) bytes_.back() &= static_cast<std::uint8_t>(0xffu << spare);
}

}  // namespace starling
