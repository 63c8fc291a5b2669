// Every way MessageDecoder rejects a stream, with its Errc, detail and stream offset.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "sample_messages.hpp"
#include "wire/message_decoder.hpp"
#include "wire/message_encoder.hpp"

namespace starling::wire {
namespace {

using test::from_hex;

struct Options {
  bool geometry = true;  // sample_geometry(): 10 pieces of 64 KiB, the last one 1000 bytes
  WireLimits limits;
};

// Feeds `bytes` and decodes until the error, which must come.
Error decode_error(std::string_view bytes, const Options& options = {}) {
  MessageDecoder decoder(options.limits);
  if (options.geometry) {
    EXPECT_TRUE(decoder.set_geometry(test::sample_geometry()));
  }
  decoder.feed(bytes);
  for (int i = 0; i < 100; ++i) {
    auto m = decoder.next();
    if (!m) return m.error();
    if (!*m) break;
  }
  ADD_FAILURE() << "no error";
  return {};
}

struct Case {
  const char* name;
  std::string bytes;
  Errc code;
  const char* detail;
  Options options{};
};

Options without_geometry() {
  return Options{false, {}};
}

Options small_limits(bool geometry) {
  Options o{geometry, {}};
  o.limits.max_block_length = 1000;
  o.limits.max_extended_length = 100;
  o.limits.max_bitfield_length = 10;
  o.limits.max_unknown_length = 20;
  return o;
}

std::vector<Case> cases() {
  const std::string block(101, 'b');
  return {
      {"prefix above every limit", from_hex("7f ff ff ff"), Errc::wire_message_too_long,
       "length prefix 2147483647 exceeds the limit of 1048578"},
      {"prefix above small limits", from_hex("00 00 04 00"), Errc::wire_message_too_long,
       "length prefix 1024 exceeds the limit of 1009", small_limits(true)},
      {"have of length 6", from_hex("00 00 00 06 04"), Errc::wire_bad_message,
       "have message of length 6, expected 5"},
      {"choke of length 2", from_hex("00 00 00 02 00"), Errc::wire_bad_message,
       "choke message of length 2, expected 1"},
      {"request of length 12", from_hex("00 00 00 0c 06"), Errc::wire_bad_message,
       "request message of length 12, expected 13"},
      {"cancel of length 9", from_hex("00 00 00 09 08"), Errc::wire_bad_message,
       "cancel message of length 9, expected 13"},
      {"reject of length 14", from_hex("00 00 00 0e 10"), Errc::wire_bad_message,
       "reject message of length 14, expected 13"},
      {"port of length 5", from_hex("00 00 00 05 09"), Errc::wire_bad_message,
       "port message of length 5, expected 3"},
      {"have all of length 2", from_hex("00 00 00 02 0e"), Errc::wire_bad_message,
       "have all message of length 2, expected 1"},
      {"allowed fast of length 1", from_hex("00 00 00 01 11"), Errc::wire_bad_message,
       "allowed fast message of length 1, expected 5"},
      {"piece without data", from_hex("00 00 00 09 07"), Errc::wire_bad_message,
       "piece message of length 9, expected at least 10"},
      {"piece block above the limit", from_hex("00 02 00 0a 07"), Errc::wire_message_too_long,
       "piece message with a block of 131073 bytes, limit 131072"},
      {"extended without id", from_hex("00 00 00 01 14"), Errc::wire_bad_message,
       "extended message without an extension id"},
      {"extended above the limit", from_hex("00 00 00 67 14"), Errc::wire_message_too_long,
       "extended message with a payload of 101 bytes, limit 100", small_limits(true)},
      {"bitfield of the wrong size", from_hex("00 00 00 04 05 ff c0 00"), Errc::wire_bad_message,
       "bitfield of 3 bytes, expected 2 for 10 pieces"},
      {"bitfield with spare bits", from_hex("00 00 00 03 05 ff e0"), Errc::wire_bad_message,
       "bitfield sets spare bits past piece 9"},
      {"bitfield above the limit", from_hex("00 00 00 0c 05"), Errc::wire_message_too_long,
       "bitfield message with a payload of 11 bytes, limit 10", small_limits(false)},
      {"unknown id above the limit", from_hex("00 00 00 16 63"), Errc::wire_message_too_long,
       "message with unknown id 99 of 21 bytes, limit 20", small_limits(false)},
      {"have out of range", encode(Have{PieceIndex(10)}), Errc::wire_out_of_range,
       "have for piece 10 of a torrent with 10 pieces"},
      {"suggest out of range", encode(Suggest{PieceIndex(11)}), Errc::wire_out_of_range,
       "suggest for piece 11 of a torrent with 10 pieces"},
      {"allowed fast out of range", encode(AllowedFast{PieceIndex(12)}), Errc::wire_out_of_range,
       "allowed fast for piece 12 of a torrent with 10 pieces"},
      {"have beyond int32", from_hex("00 00 00 05 04 80 00 00 00"), Errc::wire_out_of_range,
       "have for piece 2147483648", without_geometry()},
      {"request out of range", encode(Request{PieceIndex(10), 0, 16384}), Errc::wire_out_of_range,
       "request for piece 10 of a torrent with 10 pieces"},
      {"request for 0 bytes", encode(Request{PieceIndex(1), 0, 0}), Errc::wire_bad_message,
       "request for 0 bytes"},
      {"cancel for 0 bytes", encode(Cancel{PieceIndex(1), 0, 0}), Errc::wire_bad_message,
       "cancel for 0 bytes", without_geometry()},
      {"request above the block limit", encode(Request{PieceIndex(1), 0, 131073}),
       Errc::wire_out_of_range, "request for 131073 bytes, limit 131072", without_geometry()},
      {"request past the piece", encode(Request{PieceIndex(1), 65535, 2}), Errc::wire_out_of_range,
       "request for bytes [65535, 65537) of piece 1, which has 65536 bytes"},
      {"request past the short last piece", encode(Request{PieceIndex(9), 0, 1001}),
       Errc::wire_out_of_range, "request for bytes [0, 1001) of piece 9, which has 1000 bytes"},
      {"cancel at a huge offset", encode(Cancel{PieceIndex(0), 0xffffffff, 16384}),
       Errc::wire_out_of_range,
       "cancel for bytes [4294967295, 4294983679) of piece 0, which has 65536 bytes"},
      {"reject past the piece", encode(Reject{PieceIndex(9), 1000, 1}), Errc::wire_out_of_range,
       "reject for bytes [1000, 1001) of piece 9, which has 1000 bytes"},
      {"piece out of range", encode(Piece{PieceIndex(10), 0, "x"}), Errc::wire_out_of_range,
       "piece for piece 10 of a torrent with 10 pieces"},
      {"piece past the piece", encode(Piece{PieceIndex(9), 900, block}), Errc::wire_out_of_range,
       "piece for bytes [900, 1001) of piece 9, which has 1000 bytes"},
  };
}

TEST(MessageDecoderErrors, EachCaseHasItsCodeAndDetail) {
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.name);
    const Error e = decode_error(c.bytes, c.options);
    EXPECT_EQ(e.code, make_error_code(c.code)) << e.message();
    EXPECT_EQ(e.detail, c.detail);
    EXPECT_EQ(e.offset, 0u);
  }
}

