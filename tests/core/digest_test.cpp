#include "core/digest.hpp"

#include <gtest/gtest.h>

#include <string>
#include <type_traits>
#include <utility>

namespace starling {
namespace {

static_assert(Sha1Digest::size == 20);
static_assert(Sha256Digest::size == 32);
static_assert(!std::is_same_v<Sha1Digest, Sha256Digest>);
static_assert(!std::is_copy_constructible_v<Sha1Hasher>);
static_assert(std::is_nothrow_move_constructible_v<Sha1Hasher>);

constexpr std::string_view kNist448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

TEST(Sha1, KnownVectors) {
  EXPECT_EQ(sha1("abc").hex(), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(sha1("").hex(), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(sha1(kNist448).hex(), "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  EXPECT_EQ(sha1("The quick brown fox jumps over the lazy dog").hex(),
            "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12");
  EXPECT_EQ(sha1(std::string(1'000'000, 'a')).hex(), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256("abc").hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256("").hex(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256(kNist448).hex(),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256(std::string(1'000'000, 'a')).hex(),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha1, BinaryInputWithNulBytes) {
  const std::string with_nul("a\0b", 3);
  EXPECT_NE(sha1(with_nul), sha1("a"));
  EXPECT_NE(sha1(with_nul), sha1("ab"));
}

template <class HasherT, class Fn>
void check_incremental(Fn one_shot) {
  std::string data;
  for (int i = 0; i < 1000; ++i) data.push_back(static_cast<char>((i * 131 + 7) & 0xff));
  const auto expected = one_shot(data);
  // Every split point, plus byte-at-a-time and chunked updates crossing block boundaries.
  for (std::size_t split = 0; split <= 130; ++split) {
    HasherT h;
    h.update(std::string_view(data).substr(0, split));
    h.update(std::string_view(data).substr(split));
    EXPECT_EQ(h.finish(), expected) << split;
  }
  HasherT bytewise;
  for (char c : data) bytewise.update(&c, 1);
  EXPECT_EQ(bytewise.finish(), expected);
  for (std::size_t chunk : {3u, 63u, 64u, 65u, 128u, 999u}) {
    HasherT h;
    for (std::size_t at = 0; at < data.size(); at += chunk) {
      h.update(std::string_view(data).substr(at, chunk));
    }
    EXPECT_EQ(h.finish(), expected) << chunk;
  }
  HasherT with_empty;
  with_empty.update("");
  with_empty.update(data);
  with_empty.update(nullptr, 0);
  EXPECT_EQ(with_empty.finish(), expected);
}

TEST(Sha1Hasher, IncrementalEqualsOneShot) {
  check_incremental<Sha1Hasher>([](std::string_view d) { return sha1(d); });
  Sha1Hasher h;
  h.update("a");
  h.update("b");
  h.update("c");
  EXPECT_EQ(h.finish().hex(), "a9993e364706816aba3e25717850c26c9cd0d89d");
}

TEST(Sha256Hasher, IncrementalEqualsOneShot) {
  check_incremental<Sha256Hasher>([](std::string_view d) { return sha256(d); });
  Sha256Hasher h;
  h.update("ab");
  h.update("c");
  EXPECT_EQ(h.finish().hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Hasher, EmptyInputAndReuseAfterFinish) {
  Sha1Hasher h;
  EXPECT_EQ(h.finish(), sha1(""));
  h.update("abc");
  EXPECT_EQ(h.finish(), sha1("abc"));
  // finish() reset the state: nothing of "abc" carries over.
  h.update("abc");
  EXPECT_EQ(h.finish(), sha1("abc"));
  EXPECT_EQ(h.finish(), sha1(""));

  Sha256Hasher h256;
  h256.update("abc");
  EXPECT_EQ(h256.finish(), sha256("abc"));
  EXPECT_EQ(h256.finish(), sha256(""));
}

TEST(Hasher, MovesKeepTheState) {
  Sha1Hasher a;
  a.update("ab");
  Sha1Hasher b(std::move(a));
  b.update("c");
  EXPECT_EQ(b.finish(), sha1("abc"));

  Sha256Hasher c;
  c.update("a");
  Sha256Hasher d;
  d.update("zzz");
  d = std::move(c);
  d.update("bc");
  EXPECT_EQ(d.finish(), sha256("abc"));
}

TEST(Digest, HexRoundTrip) {
  const Sha1Digest d = sha1("abc");
  EXPECT_EQ(Sha1Digest::from_hex(d.hex()), d);
  EXPECT_EQ(Sha1Digest::from_hex("A9993E364706816ABA3E25717850C26C9CD0D89D"), d);
  EXPECT_EQ(Sha1Digest::from_hex("A9993e364706816aba3e25717850c26c9cd0d89D"), d);
  const Sha256Digest d256 = sha256("abc");
  EXPECT_EQ(Sha256Digest::from_hex(d256.hex()), d256);
  EXPECT_EQ(d256.hex().size(), 64u);
}

TEST(Digest, FromHexRejectsWrongLengthAndBadDigits) {
  const std::string good = sha1("abc").hex();
  EXPECT_FALSE(Sha1Digest::from_hex(""));
  EXPECT_FALSE(Sha1Digest::from_hex(good.substr(0, 39)));
  EXPECT_FALSE(Sha1Digest::from_hex(good.substr(0, 38)));
  EXPECT_FALSE(Sha1Digest::from_hex(good + "0"));
  EXPECT_FALSE(Sha1Digest::from_hex(good + "00"));
  EXPECT_FALSE(Sha256Digest::from_hex(good));  // a SHA-1 is not a SHA-256
  std::string bad = good;
  bad[17] = 'g';
  EXPECT_FALSE(Sha1Digest::from_hex(bad));
  bad[17] = ' ';
  EXPECT_FALSE(Sha1Digest::from_hex(bad));
  EXPECT_FALSE(Sha1Digest::from_hex(std::string(40, 'x')));
}

TEST(Digest, FromBytes) {
  std::string raw;
  for (int i = 0; i < 20; ++i) raw.push_back(static_cast<char>(0xf0 ^ i));
  auto d = Sha1Digest::from_bytes(raw);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->view(), raw);
  EXPECT_EQ(d->bytes[0], 0xf0);
  EXPECT_EQ(d->bytes[19], 0xf0 ^ 19);
  EXPECT_EQ(d->hex(), "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeffe0e1e2e3");
  EXPECT_FALSE(Sha1Digest::from_bytes(raw.substr(0, 19)));
  EXPECT_FALSE(Sha1Digest::from_bytes(raw + "x"));
  EXPECT_FALSE(Sha1Digest::from_bytes(""));
  EXPECT_FALSE(Sha256Digest::from_bytes(raw));
  EXPECT_TRUE(Sha256Digest::from_bytes(std::string(32, '\0')));
  EXPECT_EQ(Sha1Digest::from_bytes(sha1("x").view()), sha1("x"));
}

TEST(Digest, DefaultIsZeroAndOrderingIsBytewise) {
  const Sha1Digest zero;
  EXPECT_EQ(zero.hex(), std::string(40, '0'));
  EXPECT_EQ(zero.view(), std::string(20, '\0'));
  auto low = *Sha1Digest::from_hex("00000000000000000000000000000000000000ff");
  auto high = *Sha1Digest::from_hex("0100000000000000000000000000000000000000");
  auto top = *Sha1Digest::from_hex("ff00000000000000000000000000000000000000");
  EXPECT_LT(zero, low);
  EXPECT_LT(low, high);
  EXPECT_LT(high, top);  // bytes compare unsigned
  EXPECT_NE(low, high);
  EXPECT_EQ(low, *Sha1Digest::from_hex("00000000000000000000000000000000000000FF"));
}

}  // namespace
}  // namespace starling
