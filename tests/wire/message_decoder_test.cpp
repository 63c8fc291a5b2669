#include "wire/message_decoder.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "sample_messages.hpp"
#include "wire/message_encoder.hpp"

namespace starling::wire {
namespace {

using test::from_hex;
using test::sample_geometry;
using test::sample_messages;

std::string encode_all(const std::vector<Message>& messages) {
  std::string out;
  for (const Message& m : messages) encode(out, m);
  return out;
}

// Decodes everything available; fails the test on an error.
void drain(MessageDecoder& decoder, std::vector<Message>& out) {
  for (;;) {
    auto m = decoder.next();
    ASSERT_TRUE(m) << m.error().message();
    if (!*m) return;
    out.push_back(**m);
  }
}

// The views in decoded messages die with the next feed(), so compare as soon as decoded.
void expect_same(const std::vector<Message>& got, const std::vector<Message>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i], want[i]) << "message " << i << " (" << message_name(want[i]) << ")";
  }
}

// Feeds `bytes` in chunks of the given sizes (cycled) and checks every message as it comes out.
void decode_in_chunks(std::string_view bytes, const std::vector<std::size_t>& sizes,
                      bool with_geometry) {
  const std::vector<Message> want = sample_messages();
  MessageDecoder decoder;
  if (with_geometry) {
    ASSERT_TRUE(decoder.set_geometry(sample_geometry()));
  }
  std::size_t got = 0;
  for (std::size_t at = 0, i = 0; at < bytes.size(); ++i) {
    const std::size_t n = std::min(sizes[i % sizes.size()], bytes.size() - at);
    decoder.feed(bytes.substr(at, n));
    at += n;
    for (;;) {
      auto m = decoder.next();
      ASSERT_TRUE(m) << m.error().message();
      if (!*m) break;
      ASSERT_LT(got, want.size());
      EXPECT_EQ(**m, want[got]) << "message " << got;
      ++got;
    }
  }
  EXPECT_EQ(got, want.size());
  EXPECT_EQ(decoder.buffered(), 0u);
  EXPECT_EQ(decoder.consumed(), bytes.size());
}

TEST(MessageDecoder, RoundTripsEveryMessage) {
  for (bool with_geometry : {false, true}) {
    for (const Message& m : sample_messages()) {
      SCOPED_TRACE(std::string(message_name(m)));
      MessageDecoder decoder;
      if (with_geometry) {
        ASSERT_TRUE(decoder.set_geometry(sample_geometry()));
      }
      decoder.feed(encode(m));
      auto got = decoder.next();
      ASSERT_TRUE(got) << got.error().message();
      ASSERT_TRUE(got->has_value());
      EXPECT_EQ(**got, m);
      auto after = decoder.next();
      ASSERT_TRUE(after);
      EXPECT_FALSE(after->has_value());
    }
  }
}

TEST(MessageDecoder, DecodesTheBep3RequestBytes) {
  MessageDecoder decoder;
  decoder.feed(from_hex("00 00 00 0d 06 00 00 00 01 00 00 40 00 00 00 40 00"));
  auto m = decoder.next();
  ASSERT_TRUE(m && *m);
  EXPECT_EQ(**m, Message(Request{PieceIndex(1), 16384, 16384}));
}

TEST(MessageDecoder, WholeStreamAtOnce) {
  const std::string bytes = encode_all(sample_messages());
  MessageDecoder decoder;
  decoder.feed(bytes);
  std::vector<Message> got;
  drain(decoder, got);
  // Views stay valid across next() calls until the next feed() or prepare().
  expect_same(got, sample_messages());
}

TEST(MessageDecoder, OneByteAtATime) {
  const std::string bytes = encode_all(sample_messages());
  decode_in_chunks(bytes, {1}, false);
  decode_in_chunks(bytes, {1}, true);
}

TEST(MessageDecoder, RandomChunkSizes) {
  const std::string bytes = encode_all(sample_messages());
  std::mt19937 rng(12345);
  for (int round = 0; round < 50; ++round) {
    std::vector<std::size_t> sizes;
    sizes.reserve(64);
    std::uniform_int_distribution<std::size_t> size(1, round % 2 == 0 ? 20 : 20000);
    for (int i = 0; i < 64; ++i) sizes.push_back(size(rng));
    decode_in_chunks(bytes, sizes, round % 3 != 0);
  }
}

TEST(MessageDecoder, PrepareAndCommitReadInPlace) {
  const std::string bytes = encode_all(sample_messages());
  MessageDecoder decoder;
  std::vector<Message> want = sample_messages();
  std::size_t got = 0;
  std::size_t at = 0;
  while (at < bytes.size()) {
    std::span<char> space = decoder.prepare(4096);
    ASSERT_EQ(space.size(), 4096u);
    // Like a short read from a socket: fewer bytes than offered.
    const std::size_t n = std::min<std::size_t>({space.size(), bytes.size() - at, 777});
    std::copy_n(bytes.data() + at, n, space.data());
    decoder.commit(n);
    at += n;
    for (;;) {
      auto m = decoder.next();
      ASSERT_TRUE(m) << m.error().message();
      if (!*m) break;
      ASSERT_LT(got, want.size());
      EXPECT_EQ(**m, want[got]);
      ++got;
    }
  }
  EXPECT_EQ(got, want.size());
}