TEST(MessageDecoderErrors, DetailsAreDistinct) {
  std::set<std::string> seen;
  for (const Case& c : cases()) {
    EXPECT_TRUE(seen.insert(c.detail).second) << c.detail;
  }
}

TEST(MessageDecoderErrors, OffsetIsTheMessagePositionInTheStream) {
  std::string stream = encode(Unchoke{}) + encode(KeepAlive{}) + encode(Have{PieceIndex(3)});
  const std::size_t at = stream.size();
  stream += encode(Have{PieceIndex(10)});
  const Error e = decode_error(stream);
  EXPECT_EQ(e.offset, at);
  EXPECT_EQ(e.message(),
            "peer wire: piece, offset or length out of range: have for piece 10 of a torrent "
            "with 10 pieces (at byte 18)");
}

TEST(MessageDecoderErrors, TooLongIsDecidedBeforeTheBody) {
  MessageDecoder decoder;
  decoder.feed(from_hex("ff ff ff"));
  auto partial = decoder.next();
  ASSERT_TRUE(partial);
  EXPECT_FALSE(partial->has_value());
  decoder.feed(from_hex("ff"));  // no more than the four length bytes
  EXPECT_FALSE(decoder.next());

  MessageDecoder by_id;
  by_id.feed(from_hex("00 00 40 00 04"));  // a 16 KiB have: wrong as soon as the id is known
  auto have = by_id.next();
  ASSERT_FALSE(have);
  EXPECT_EQ(have.error().code, make_error_code(Errc::wire_bad_message));
}

TEST(MessageDecoderErrors, AnErrorIsFinal) {
  MessageDecoder decoder;
  decoder.feed(from_hex("00 00 00 06 04"));
  auto first = decoder.next();
  ASSERT_FALSE(first);
  decoder.feed(encode(Choke{}));
  for (int i = 0; i < 3; ++i) {
    auto again = decoder.next();
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, first.error().code);
    EXPECT_EQ(again.error().detail, first.error().detail);
  }
}

TEST(MessageDecoderErrors, WireCodesHaveTheirOwnMessages) {
  std::set<std::string> seen;
  for (Errc e : {Errc::wire_bad_handshake, Errc::wire_message_too_long, Errc::wire_bad_message,
                 Errc::wire_out_of_range, Errc::wire_bad_extension_handshake}) {
    const std::string message = make_error_code(e).message();
    EXPECT_EQ(message.rfind("peer wire: ", 0), 0u) << message;
    EXPECT_TRUE(seen.insert(message).second) << message;
  }
}

}  // namespace
}  // namespace starling::wire
