#include "rpc/base64.hpp"

#include <gtest/gtest.h>

namespace starling::rpc {
namespace {

TEST(Base64, Rfc4648Vectors) {
  const std::pair<std::string, std::string> vectors[] = {{"", ""},
                                                         {"f", "Zg=="},
                                                         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="},
                                                         {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [raw, encoded] : vectors) {
    EXPECT_EQ(base64_encode(raw), encoded);
    EXPECT_EQ(base64_decode(encoded), raw);
  }
}

TEST(Base64, BinaryRoundTripAndLenientWhitespace) {
  std::string raw;
  for (int i = 0; i < 256; ++i) raw += static_cast<char>(i);
  const std::string encoded = base64_encode(raw);
  EXPECT_EQ(base64_decode(encoded), raw);
  std::string wrapped = encoded.substr(0, 76) + "\r\n" + encoded.substr(76);
  EXPECT_EQ(base64_decode(wrapped), raw);
  EXPECT_EQ(base64_decode("Zm9vYg"), "foob");  // unpadded
}

TEST(Base64, RejectsMalformedInput) {
  EXPECT_FALSE(base64_decode("Zm9v!"));
  EXPECT_FALSE(base64_decode("Z"));
  EXPECT_FALSE(base64_decode("Zg=a"));
  EXPECT_FALSE(base64_decode("Zg==="));
  EXPECT_FALSE(base64_decode("Zm9=v"));
}

}  // namespace
}  // namespace starling::rpc
