#include "tracker/redis_url.hpp"

#include <gtest/gtest.h>

namespace starling::tracker {
namespace {

TEST(RedisUrl, ParsesHostPortDatabaseAndPrefix) {
  auto full = parse_redis_url("redis://10.0.0.5:6380/3?prefix=fleet-a");
  ASSERT_TRUE(full) << full.error().message();
  EXPECT_EQ(full->host, "10.0.0.5");
  EXPECT_EQ(full->port, 6380);
  EXPECT_EQ(full->db, 3);
  EXPECT_EQ(full->prefix, "fleet-a");
  EXPECT_EQ(full->text(), "redis://10.0.0.5:6380/3?prefix=fleet-a");

  auto bare = parse_redis_url("redis://cache.internal");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->host, "cache.internal");
  EXPECT_EQ(bare->port, 6379);
  EXPECT_EQ(bare->db, 0);
  EXPECT_EQ(bare->prefix, "starling");

  auto v6 = parse_redis_url("redis://[::1]:7000/");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 7000);
  EXPECT_EQ(v6->text(), "redis://[::1]:7000/0?prefix=starling");
}

TEST(RedisUrl, ErrorsNameTheUrlAndTheProblem) {
  const struct {
    const char* url;
    const char* why;
  } cases[] = {
      {"memory", "expected redis://"},
      {"http://h:1", "expected redis://"},
      {"rediss://h:1", "TLS"},
      {"redis://", "no host"},
      {"redis://:6379", "no host"},
      {"redis://h:", "empty port"},
      {"redis://h:0", "port '0'"},
      {"redis://h:65536", "port '65536'"},
      {"redis://h:12x", "port '12x'"},
      {"redis://h/x", "database 'x'"},
      {"redis://h/-1", "database '-1'"},
      {"redis://user:pw@h", "passwords"},
      {"redis://[::1", "without ']'"},
      {"redis://[::1]x", "':PORT'"},
      {"redis://[zz]:1", "IPv6"},
      {"redis://h h", "characters"},
      {"redis://h?db=1", "unknown parameter 'db'"},
      {"redis://h?prefix=", "prefix must be"},
      {"redis://h?prefix=a b", "prefix must be"},
  };
  for (const auto& c : cases) {
    auto parsed = parse_redis_url(c.url);
    ASSERT_FALSE(parsed) << c.url;
    const std::string message = parsed.error().message();
    EXPECT_NE(message.find(c.why), std::string::npos) << c.url << ": " << message;
    EXPECT_NE(message.find(std::string("'") + c.url + "'"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace starling::tracker