TEST(MessageDecoder, CommitZeroIsANoOp) {
  MessageDecoder decoder;
  (void)decoder.prepare(100);
  decoder.commit(0);
  EXPECT_EQ(decoder.buffered(), 0u);
  auto m = decoder.next();
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->has_value());
}

TEST(MessageDecoder, WaitsForTheWholeMessage) {
  const std::string bytes = encode(Piece{PieceIndex(0), 0, std::string(100, 'a')});
  MessageDecoder decoder;
  for (std::size_t i = 0; i + 1 < bytes.size(); ++i) {
    decoder.feed(bytes.substr(i, 1));
    auto m = decoder.next();
    ASSERT_TRUE(m) << m.error().message();
    EXPECT_FALSE(m->has_value()) << "after " << i + 1 << " bytes";
  }
  decoder.feed(bytes.substr(bytes.size() - 1));
  auto m = decoder.next();
  ASSERT_TRUE(m && *m);
  EXPECT_EQ(std::get<Piece>(**m).block, std::string(100, 'a'));
}

TEST(MessageDecoder, SharedBlocksOutliveLaterReads) {
  // 40 blocks of distinct bytes, read 700 bytes at a time so most reads end inside a message.
  std::string stream;
  std::vector<std::string> blocks;
  for (int i = 0; i < 40; ++i) {
    blocks.emplace_back(300 + i, static_cast<char>('A' + i % 26));
    encode(stream, Piece{PieceIndex(i), 0, blocks.back()});
  }
  MessageDecoder decoder;
  std::vector<std::pair<std::size_t, SharedBytes>> kept;  // block index, shared bytes
  const auto check_kept = [&] {
    for (const auto& [index, bytes] : kept) {
      EXPECT_EQ(bytes.view(), blocks[index]) << "block " << index;
    }
  };
  std::size_t decoded = 0;
  for (std::size_t at = 0, reads = 0; at < stream.size(); ++reads) {
    const std::size_t n = std::min<std::size_t>(700, stream.size() - at);
    std::span<char> space = decoder.prepare(n);
    std::copy_n(stream.data() + at, n, space.data());
    decoder.commit(n);
    at += n;
    for (;;) {
      auto m = decoder.next();
      ASSERT_TRUE(m) << m.error().message();
      if (!*m) break;
      kept.emplace_back(decoded++, decoder.share(std::get<Piece>(**m).block));
    }
    // Every third read, check and let go of what was kept, so the buffer is sometimes reused
    // in place and sometimes still shared when the next read needs room.
    if (reads % 3 == 2) {
      check_kept();
      kept.clear();
    }
  }
  check_kept();
  EXPECT_EQ(decoded, blocks.size());
}

TEST(MessageDecoder, SkipsRangeChecksWithoutGeometry) {
  MessageDecoder decoder;
  const std::vector<Message> messages = {
      Have{PieceIndex(1'000'000)}, Request{PieceIndex(5), 1u << 30, 16384},
      Piece{PieceIndex(0x7fffffff), 0xffffff00, "data"},
      BitfieldMessage{"\x01\x02\x03\xff"},  // spare bits cannot be known
  };
  decoder.feed(encode_all(messages));
  std::vector<Message> got;
  drain(decoder, got);
  expect_same(got, messages);
}

TEST(MessageDecoder, UnknownIdsAreHandedOver) {
  MessageDecoder decoder;
  decoder.feed(from_hex("00 00 00 04 0a 61 62 63 00 00 00 01 63 00 00 00 01 01"));
  std::vector<Message> got;
  drain(decoder, got);
  expect_same(got, {Unknown{10, "abc"}, Unknown{99, ""}, Unchoke{}});
}

TEST(MessageDecoder, ExtendedMessagesKeepTheirId) {
  MessageDecoder decoder;
  decoder.feed(from_hex("00 00 00 02 14 00 00 00 00 05 14 03 64 65 78"));
  std::vector<Message> got;
  drain(decoder, got);
  expect_same(got, {Extended{0, ""}, Extended{3, "dex"}});
}

