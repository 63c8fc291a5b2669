#include "utp/reorder_buffer.hpp"

#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "utp/byte_ring.hpp"

namespace starling::utp {
namespace {

std::vector<std::byte> filled(std::size_t size, int value) {
  return std::vector<std::byte>(size, static_cast<std::byte>(value));
}

TEST(UtpReorderBuffer, HoldsPacketsAndRejectsDuplicates) {
  ReorderBuffer buffer(5, 1 << 20);
  EXPECT_EQ(buffer.slots(), 8u);
  EXPECT_TRUE(buffer.insert(65535, filled(10, 1), false));
  EXPECT_TRUE(buffer.insert(2, filled(20, 2), true));
  EXPECT_FALSE(buffer.insert(2, filled(5, 3), false));
  EXPECT_EQ(buffer.count(), 2u);
  EXPECT_EQ(buffer.bytes(), 30u);
  EXPECT_EQ(buffer.highest(), 2);  // after the wrap
  EXPECT_TRUE(buffer.contains(65535));
  EXPECT_FALSE(buffer.contains(65535 - 8 + 8 - 8));
  EXPECT_EQ(buffer.get(2).payload.size(), 20u);
  EXPECT_TRUE(buffer.get(2).fin);
  buffer.erase(65535);
  EXPECT_FALSE(buffer.contains(65535));
  EXPECT_EQ(buffer.bytes(), 20u);
}

TEST(UtpReorderBuffer, SackBitmaskFollowsBep29) {
  ReorderBuffer buffer(64, 1 << 20);
  // ack_nr = 65533: bit i is packet 65535 + i.
  for (std::uint16_t seq : {65535, 1, 8, 35}) buffer.insert(seq, filled(1, 0), false);
  std::array<std::byte, 64> mask{};
  const std::size_t n = buffer.write_sack(65533, mask);
  ASSERT_EQ(n, 8u);                            // 37 bits, rounded up to 4 bytes at a time
  EXPECT_EQ(mask[0], std::byte{0b0000'0101});  // 65535 and 1
  EXPECT_EQ(mask[1], std::byte{0b0000'0010});  // 8 = bit 9
  EXPECT_EQ(mask[4], std::byte{0b0001'0000});  // 35 = bit 36
  // A short output buffer truncates the mask to whole 4-byte words.
  std::array<std::byte, 6> small{};
  EXPECT_EQ(buffer.write_sack(65533, small), 4u);
}

TEST(UtpReorderBuffer, KeptCapacityIsBounded) {
  ReorderBuffer buffer(16, 100'000);
  for (std::uint16_t seq = 0; seq < 16; ++seq) {
    ASSERT_TRUE(buffer.insert(seq, filled(60'000, 1), false));
    buffer.erase(seq);
  }
  EXPECT_LE(buffer.retained_bytes(), 100'000u + 60'000u);
  EXPECT_GT(buffer.retained_bytes(), 0u);  // warm slots stay warm up to the limit
  EXPECT_EQ(buffer.bytes(), 0u);
  EXPECT_TRUE(buffer.empty());
}

TEST(UtpByteRing, WrapsAndCopiesByOffset) {
  ByteRing ring(10);
  const auto a = filled(7, 'a');
  EXPECT_EQ(ring.push(a), 7u);
  ring.pop(5);
  const auto b = filled(20, 'b');
  EXPECT_EQ(ring.push(b), 8u);  // only 8 free
  EXPECT_EQ(ring.size(), 10u);
  EXPECT_EQ(ring.begin_offset(), 5u);
  EXPECT_EQ(ring.end_offset(), 15u);
  std::array<std::byte, 4> out{};
  ring.copy_out(6, out);  // 'a' then three 'b', across the physical wrap
  EXPECT_EQ(out[0], std::byte{'a'});
  EXPECT_EQ(out[1], std::byte{'b'});
  EXPECT_EQ(out[3], std::byte{'b'});
  EXPECT_EQ(ring.front().size(), 5u);  // contiguous up to the physical end
}

TEST(UtpByteRing, StorageGrowsWithWhatIsHeldKeepingTheBytesInOrder) {
  ByteRing ring(1024 * 1024);
  EXPECT_EQ(ring.storage(), 0u);
  std::vector<std::byte> chunk(40 * 1024);
  std::uint8_t next = 0;
  const auto fill = [&] {
    for (auto& b : chunk) b = std::byte{next++};
  };
  // Stream 4 MiB through while holding at most 80 KiB: storage stays at 128 KiB.
  std::uint8_t expected = 0;
  for (int i = 0; i < 100; ++i) {
    fill();
    ASSERT_EQ(ring.push(chunk), chunk.size());
    if (ring.size() > 60 * 1024) {
      std::vector<std::byte> out(ring.size() / 2);
      ring.copy_out(ring.begin_offset(), out);
      for (std::byte b : out) ASSERT_EQ(b, std::byte{expected++});
      ring.pop(out.size());
    }
  }
  EXPECT_LE(ring.storage(), 128u * 1024);
  // Filling it grows storage to the capacity, the bytes still in stream order.
  while (ring.free() > 0) {
    fill();
    ring.push(chunk);
  }
  EXPECT_EQ(ring.storage(), 1024u * 1024);
  std::vector<std::byte> all(ring.size());
  ring.copy_out(ring.begin_offset(), all);
  for (std::byte b : all) ASSERT_EQ(b, std::byte{expected++});
}

}  // namespace
}  // namespace starling::utp
