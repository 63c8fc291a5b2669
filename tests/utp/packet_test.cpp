#include "utp/packet.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "utp/error.hpp"
#include "utp/sequence.hpp"

namespace starling::utp {
namespace {

std::vector<std::byte> bytes(std::initializer_list<int> values) {
  std::vector<std::byte> out;
  for (int v : values) out.push_back(static_cast<std::byte>(v));
  return out;
}

PacketHeader sample_header() {
  PacketHeader h;
  h.type = PacketType::data;
  h.connection_id = 0xBEEF;
  h.timestamp_us = 0x01020304;
  h.timestamp_difference_us = 0xA0B0C0D0;
  h.wnd_size = 0x00100000;
  h.seq_nr = 0xFFFE;
  h.ack_nr = 0x0102;
  return h;
}

TEST(UtpPacket, HeaderIsBigEndianAndRoundTrips) {
  std::array<std::byte, 64> buffer{};
  const std::size_t n = encode_header(buffer, sample_header());
  ASSERT_EQ(n, kHeaderSize);
  const auto expected = bytes({0x01, 0x00, 0xBE, 0xEF, 0x01, 0x02, 0x03, 0x04, 0xA0, 0xB0,
                               0xC0, 0xD0, 0x00, 0x10, 0x00, 0x00, 0xFF, 0xFE, 0x01, 0x02});
  EXPECT_TRUE(std::equal(expected.begin(), expected.end(), buffer.begin()));
  auto parsed = parse_packet(std::span<const std::byte>(buffer.data(), n));
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(parsed->header, sample_header());
  EXPECT_FALSE(parsed->has_sack());
  EXPECT_TRUE(parsed->payload.empty());
}

TEST(UtpPacket, EveryTypeRoundTrips) {
  for (PacketType type :
       {PacketType::data, PacketType::fin, PacketType::state, PacketType::reset, PacketType::syn}) {
    std::array<std::byte, kHeaderSize> buffer{};
    PacketHeader h = sample_header();
    h.type = type;
    encode_header(buffer, h);
    auto parsed = parse_packet(std::span<const std::byte>(buffer));
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->header.type, type);
  }
}

TEST(UtpPacket, SackAndPayloadAreViews) {
  std::array<std::byte, 64> buffer{};
  const auto sack = bytes({0x05, 0x00, 0x00, 0x80});
  const std::size_t n = encode_header(buffer, sample_header(), sack);
  ASSERT_EQ(n, encoded_header_size(4));
  buffer[n] = std::byte{'x'};
  buffer[n + 1] = std::byte{'y'};
  auto parsed = parse_packet(std::span<const std::byte>(buffer.data(), n + 2));
  ASSERT_TRUE(parsed) << parsed.error().message();
  ASSERT_EQ(parsed->sack.size(), 4u);
  EXPECT_EQ(parsed->sack.data(), buffer.data() + 22);
  EXPECT_TRUE(parsed->sacked(0));   // ack_nr + 2
  EXPECT_FALSE(parsed->sacked(1));  // ack_nr + 3
  EXPECT_TRUE(parsed->sacked(2));   // ack_nr + 4
  EXPECT_TRUE(parsed->sacked(31));  // ack_nr + 33
  EXPECT_FALSE(parsed->sacked(32));
  ASSERT_EQ(parsed->payload.size(), 2u);
  EXPECT_EQ(parsed->payload.data(), buffer.data() + n);
}

TEST(UtpPacket, UnknownExtensionsAreSkipped) {
  // Extension 2 (8 bytes), then SACK (4 bytes), then payload "hi".
  auto datagram = bytes({0x21, 0x02, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0});
  for (int b : {0x01, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0x00, 4, 0xFF, 0, 0, 0, 0x68, 0x69}) {
    datagram.push_back(static_cast<std::byte>(b));
  }
  auto parsed = parse_packet(std::span<const std::byte>(datagram));
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(parsed->header.type, PacketType::state);
  EXPECT_EQ(parsed->sack.size(), 4u);
  EXPECT_EQ(parsed->payload.size(), 2u);
}

Errc parse_error(const std::vector<std::byte>& datagram) {
  auto parsed = parse_packet(std::span<const std::byte>(datagram));
  if (parsed) return Errc::ok;
  EXPECT_FALSE(parsed.error().message().empty());
  return static_cast<Errc>(parsed.error().code.value());
}

std::vector<std::byte> header_with(int type_version, int extension) {
  auto d = bytes({type_version, extension, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0});
  return d;
}

TEST(UtpPacket, RejectsMalformedInput) {
  EXPECT_EQ(parse_error({}), Errc::short_packet);
  EXPECT_EQ(parse_error(bytes({0x01, 0, 0, 0})), Errc::short_packet);
  EXPECT_EQ(parse_error(header_with(0x02, 0)), Errc::bad_version);
  EXPECT_EQ(parse_error(header_with(0x00, 0)), Errc::bad_version);
  EXPECT_EQ(parse_error(header_with(0x51, 0)), Errc::bad_type);
  EXPECT_EQ(parse_error(header_with(0xF1, 0)), Errc::bad_type);
  // Extension header cut off.
  auto d = header_with(0x21, 1);
  EXPECT_EQ(parse_error(d), Errc::bad_extension);
  d.push_back(std::byte{0});
  EXPECT_EQ(parse_error(d), Errc::bad_extension);
  // SACK longer than the packet.
  d.push_back(std::byte{8});
  for (int i = 0; i < 7; ++i) d.push_back(std::byte{0});
  EXPECT_EQ(parse_error(d), Errc::bad_extension);
  d.push_back(std::byte{0});
  EXPECT_EQ(parse_error(d), Errc::ok);
  // SACK length not a multiple of 4, and empty.
  auto odd = header_with(0x21, 1);
  for (int b : {0, 3, 0, 0, 0}) odd.push_back(static_cast<std::byte>(b));
  EXPECT_EQ(parse_error(odd), Errc::bad_extension);
  auto empty = header_with(0x21, 1);
  for (int b : {0, 0}) empty.push_back(static_cast<std::byte>(b));
  EXPECT_EQ(parse_error(empty), Errc::bad_extension);
  // Two SACKs.
  auto twice = header_with(0x21, 1);
  for (int b : {1, 4, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0}) twice.push_back(static_cast<std::byte>(b));
  EXPECT_EQ(parse_error(twice), Errc::bad_extension);
  // An endless chain of empty unknown extensions.
  auto chain = header_with(0x21, 9);
  for (int i = 0; i < 20; ++i) {
    chain.push_back(std::byte{9});
    chain.push_back(std::byte{0});
  }
  EXPECT_EQ(parse_error(chain), Errc::bad_extension);
}

TEST(UtpPacket, ErrorNamesTheProblem) {
  auto parsed = parse_packet(std::string_view("\x41\x00", 2));
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error().message().find("shorter"), std::string::npos);
  std::string wrong(20, '\0');
  wrong[0] = '\x12';
  parsed = parse_packet(wrong);
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error().message().find("version 2"), std::string::npos);
}

TEST(UtpSequence, ComparesAcrossTheWrap) {
  EXPECT_TRUE(seq_less(65534, 65535));
  EXPECT_TRUE(seq_less(65535, 0));
  EXPECT_TRUE(seq_less(65530, 5));
  EXPECT_FALSE(seq_less(5, 65530));
  EXPECT_FALSE(seq_less(7, 7));
  EXPECT_TRUE(seq_less_equal(7, 7));
  EXPECT_TRUE(seq_less(0, 0x7FFF));
  EXPECT_FALSE(seq_less(0, 0x8000));
  EXPECT_EQ(seq_distance(65535, 1), 2);
  EXPECT_EQ(seq_distance(65530, 5), 11);
  EXPECT_EQ(seq_distance(5, 5), 0);
  EXPECT_EQ(seq_add(65535, 1), 0);
  EXPECT_EQ(seq_add(0, -1), 65535);
}

}  // namespace
}  // namespace starling::utp