TEST(MessageDecoder, AcceptsMessagesExactlyAtTheLimits) {
  WireLimits limits;
  limits.max_block_length = 100;
  limits.max_extended_length = 200;
  limits.max_bitfield_length = 30;
  limits.max_unknown_length = 40;
  MessageDecoder decoder(limits);
  EXPECT_EQ(decoder.max_frame_size(), 4u + 1 + 1 + 200);
  const std::string block(100, 'b');
  const std::string ext(200, 'e');
  const std::string bits(30, '\x0f');
  const std::string unknown(40, 'u');
  const std::vector<Message> messages = {Piece{PieceIndex(1), 0, block},
                                         Request{PieceIndex(1), 0, 100}, Extended{1, ext},
                                         BitfieldMessage{bits}, Unknown{30, unknown}};
  decoder.feed(encode_all(messages));
  std::vector<Message> got;
  drain(decoder, got);
  expect_same(got, messages);
}

TEST(MessageDecoder, GeometryCanArriveLater) {
  MessageDecoder decoder;
  EXPECT_FALSE(decoder.geometry());
  decoder.feed(encode(Have{PieceIndex(50)}));
  auto before = decoder.next();
  ASSERT_TRUE(before && *before);

  ASSERT_TRUE(decoder.set_geometry(sample_geometry()));
  EXPECT_EQ(decoder.geometry(), sample_geometry());
  decoder.feed(encode(Have{PieceIndex(50)}));
  auto after = decoder.next();
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error().code, make_error_code(Errc::wire_out_of_range));
}

TEST(MessageDecoder, RejectsAnInvalidGeometry) {
  MessageDecoder decoder;
  for (const PieceGeometry& g :
       {PieceGeometry{0, 16384, 1}, PieceGeometry{2, 16384, 16384}, PieceGeometry{2, 16384, 32769},
        PieceGeometry{1, 0, 1}, PieceGeometry{3, std::int64_t{1} << 62, 1}}) {
    auto s = decoder.set_geometry(g);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code, make_error_code(Errc::invalid_argument));
  }
  EXPECT_FALSE(decoder.geometry());
  EXPECT_TRUE(decoder.set_geometry(PieceGeometry{2, 16384, 16385}));
}

TEST(MessageDecoder, PieceGeometrySizes) {
  const PieceGeometry g = sample_geometry();
  EXPECT_TRUE(g.valid());
  EXPECT_EQ(g.piece_size(PieceIndex(0)), 65536);
  EXPECT_EQ(g.piece_size(PieceIndex(8)), 65536);
  EXPECT_EQ(g.piece_size(PieceIndex(9)), 1000);
  EXPECT_EQ(g.piece_size(PieceIndex(10)), 0);
  EXPECT_EQ(g.piece_size(PieceIndex(-1)), 0);
  EXPECT_EQ(g.bitfield_bytes(), 2u);
  EXPECT_EQ((PieceGeometry{8, 1, 8}.bitfield_bytes()), 1u);
  EXPECT_EQ((PieceGeometry{9, 1, 9}.bitfield_bytes()), 2u);
}

TEST(MessageDecoder, BufferStaysBounded) {
  WireLimits limits;  // 16 KiB blocks and extended messages: the longest frame is a piece
  limits.max_block_length = 16384;
  limits.max_extended_length = 16384;
  limits.max_unknown_length = 1024;
  MessageDecoder decoder(limits);
  ASSERT_TRUE(decoder.set_geometry(PieceGeometry{1000, 262144, std::int64_t{1000} * 262144}));
  EXPECT_EQ(decoder.max_frame_size(), 16384u + kPieceHeaderSize);
  const std::string block(16384, 'q');
  std::string stream;
  for (int i = 0; i < 2000; ++i) {
    encode(stream,
           Piece{PieceIndex(i % 1000), static_cast<std::uint32_t>((i % 16) * 16384), block});
    encode(stream, Have{PieceIndex(i % 1000)});
  }
  constexpr std::size_t kRead = 1500;
  std::size_t decoded = 0;
  std::size_t largest = 0;
  for (std::size_t at = 0; at < stream.size(); at += kRead) {
    decoder.feed(std::string_view(stream).substr(at, kRead));
    largest = std::max(largest, decoder.capacity());
    for (;;) {
      auto m = decoder.next();
      ASSERT_TRUE(m) << m.error().message();
      if (!*m) break;
      ++decoded;
    }
  }
  EXPECT_EQ(decoded, 4000u);
  EXPECT_LE(largest, decoder.max_frame_size() + kRead);
  EXPECT_EQ(decoder.buffered(), 0u);
}

TEST(MessageDecoder, GivesBackMemoryAfterABigMessage) {
  MessageDecoder decoder;
  decoder.feed(encode(Extended{1, std::string(1'000'000, 'x')}));
  EXPECT_GE(decoder.capacity(), 1'000'000u);
  auto m = decoder.next();
  ASSERT_TRUE(m && *m);
  decoder.feed(encode(Choke{}));
  EXPECT_LE(decoder.capacity(), 256u * 1024);
  auto choke = decoder.next();
  ASSERT_TRUE(choke && *choke);
  EXPECT_EQ(**choke, Message(Choke{}));
}

}  // namespace
}  // namespace starling::wire
