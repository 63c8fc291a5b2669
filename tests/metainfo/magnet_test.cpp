#include "metainfo/magnet.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace starling {
namespace {

// Big Buck Bunny, as published by WebTorrent; the base32 form was computed independently
// (Python's base64.b32encode) from the hex form.
constexpr std::string_view kHex = "dd8255ecdc7ca55fb0bbf81323d87062db1f6d1c";
constexpr std::string_view kBase32 = "3WBFL3G4PSSV7MF37AJSHWDQMLNR63I4";

std::string with_hash(std::string_view hash, std::string_view rest = "") {
  return "magnet:?xt=urn:btih:" + std::string(hash) + std::string(rest);
}

Magnet parse_ok(std::string_view uri) {
  auto m = parse_magnet(uri);
  EXPECT_TRUE(m.has_value()) << uri << " -> " << (m ? "" : m.error().message());
  return m ? *m : Magnet{};
}

// Parses `uri`, expects failure, and returns the error.
Error parse_error(std::string_view uri) {
  auto m = parse_magnet(uri);
  EXPECT_FALSE(m.has_value()) << uri;
  if (m) return {};
  EXPECT_EQ(m.error().code, make_error_code(Errc::magnet_bad_uri)) << uri;
  return m.error();
}

TEST(Magnet, HexHash) {
  Magnet m = parse_ok(with_hash(kHex));
  EXPECT_EQ(m.info_hash.hex(), kHex);
  EXPECT_TRUE(m.display_name.empty());
  EXPECT_TRUE(m.trackers.empty());
}

TEST(Magnet, Base32AndHexOfTheSameHashAgree) {
  Magnet from_hex = parse_ok(with_hash(kHex));
  Magnet from_base32 = parse_ok(with_hash(kBase32));
  EXPECT_EQ(from_base32.info_hash, from_hex.info_hash);
  EXPECT_EQ(from_base32.info_hash.hex(), kHex);
}

TEST(Magnet, HashAndSchemeAreCaseInsensitive) {
  std::string upper_hex = "DD8255ECDC7CA55FB0BBF81323D87062DB1F6D1C";
  std::string lower_base32 = "3wbfl3g4pssv7mf37ajshwdqmlnr63i4";
  EXPECT_EQ(parse_ok(with_hash(upper_hex)).info_hash.hex(), kHex);
  EXPECT_EQ(parse_ok(with_hash(lower_base32)).info_hash.hex(), kHex);
  EXPECT_EQ(parse_ok("MAGNET:?xt=URN:BTIH:" + upper_hex).info_hash.hex(), kHex);
}

TEST(Magnet, AllFields) {
  Magnet m = parse_ok(with_hash(kHex,
                                "&dn=Big+Buck+Bunny&tr=udp%3A%2F%2Fexplodie.org%3A6969"
                                "&ws=https%3A%2F%2Fwebtorrent.io%2Ftorrents%2F"
                                "&x.pe=10.0.0.1:6881&x.pe=%5B2001%3Adb8%3A%3A1%5D%3A51413"));
  EXPECT_EQ(m.display_name, "Big Buck Bunny");
  EXPECT_EQ(m.trackers, std::vector<std::string>{"udp://explodie.org:6969"});
  EXPECT_EQ(m.web_seeds, std::vector<std::string>{"https://webtorrent.io/torrents/"});
  EXPECT_EQ(m.peers, (std::vector<std::string>{"10.0.0.1:6881", "[2001:db8::1]:51413"}));
}

TEST(Magnet, RepeatedTrackersKeepOrderWithoutDuplicates) {
  Magnet m = parse_ok(with_hash(kHex,
                                "&tr=udp://b.example:1&tr=http://a.example/announce"
                                "&tr=udp://b.example:1&tr.1=udp://c.example:2&tr="));
  EXPECT_EQ(m.trackers, (std::vector<std::string>{"udp://b.example:1", "http://a.example/announce",
                                                  "udp://c.example:2"}));
}

TEST(Magnet, PercentDecodingAndPlus) {
  Magnet m = parse_ok(with_hash(kHex, "&dn=a%2Bb+c%20d%e2%9c%93&tr=http://t.example/a+b%26c"));
  EXPECT_EQ(m.display_name, "a+b c d\xe2\x9c\x93");  // '+' is a space only in dn
  EXPECT_EQ(m.trackers, std::vector<std::string>{"http://t.example/a+b&c"});
}

TEST(Magnet, FirstBtihWinsAndOtherKeysAreIgnored) {
  std::string other(40, 'a');
  Magnet m = parse_ok("magnet:?xt=urn:btmh:1220" + std::string(64, 'b') +
                      "&xl=12345&kt=a+b&so=0-3&&xt=urn:btih:" + std::string(kHex) +
                      "&xt=urn:btih:" + other + "&dn=first&dn=second&flag");
  EXPECT_EQ(m.info_hash.hex(), kHex);
  EXPECT_EQ(m.display_name, "first");
}

TEST(Magnet, RoundTrip) {
  Magnet m;
  m.info_hash = *Sha1Digest::from_hex(kHex);
  m.display_name = "Name with spaces, +plus+ & ampersand = equals/ü %41";
  m.trackers = {"udp://tracker.example:6969/announce", "http://t.example/a?b=c&d=e#f"};
  m.web_seeds = {"https://seed.example/files/name%20x/"};
  m.peers = {"192.0.2.1:6881", "[2001:db8::2]:6882"};
  std::string text = format_magnet(m);
  EXPECT_EQ(text.rfind("magnet:?xt=urn:btih:" + std::string(kHex) + "&dn=", 0), 0u) << text;
  EXPECT_NE(text.find("&tr=udp://tracker.example:6969/announce&"), std::string::npos) << text;
  EXPECT_NE(text.find("&x.pe=%5B2001%3Adb8%3A%3A2%5D%3A6882"), std::string::npos) << text;
  EXPECT_EQ(parse_ok(text), m);
}

TEST(Magnet, FormatLeavesOutEmptyName) {
  Magnet m;
  m.info_hash = *Sha1Digest::from_hex(kHex);
  EXPECT_EQ(format_magnet(m), with_hash(kHex));
  EXPECT_EQ(parse_ok(format_magnet(m)), m);
}

TEST(Magnet, EmptyIsAnError) {
  Error e = parse_error("");
  EXPECT_NE(e.message().find("empty"), std::string::npos) << e.message();
  EXPECT_EQ(e.offset, 0u);
}

TEST(Magnet, NotAMagnetIsAnError) {
  Error e = parse_error("http://example.com/?xt=urn:btih:" + std::string(kHex));
  EXPECT_NE(e.message().find("magnet:"), std::string::npos) << e.message();
  EXPECT_NE(parse_error("magnet:xt=urn:btih:" + std::string(kHex)).message().find("'?'"),
            std::string::npos);
}

TEST(Magnet, MissingXtIsAnError) {
  Error e = parse_error("magnet:?dn=name&tr=udp://t.example:1");
  EXPECT_NE(e.message().find("xt"), std::string::npos) << e.message();
}

TEST(Magnet, V2OnlyIsAnError) {
  std::string uri = "magnet:?dn=x&xt=urn:btmh:1220" + std::string(64, 'c');
  Error e = parse_error(uri);
  EXPECT_NE(e.message().find("urn:btmh"), std::string::npos) << e.message();
  EXPECT_EQ(e.offset, uri.find("xt="));
}

TEST(Magnet, OtherUrnIsAnError) {
  Error e = parse_error("magnet:?xt=urn:sha1:ABCDEF");
  EXPECT_NE(e.message().find("urn:sha1:ABCDEF"), std::string::npos) << e.message();
}

TEST(Magnet, ShortHashIsAnError) {
  std::string uri = "magnet:?dn=x&xt=urn:btih:" + std::string(kHex.substr(1));
  Error e = parse_error(uri);
  EXPECT_NE(e.message().find("xt: info-hash must be 40 hex or 32 base32 characters, got 39"),
            std::string::npos)
      << e.message();
  EXPECT_EQ(e.offset, uri.find("xt="));
}

TEST(Magnet, BadHexCharacterIsAnError) {
  std::string hash(kHex);
  hash[5] = 'g';
  Error e = parse_error(with_hash(hash));
  EXPECT_NE(e.message().find("hex character 'g'"), std::string::npos) << e.message();
}

TEST(Magnet, BadBase32CharacterIsAnError) {
  std::string hash(kBase32);
  hash[7] = '1';
  Error e = parse_error(with_hash(hash));
  EXPECT_NE(e.message().find("base32 character '1'"), std::string::npos) << e.message();
}

TEST(Magnet, BadEscapeIsAnError) {
  std::string uri = with_hash(kHex, "&tr=udp%3A%2F%2Fa.example&tr=http%G1x");
  Error e = parse_error(uri);
  EXPECT_NE(e.message().find("tr: bad percent-escape '%G1'"), std::string::npos) << e.message();
  EXPECT_EQ(e.offset, uri.rfind("tr="));
}

TEST(Magnet, TruncatedEscapeIsAnError) {
  Error e = parse_error(with_hash(kHex, "&dn=abc%4"));
  EXPECT_NE(e.message().find("dn: truncated percent-escape '%4'"), std::string::npos)
      << e.message();
}

TEST(Magnet, ControlBytesInErrorsAreEscaped) {
  Error e = parse_error("magnet:?xt=urn:x:\x01\n");
  EXPECT_EQ(e.message().find('\n'), std::string::npos) << e.message();
  EXPECT_NE(e.message().find("urn:x:\\x01\\x0A"), std::string::npos) << e.message();
}

}  // namespace
}  // namespace starling
