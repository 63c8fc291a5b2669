// A fixed-size set of bits in BitTorrent's wire order: bit 0 is the high bit of byte 0.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace starling {

class Bitfield {
 public:
  Bitfield() = default;
  explicit Bitfield(std::size_t size, bool value = false);

  // From wire bytes; nullopt when the byte count is wrong or a spare bit past `size` is set.
  static std::optional<Bitfield> from_bytes(std::string_view bytes, std::size_t size);

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  bool get(std::size_t i) const { return (bytes_[i >> 3] >> (7 - (i & 7))) & 1; }
  bool operator[](std::size_t i) const { return get(i); }
  void set(std::size_t i, bool value = true);
  void clear(std::size_t i) { set(i, false); }
  void set_all(bool value = true);

  std::size_t count() const;
  bool all() const { return count() == size_; }
  bool none() const;

  std::string_view bytes() const {
    return {reinterpret_cast<const char*>(bytes_.data()), bytes_.size()};
  }

  friend bool operator==(const Bitfield&, const Bitfield&) = default;

 private:
  void clear_spare_bits();

  std::vector<std::uint8_t> bytes_;
  std::size_t size_ = 0;
};

}  // namespace starling
