#include "core/bitfield.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

namespace starling {
namespace {

TEST(Bitfield, WireOrderIsHighBitFirst) {
  Bitfield b(10);
  b.set(0);
  b.set(9);
  EXPECT_EQ(b.bytes(), std::string_view("\x80\x40", 2));
  EXPECT_EQ(b.count(), 2u);
}

TEST(Bitfield, DefaultIsEmpty) {
  Bitfield b;
  EXPECT_EQ(b.size(), 0u);
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.bytes(), "");
  EXPECT_EQ(b.count(), 0u);
  EXPECT_TRUE(b.none());
  EXPECT_TRUE(b.all());  // vacuously
  EXPECT_EQ(b, Bitfield(0));
  EXPECT_EQ(b, Bitfield(0, true));
}

TEST(Bitfield, ConstructedWithValue) {
  for (std::size_t size : {1u, 7u, 8u, 9u, 15u, 16u, 17u, 63u, 64u, 65u, 1000u}) {
    SCOPED_TRACE(size);
    Bitfield zeros(size);
    EXPECT_EQ(zeros.size(), size);
    EXPECT_FALSE(zeros.empty());
    EXPECT_EQ(zeros.bytes().size(), (size + 7) / 8);
    EXPECT_EQ(zeros.count(), 0u);
    EXPECT_TRUE(zeros.none());
    EXPECT_FALSE(zeros.all());

    Bitfield ones(size, true);
    EXPECT_EQ(ones.count(), size);  // spare bits are not counted
    EXPECT_TRUE(ones.all());
    EXPECT_FALSE(ones.none());
    for (std::size_t i = 0; i < size; ++i) ASSERT_TRUE(ones[i]) << i;
  }
}

TEST(Bitfield, SpareBitsOfTheLastByteStayClear) {
  Bitfield ones(10, true);
  EXPECT_EQ(ones.bytes(), std::string_view("\xff\xc0", 2));
  Bitfield three(3, true);
  EXPECT_EQ(three.bytes(), std::string_view("\xe0", 1));
  Bitfield eight(8, true);
  EXPECT_EQ(eight.bytes(), std::string_view("\xff", 1));
  Bitfield one(1, true);
  EXPECT_EQ(one.bytes(), std::string_view("\x80", 1));
}

TEST(Bitfield, SetClearGet) {
  Bitfield b(13);
  b.set(0);
  b.set(7);
  b.set(8);
  b.set(12);
  EXPECT_EQ(b.bytes(), std::string_view("\x81\x88", 2));
  EXPECT_TRUE(b.get(0));
  EXPECT_TRUE(b[7]);
  EXPECT_FALSE(b.get(1));
  EXPECT_FALSE(b[11]);
  EXPECT_EQ(b.count(), 4u);
  b.set(7, false);
  EXPECT_FALSE(b[7]);
  b.clear(12);
  EXPECT_FALSE(b[12]);
  b.set(0);  // setting twice is idempotent
  EXPECT_EQ(b.count(), 2u);
  b.clear(5);  // clearing a clear bit is idempotent
  EXPECT_EQ(b.count(), 2u);
  EXPECT_EQ(b.bytes(), std::string_view("\x80\x80", 2));
}

TEST(Bitfield, SetAllAndNoneWithOddSizes) {
  for (std::size_t size : {1u, 5u, 8u, 12u, 31u, 33u}) {
    SCOPED_TRACE(size);
    Bitfield b(size);
    b.set_all();
    EXPECT_TRUE(b.all());
    EXPECT_EQ(b.count(), size);
    EXPECT_EQ(b, Bitfield(size, true));
    b.clear(size - 1);
    EXPECT_FALSE(b.all());
    EXPECT_EQ(b.none(), size == 1);
    EXPECT_EQ(b.count(), size - 1);
    b.set_all(false);
    EXPECT_TRUE(b.none());
    EXPECT_EQ(b.count(), 0u);
    EXPECT_EQ(b, Bitfield(size));
  }
}

TEST(Bitfield, AllAndNoneForSingleBits) {
  Bitfield b(9);
  b.set(8);
  EXPECT_FALSE(b.none());
  EXPECT_FALSE(b.all());
  for (std::size_t i = 0; i < 8; ++i) b.set(i);
  EXPECT_TRUE(b.all());
}

TEST(Bitfield, FromBytesAcceptsTheRightLength) {
  auto b = Bitfield::from_bytes(std::string_view("\xa5\x80", 2), 9);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->size(), 9u);
  EXPECT_EQ(b->count(), 5u);
  EXPECT_TRUE(b->get(0));
  EXPECT_FALSE(b->get(1));
  EXPECT_TRUE(b->get(2));
  EXPECT_TRUE(b->get(8));
  EXPECT_EQ(b->bytes(), std::string_view("\xa5\x80", 2));

