#include "tracker/url_query.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

namespace starling::tracker {
namespace {

TEST(UrlQuery, PercentEncodesAllButUnreserved) {
  std::string out;
  append_percent_encoded(out, std::string_view("aZ0-._~ +/\x00\xff", 12));
  EXPECT_EQ(out, "aZ0-._~%20%2B%2F%00%FF");
}

TEST(UrlQuery, PercentDecodeRoundTripsEveryByte) {
  std::string raw;
  for (int i = 0; i < 256; ++i) raw.push_back(static_cast<char>(i));
  std::string encoded;
  append_percent_encoded(encoded, raw);
  std::array<std::uint8_t, 256> out{};
  ASSERT_EQ(percent_decode(encoded, out), 256);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(out.data()), 256), raw);
}

TEST(UrlQuery, PercentDecodeAcceptsLowercaseAndLiteralPlus) {
  std::array<std::uint8_t, 8> out{};
  ASSERT_EQ(percent_decode("%ab+c", out), 3);
  EXPECT_EQ(out[0], 0xab);
  EXPECT_EQ(out[1], '+');
  EXPECT_EQ(out[2], 'c');
}

TEST(UrlQuery, PercentDecodeRejectsBadEscapesAndOverflow) {
  std::array<std::uint8_t, 4> out{};
  EXPECT_EQ(percent_decode("%", out), -1);
  EXPECT_EQ(percent_decode("%4", out), -1);
  EXPECT_EQ(percent_decode("%zz", out), -1);
  EXPECT_EQ(percent_decode("abcde", out), -2);
  EXPECT_EQ(percent_decode("abcd", out), 4);
}

TEST(UrlQuery, IteratesParamsWithOffsets) {
  std::vector<std::string> seen;
  const bool all = for_each_query_param("a=1&&b&c=x=y", [&](auto k, auto v, std::size_t at) {
    seen.push_back(std::string(k) + "|" + std::string(v) + "|" + std::to_string(at));
    return true;
  });
  EXPECT_TRUE(all);
  EXPECT_EQ(seen, (std::vector<std::string>{"a|1|0", "b||5", "c|x=y|7"}));
  EXPECT_FALSE(for_each_query_param("a=1&b=2", [](auto, auto, std::size_t) { return false; }));
}

}  // namespace
}  // namespace starling::tracker
