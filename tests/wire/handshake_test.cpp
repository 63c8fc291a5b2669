#include "wire/handshake.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "core/encoding.hpp"
#include "support/expect_error.hpp"

namespace starling::wire {
namespace {

using starling::testing::fails_with;

std::string from_hex(std::string_view spaced) {
  std::string digits;
  for (char c : spaced) {
    if (c != ' ') digits.push_back(c);
  }
  return hex_decode(digits).value();
}

Handshake sample() {
  Handshake h;
  h.info_hash = Sha1Digest::from_hex("0123456789abcdef0123456789abcdef01234567").value();
  const std::string_view id = "-ST0010-abcdefghijkl";
  for (std::size_t i = 0; i < h.peer_id.size(); ++i) {
    h.peer_id[i] = static_cast<std::uint8_t>(id[i]);
  }
  return h;
}

TEST(Handshake, EncodesTheBep3Layout) {
  Handshake h = sample();
  h.set_supports_extensions();
  h.set_supports_fast();
  const std::string expected =
      from_hex("13") + "BitTorrent protocol" + from_hex("0000000000100004") +
      from_hex("0123456789abcdef0123456789abcdef01234567") + "-ST0010-abcdefghijkl";
  EXPECT_EQ(encode_handshake(h), expected);
  EXPECT_EQ(expected.size(), kHandshakeSize);

  std::string out = "prefix";
  encode_handshake(out, h);
  EXPECT_EQ(out, "prefix" + expected);
}

TEST(Handshake, RoundTrips) {
  Handshake h = sample();
  h.reserved = {0xff, 0x00, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc};
  auto parsed = parse_handshake(encode_handshake(h));
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(*parsed, h);
  EXPECT_EQ(parsed->peer_id_view(), "-ST0010-abcdefghijkl");
}

TEST(Handshake, ReservedBitsMatchTheBeps) {
  Handshake h;
  EXPECT_FALSE(h.supports_extensions());
  EXPECT_FALSE(h.supports_fast());
  EXPECT_FALSE(h.supports_dht());

  h.set_supports_extensions();  // BEP 10: reserved[5] & 0x10
  EXPECT_EQ(h.reserved, (std::array<std::uint8_t, 8>{0, 0, 0, 0, 0, 0x10, 0, 0}));
  h.set_supports_fast();  // BEP 6: reserved[7] & 0x04
  EXPECT_EQ(h.reserved, (std::array<std::uint8_t, 8>{0, 0, 0, 0, 0, 0x10, 0, 0x04}));
  h.set_supports_dht();  // BEP 5: reserved[7] & 0x01
  EXPECT_EQ(h.reserved, (std::array<std::uint8_t, 8>{0, 0, 0, 0, 0, 0x10, 0, 0x05}));
  EXPECT_TRUE(h.supports_extensions() && h.supports_fast() && h.supports_dht());

  h.set_supports_fast(false);
  EXPECT_EQ(h.reserved, (std::array<std::uint8_t, 8>{0, 0, 0, 0, 0, 0x10, 0, 0x01}));
  EXPECT_TRUE(h.supports_extensions() && !h.supports_fast() && h.supports_dht());
  h.set_supports_extensions(false);
  h.set_supports_dht(false);
  EXPECT_EQ(h.reserved, (std::array<std::uint8_t, 8>{}));
}

TEST(Handshake, ClearingOneBitKeepsUnrelatedBits) {
  Handshake h;
  h.reserved = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  h.set_supports_fast(false);
  EXPECT_EQ(h.reserved[7], 0xfb);
  EXPECT_TRUE(h.supports_dht());
  h.set_supports_extensions(false);
  EXPECT_EQ(h.reserved[5], 0xef);
}

TEST(Handshake, ReadsFlagsFromLibtorrentReservedBytes) {
  // libtorrent 2.0 sends 00 00 00 00 00 18 00 05: extensions, fast, DHT (and 0x08, BEP 55).
  std::string bytes = encode_handshake(sample());
  const std::string reserved = from_hex("0000000000180005");
  bytes.replace(20, 8, reserved);
  auto h = parse_handshake(bytes);
  ASSERT_TRUE(h) << h.error().message();
  EXPECT_TRUE(h->supports_extensions());
  EXPECT_TRUE(h->supports_fast());
  EXPECT_TRUE(h->supports_dht());
  EXPECT_EQ(h->reserved[5], 0x18);
  EXPECT_EQ(encode_handshake(*h), bytes);  // unknown bits survive a round trip
}

TEST(Handshake, RejectsTheWrongSize) {
  const std::string good = encode_handshake(sample());
  for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{48}, std::size_t{67}}) {
    auto h = parse_handshake(std::string_view(good).substr(0, size));
    ASSERT_FALSE(h);
    EXPECT_EQ(h.error().code, make_error_code(Errc::wire_bad_handshake));
    EXPECT_NE(h.error().message().find(std::to_string(size) + " bytes, expected 68"),
              std::string::npos)
        << h.error().message();
  }
  auto longer = parse_handshake(good + "x");
  ASSERT_FALSE(longer);
  EXPECT_NE(longer.error().message().find("69 bytes"), std::string::npos);
}

TEST(Handshake, RejectsABadProtocolNameLength) {
  for (unsigned char length : {0, 18, 20, 0xff}) {
    std::string bytes = encode_handshake(sample());
    bytes[0] = static_cast<char>(length);
    auto h = parse_handshake(bytes);
    EXPECT_TRUE(fails_with(h, bytes, "parsed", Errc::wire_bad_handshake, 0));
    if (!h) {
      EXPECT_EQ(h.error().detail,
                "protocol name length " + std::to_string(length) + ", expected 19");
    }
  }
}

TEST(Handshake, RejectsABadProtocolName) {
  std::string bytes = encode_handshake(sample());
  bytes[12] = 'P';  // "BitTorrent Protocol"
  auto h = parse_handshake(bytes);
  ASSERT_TRUE(fails_with(h, bytes, "parsed", Errc::wire_bad_handshake, 1));
  EXPECT_EQ(h.error().detail,
            "protocol name 'BitTorrent Protocol', expected 'BitTorrent protocol'");

  bytes.replace(1, 19, std::string(19, '\0'));
  auto zeros = parse_handshake(bytes);
  ASSERT_FALSE(zeros);
  EXPECT_NE(zeros.error().detail.find("\\x00\\x00"), std::string::npos) << zeros.error().detail;
}

TEST(Handshake, PrefixStopsAtTheInfoHash) {
  Handshake full = sample();
  full.set_supports_fast();
  const std::string bytes = encode_handshake(full);

  for (std::size_t size : {kHandshakePrefixSize, std::size_t{60}, kHandshakeSize}) {
    auto prefix = parse_handshake_prefix(std::string_view(bytes).substr(0, size));
    ASSERT_TRUE(prefix) << prefix.error().message();
    EXPECT_EQ(prefix->info_hash, full.info_hash);
    EXPECT_EQ(prefix->reserved, full.reserved);
    EXPECT_EQ(prefix->peer_id, (std::array<std::uint8_t, 20>{}));
  }

  auto short_prefix = parse_handshake_prefix(std::string_view(bytes).substr(0, 47));
  ASSERT_FALSE(short_prefix);
  EXPECT_EQ(short_prefix.error().code, make_error_code(Errc::wire_bad_handshake));

  std::string bad = bytes.substr(0, kHandshakePrefixSize);
  bad[0] = 20;
  EXPECT_TRUE(fails_with(parse_handshake_prefix(bad), bad, "parsed", Errc::wire_bad_handshake, 0));
}

}  // namespace
}  // namespace starling::wire
