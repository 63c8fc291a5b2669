// Index types that cannot be mixed up: a PieceIndex is not a FileIndex, though both are integers.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>

namespace starling {

template <class Tag, class Rep = std::int32_t>
class StrongIndex {
 public:
  using rep = Rep;
  constexpr StrongIndex() = default;
  constexpr explicit StrongIndex(Rep v) : value_(v) {}
  constexpr Rep value() const { return value_; }

  constexpr StrongIndex& operator++() {
    ++value_;
    return *this;
  }
  constexpr StrongIndex operator+(Rep n) const { return StrongIndex(value_ + n); }
  friend constexpr auto operator<=>(StrongIndex,
                                    StrongIndex) = default;  // NOLINT(modernize-use-nullptr)

 private:
  Rep value_ = 0;
};

using PieceIndex = StrongIndex<struct PieceIndexTag>;
using FileIndex = StrongIndex<struct FileIndexTag>;
using BlockIndex = StrongIndex<struct BlockIndexTag>;

}  // namespace starling

template <class Tag, class Rep>
struct std::hash<starling::StrongIndex<Tag, Rep>> {
  std::size_t operator()(starling::StrongIndex<Tag, Rep> i) const noexcept {
    return std::hash<Rep>{}(i.value());
  }
};