  auto whole = Bitfield::from_bytes("\xff\xff", 16);
  ASSERT_TRUE(whole);
  EXPECT_TRUE(whole->all());

  auto empty = Bitfield::from_bytes("", 0);
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
}

TEST(Bitfield, FromBytesRejectsWrongLength) {
  EXPECT_FALSE(Bitfield::from_bytes("", 1));
  EXPECT_FALSE(Bitfield::from_bytes(std::string_view("\x00", 1), 0));
  EXPECT_FALSE(Bitfield::from_bytes(std::string_view("\x00", 1), 9));
  EXPECT_FALSE(Bitfield::from_bytes(std::string_view("\x00\x00", 2), 8));
  EXPECT_FALSE(Bitfield::from_bytes(std::string_view("\x00\x00\x00", 3), 16));
  EXPECT_TRUE(Bitfield::from_bytes(std::string_view("\x00\x00\x00", 3), 17));
  EXPECT_TRUE(Bitfield::from_bytes(std::string_view("\x00\x00\x00", 3), 24));
  EXPECT_FALSE(Bitfield::from_bytes(std::string_view("\x00\x00\x00", 3), 25));
}

TEST(Bitfield, FromBytesRejectsHugeSizesWithoutWrapping) {
  // (size + 7) / 8 wraps to 0 for the largest sizes; an empty buffer must still be rejected.
  const std::size_t huge = std::numeric_limits<std::size_t>::max();
  EXPECT_FALSE(Bitfield::from_bytes("", huge));
  EXPECT_FALSE(Bitfield::from_bytes("", huge - 3));
  EXPECT_FALSE(Bitfield::from_bytes(std::string_view("\x00", 1), huge - 6));
}

TEST(Bitfield, FromBytesRejectsSpareBits) {
  // 9 bits: the last byte may only use its high bit.
  EXPECT_FALSE(Bitfield::from_bytes(std::string_view("\x00\x40", 2), 9));
  EXPECT_FALSE(Bitfield::from_bytes(std::string_view("\x00\x01", 2), 9));
  EXPECT_FALSE(Bitfield::from_bytes(std::string_view("\xff\xff", 2), 9));
  EXPECT_TRUE(Bitfield::from_bytes(std::string_view("\xff\x80", 2), 9));
  // 3 bits in one byte.
  EXPECT_FALSE(Bitfield::from_bytes(std::string_view("\x10", 1), 3));
  EXPECT_TRUE(Bitfield::from_bytes(std::string_view("\xe0", 1), 3));
  // 15 bits: only the lowest bit of the second byte is spare.
  EXPECT_FALSE(Bitfield::from_bytes(std::string_view("\x00\x01", 2), 15));
  EXPECT_TRUE(Bitfield::from_bytes(std::string_view("\xff\xfe", 2), 15));
}

TEST(Bitfield, RoundTripThroughBytes) {
  Bitfield b(21);
  for (std::size_t i = 0; i < 21; i += 3) b.set(i);
  auto copy = Bitfield::from_bytes(b.bytes(), 21);
  ASSERT_TRUE(copy);
  EXPECT_EQ(*copy, b);
  EXPECT_EQ(copy->count(), 7u);
}

TEST(Bitfield, Equality) {
  Bitfield a(12);
  Bitfield b(12);
  EXPECT_EQ(a, b);
  a.set(3);
  EXPECT_NE(a, b);
  b.set(3);
  EXPECT_EQ(a, b);
  // Same bytes, different sizes: not equal.
  EXPECT_NE(Bitfield(12), Bitfield(13));
  EXPECT_NE(Bitfield(8), Bitfield(7));
  // Built by set_all, by the constructor or bit by bit: equal.
  Bitfield c(12);
  for (std::size_t i = 0; i < 12; ++i) c.set(i);
  Bitfield d(12);
  d.set_all();
  EXPECT_EQ(c, d);
  EXPECT_EQ(c, Bitfield(12, true));
}

}  // namespace
}  // namespace starling
