#include "deploy/hosts_file.hpp"

#include <gtest/gtest.h>

namespace starling::deploy {
namespace {

TEST(HostsFile, ParsesHostsRacksAndComments) {
  auto hosts = parse_hosts(
      "# fleet\n"
      "10.0.0.1:7000 rack-a\n"
      "\n"
      "  web2.example:7000\track-b   # second\n"
      "[::1]:7001\n"
      "10.0.0.4:7000 r1\r\n");
  ASSERT_TRUE(hosts) << hosts.error().message();
  ASSERT_EQ(hosts->size(), 4U);
  EXPECT_EQ((*hosts)[0], (HostEntry{"10.0.0.1", 7000, "rack-a", 2}));
  EXPECT_EQ((*hosts)[1], (HostEntry{"web2.example", 7000, "rack-b", 4}));
  EXPECT_EQ((*hosts)[2].host, "::1");
  EXPECT_EQ((*hosts)[2].address(), "[::1]:7001");
  EXPECT_EQ((*hosts)[2].rack, "");
  EXPECT_EQ((*hosts)[3].rack, "r1");
  EXPECT_EQ((*hosts)[3].line, 6);
}

void expect_error(std::string_view text, const std::string& needle) {
  auto hosts = parse_hosts(text);
  ASSERT_FALSE(hosts) << text;
  EXPECT_NE(hosts.error().message().find(needle), std::string::npos)
      << hosts.error().message() << " lacks " << needle;
}

TEST(HostsFile, ErrorsNameTheLine) {
  expect_error("a:1\nb\n", "line 2: expected HOST:PORT");
  expect_error("a:0\n", "line 1: port '0' is not a number from 1 to 65535");
  expect_error("a:70000\n", "line 1: port '70000'");
  expect_error("a:12x\n", "port '12x'");
  expect_error("a:1 r x\n", "found more: 'x'");
  expect_error("a:1\n\na:1 r\n", "line 3: a:1 is listed twice");
  expect_error("[::1:1\n", "expected [IPV6]:PORT");
  expect_error("[zz]:1\n", "not an IPv6 address");
  expect_error(":1\n", "empty host");
  expect_error("a/b:1\n", "host 'a/b' may hold only");
  expect_error("a:1 r$\n", "rack 'r$' may hold only");
  expect_error("# nothing\n\n", "no hosts listed");
  expect_error(std::string(2000, 'a') + ":1\n", "line 1: longer than");
}

TEST(HostsFile, LimitsTheNumberOfHosts) {
  std::string text;
  for (int i = 1; i <= 5; ++i) text += "h" + std::to_string(i) + ":1\n";
  auto hosts = parse_hosts(text, HostsLimits{.max_hosts = 4});
  ASSERT_FALSE(hosts);
  EXPECT_NE(hosts.error().message().find("line 5: more than 4 hosts"), std::string::npos);
}

TEST(HostsFile, LastLineWithoutNewline) {
  auto hosts = parse_hosts("a:1\nb:2");
  ASSERT_TRUE(hosts);
  EXPECT_EQ(hosts->size(), 2U);
}

}  // namespace
}  // namespace starling::deploy
