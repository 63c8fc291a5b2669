#include "wire/message_encoder.hpp"

#include <gtest/gtest.h>

#include <string>

#include "sample_messages.hpp"

namespace starling::wire {
namespace {

using test::from_hex;

TEST(MessageEncoder, WritesTheBep3Bytes) {
  EXPECT_EQ(encode(KeepAlive{}), from_hex("00 00 00 00"));
  EXPECT_EQ(encode(Choke{}), from_hex("00 00 00 01 00"));
  EXPECT_EQ(encode(Unchoke{}), from_hex("00 00 00 01 01"));
  EXPECT_EQ(encode(Interested{}), from_hex("00 00 00 01 02"));
  EXPECT_EQ(encode(NotInterested{}), from_hex("00 00 00 01 03"));
  EXPECT_EQ(encode(Have{PieceIndex(0x01020304)}), from_hex("00 00 00 05 04 01 02 03 04"));
  EXPECT_EQ(encode(BitfieldMessage{from_hex("ff c0")}), from_hex("00 00 00 03 05 ff c0"));
  // Request piece 1, offset 16384, length 16384.
  EXPECT_EQ(encode(Request{PieceIndex(1), 16384, 16384}),
            from_hex("00 00 00 0d 06 00 00 00 01 00 00 40 00 00 00 40 00"));
  EXPECT_EQ(encode(Piece{PieceIndex(1), 16384, "abc"}),
            from_hex("00 00 00 0c 07 00 00 00 01 00 00 40 00") + "abc");
  EXPECT_EQ(encode(Cancel{PieceIndex(7), 0, 0x4000}),
            from_hex("00 00 00 0d 08 00 00 00 07 00 00 00 00 00 00 40 00"));
  EXPECT_EQ(encode(Port{6881}), from_hex("00 00 00 03 09 1a e1"));
}

TEST(MessageEncoder, WritesTheFastExtensionBytes) {
  EXPECT_EQ(encode(Suggest{PieceIndex(258)}), from_hex("00 00 00 05 0d 00 00 01 02"));
  EXPECT_EQ(encode(HaveAll{}), from_hex("00 00 00 01 0e"));
  EXPECT_EQ(encode(HaveNone{}), from_hex("00 00 00 01 0f"));
  EXPECT_EQ(encode(Reject{PieceIndex(1), 16384, 16384}),
            from_hex("00 00 00 0d 10 00 00 00 01 00 00 40 00 00 00 40 00"));
  EXPECT_EQ(encode(AllowedFast{PieceIndex(0x7fffffff)}), from_hex("00 00 00 05 11 7f ff ff ff"));
}

TEST(MessageEncoder, WritesExtendedAndUnknownMessages) {
  EXPECT_EQ(encode(Extended{0, "de"}), from_hex("00 00 00 04 14 00") + "de");
  EXPECT_EQ(encode(Extended{2, ""}), from_hex("00 00 00 02 14 02"));
  EXPECT_EQ(encode(Unknown{21, "xy"}), from_hex("00 00 00 03 15") + "xy");
}

TEST(MessageEncoder, AppendsToTheOutput) {
  std::string out = "already";
  encode(out, Choke{});
  encode(out, Have{PieceIndex(1)});
  EXPECT_EQ(out, "already" + from_hex("00 00 00 01 00 00 00 00 05 04 00 00 00 01"));
}

TEST(MessageEncoder, EncodedSizeMatchesTheOutput) {
  for (const Message& m : test::sample_messages()) {
    SCOPED_TRACE(std::string(message_name(m)));
    const std::string bytes = encode(m);
    EXPECT_EQ(encoded_size(m), bytes.size());
    // The length prefix counts everything after itself.
    ASSERT_GE(bytes.size(), 4u);
    const std::uint32_t length = (std::uint32_t{static_cast<std::uint8_t>(bytes[0])} << 24) |
                                 (std::uint32_t{static_cast<std::uint8_t>(bytes[1])} << 16) |
                                 (std::uint32_t{static_cast<std::uint8_t>(bytes[2])} << 8) |
                                 std::uint32_t{static_cast<std::uint8_t>(bytes[3])};
    EXPECT_EQ(length, bytes.size() - 4);
  }
}

TEST(MessageEncoder, PieceHeaderThenBlockEqualsAPieceMessage) {
  const std::string block(16384, 'z');
  std::string out;
  encode_piece_header(out, PieceIndex(5), 32768, static_cast<std::uint32_t>(block.size()));
  EXPECT_EQ(out.size(), kPieceHeaderSize);
  EXPECT_EQ(out, from_hex("00 00 40 09 07 00 00 00 05 00 00 80 00"));
  out += block;
  EXPECT_EQ(out, encode(Piece{PieceIndex(5), 32768, block}));
}

TEST(MessageEncoder, NamesEveryMessage) {
  EXPECT_EQ(message_name(Request{}), "request");
  EXPECT_EQ(message_name(HaveNone{}), "have none");
  EXPECT_EQ(message_name(KeepAlive{}), "keep-alive");
  for (const Message& m : test::sample_messages()) EXPECT_FALSE(message_name(m).empty());
}

}  // namespace
}  // namespace starling::wire
