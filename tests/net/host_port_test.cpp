#include "net/host_port.hpp"

#include <gtest/gtest.h>

namespace starling::net {
namespace {

TEST(HostPort, ParsesIpv4Ipv6AndShortForms) {
  auto v4 = parse_host_port("10.0.0.7:6881");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->address.to_string(), "10.0.0.7");
  EXPECT_EQ(v4->port, 6881);
  auto v6 = parse_host_port("[::1]:80");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->address.is_v6());
  EXPECT_EQ(v6->port, 80);
  auto any = parse_host_port(":9091");
  ASSERT_TRUE(any);
  EXPECT_EQ(any->address.to_string(), "0.0.0.0");
  auto local = parse_host_port("localhost:1");
  ASSERT_TRUE(local);
  EXPECT_EQ(local->address.to_string(), "127.0.0.1");
}

TEST(HostPort, RejectsWhatIsNotAHostAndPort) {
  for (const char* bad : {"", "1.2.3.4", "1.2.3.4:", "1.2.3.4:65536", "1.2.3.4:80x", "1.2.3.4:-1",
                          "example.org:80", "[::1]:99999", "::1"}) {
    EXPECT_FALSE(parse_host_port(bad)) << bad;
  }
}

TEST(HostPort, FormatsWithBracketsForIpv6) {
  EXPECT_EQ(format_endpoint(boost::asio::ip::make_address("127.0.0.1"), 80), "127.0.0.1:80");
  EXPECT_EQ(format_endpoint(boost::asio::ip::make_address("::1"), 443), "[::1]:443");
}

}  // namespace
}  // namespace starling::net
