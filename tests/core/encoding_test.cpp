#include "core/encoding.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <string_view>

namespace starling {
namespace {

std::string all_bytes() {
  std::string out;
  for (int i = 0; i < 256; ++i) out.push_back(static_cast<char>(i));
  return out;
}

TEST(Hex, EncodesLowercase) {
  EXPECT_EQ(hex_encode(""), "");
  EXPECT_EQ(hex_encode("abc"), "616263");
  EXPECT_EQ(hex_encode(std::string_view("\x00\xff\x10\xab", 4)), "00ff10ab");
  const std::string hex = hex_encode(all_bytes());
  ASSERT_EQ(hex.size(), 512u);
  EXPECT_EQ(hex.substr(0, 8), "00010203");
  EXPECT_EQ(hex.substr(504), "fcfdfeff");
  for (char c : hex) EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << c;
}

TEST(Hex, DecodesEitherCase) {
  EXPECT_EQ(hex_decode(""), "");
  EXPECT_EQ(hex_decode("616263"), "abc");
  EXPECT_EQ(hex_decode("00FF10AB"), std::string("\x00\xff\x10\xab", 4));
  EXPECT_EQ(hex_decode("00ff10ab"), std::string("\x00\xff\x10\xab", 4));
  EXPECT_EQ(hex_decode("aBcDeF"), std::string("\xab\xcd\xef"));
  EXPECT_EQ(hex_decode(hex_encode(all_bytes())), all_bytes());
}

TEST(Hex, RejectsOddLength) {
  EXPECT_FALSE(hex_decode("0"));
  EXPECT_FALSE(hex_decode("abc"));
  EXPECT_FALSE(hex_decode("00112"));
}

TEST(Hex, RejectsBadCharacters) {
  EXPECT_FALSE(hex_decode("0g"));
  EXPECT_FALSE(hex_decode("g0"));
  EXPECT_FALSE(hex_decode("zz"));
  EXPECT_FALSE(hex_decode("0 "));
  EXPECT_FALSE(hex_decode(" 0"));
  EXPECT_FALSE(hex_decode("0x00"));
  EXPECT_FALSE(hex_decode("-1"));
  EXPECT_FALSE(hex_decode(std::string_view("0\0", 2)));
  EXPECT_FALSE(hex_decode("\xff\xff"));
  EXPECT_FALSE(hex_decode("00:0"));
  // '/', ':', '@', 'G', '`', 'g' border the valid ranges.
  for (char c : std::string_view("/:@G`g")) {
    EXPECT_FALSE(hex_decode(std::string("0") + c)) << c;
  }
}

struct Base32Vector {
  std::string_view raw;
  std::string_view encoded;
};

// RFC 4648, section 10 (without the padding, which this encoder does not write).
constexpr Base32Vector kRfc4648[] = {
    {"", ""},
    {"f", "MY"},
    {"fo", "MZXQ"},
    {"foo", "MZXW6"},
    {"foob", "MZXW6YQ"},
    {"fooba", "MZXW6YTB"},
    {"foobar", "MZXW6YTBOI"},
};

TEST(Base32, Rfc4648Vectors) {
  for (const auto& v : kRfc4648) {
    SCOPED_TRACE(v.raw);
    EXPECT_EQ(base32_encode(v.raw), v.encoded);
    EXPECT_EQ(base32_decode(v.encoded), v.raw);
  }
}

TEST(Base32, DecodesLowercaseAndMixedCase) {
  EXPECT_EQ(base32_decode("mzxw6ytboi"), "foobar");
  EXPECT_EQ(base32_decode("MzXw6YtBoI"), "foobar");
  EXPECT_EQ(base32_decode("my"), "f");
}

TEST(Base32, AcceptsPaddingAtTheEnd) {
  EXPECT_EQ(base32_decode("MY======"), "f");
  EXPECT_EQ(base32_decode("MZXQ===="), "fo");
  EXPECT_EQ(base32_decode("MZXW6==="), "foo");
  EXPECT_EQ(base32_decode("MZXW6YQ="), "foob");
  EXPECT_EQ(base32_decode("MZXW6YTB"), "fooba");
  EXPECT_EQ(base32_decode("MZXW6YTBOI======"), "foobar");
  EXPECT_EQ(base32_decode("mzxw6ytboi======"), "foobar");
}

TEST(Base32, RejectsPaddingInTheMiddle) {
  EXPECT_FALSE(base32_decode("M=Y"));
  EXPECT_FALSE(base32_decode("MY=A"));
  EXPECT_FALSE(base32_decode("=MY"));
  EXPECT_FALSE(base32_decode("MZXW6===YTBOI"));
}

TEST(Base32, RejectsBadCharacters) {
  // Digits 0, 1, 8 and 9 are not in the alphabet; nor is anything outside A-Z, a-z, 2-7.
  for (char c : std::string_view("0189@[`{ -+/:")) {
    EXPECT_FALSE(base32_decode(std::string("MZXW6YT") + c)) << c;
  }
  EXPECT_FALSE(base32_decode(std::string_view("MY\0", 3)));
  EXPECT_FALSE(base32_decode("M\xc3\xa9Y"));
  EXPECT_FALSE(base32_decode("MZXW 6YTB"));
  EXPECT_FALSE(base32_decode("MZXW6YTB\n"));
}

TEST(Base32, RejectsImpossibleLengths) {
  // 1, 3 and 6 characters leave five or more bits over: no byte string encodes to that.
  EXPECT_FALSE(base32_decode("M"));
  EXPECT_FALSE(base32_decode("MZX"));
  EXPECT_FALSE(base32_decode("MZXW6Y"));
  EXPECT_FALSE(base32_decode("MZXW6YTBO"));
  EXPECT_FALSE(base32_decode("M======="));
}

TEST(Base32, RejectsNonZeroPaddingBits) {
  // "MY" is "f"; "MZ" differs only in bits past the last whole byte.
  EXPECT_FALSE(base32_decode("MZ"));
  EXPECT_FALSE(base32_decode("MZXR"));
  EXPECT_FALSE(base32_decode("MZXW6YTBOJ"));
}

TEST(Base32, InfoHashRoundTrip) {
  const std::string hash(
      "\x12\x34\x56\x78\x9a\xbc\xde\xf0\x01\x23\x45\x67\x89\xab\xcd\xef\xfe\xdc"
      "\xba\x98",
      20);
  const std::string encoded = base32_encode(hash);
  EXPECT_EQ(encoded.size(), 32u);  // 160 bits, exactly 32 characters, no padding
  EXPECT_EQ(base32_decode(encoded), hash);
}

TEST(Base32, RandomRoundTrips) {
  std::mt19937 rng(12345);
  std::uniform_int_distribution<int> byte(0, 255);
  for (std::size_t len = 0; len < 64; ++len) {
    std::string raw;
    for (std::size_t i = 0; i < len; ++i) raw.push_back(static_cast<char>(byte(rng)));
    const std::string encoded = base32_encode(raw);
    EXPECT_EQ(encoded.size(), (len * 8 + 4) / 5) << len;
    for (char c : encoded) {
      EXPECT_TRUE((c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7')) << c;
    }
    EXPECT_EQ(base32_decode(encoded), raw) << len;
  }
  EXPECT_EQ(base32_decode(base32_encode(all_bytes())), all_bytes());
}

}  // namespace
}  // namespace starling
