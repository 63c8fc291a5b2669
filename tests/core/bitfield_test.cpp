#include "core/bitfield.hpp"

#include <gtest/gtest.h>

namespace starling {
namespace {

TEST(Bitfield, WireOrderIsHighBitFirst) {
  Bitfield b(10);
  b.set(0);
  b.set(9);
  EXPECT_EQ(b.bytes(), std::string_view("\x80\x40", 2));
  EXPECT_EQ(b.count(), 2u);
}

}  // namespace
}  // namespace starling
