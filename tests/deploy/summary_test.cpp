#include "deploy/summary.hpp"

#include <gtest/gtest.h>

namespace starling::deploy {
namespace {

TEST(Percentile, InterpolatesBetweenRanks) {
  EXPECT_DOUBLE_EQ(percentile({}, 50), 0);
  EXPECT_DOUBLE_EQ(percentile({7}, 99), 7);
  EXPECT_DOUBLE_EQ(percentile({4, 1, 3, 2}, 50), 2.5);
  EXPECT_DOUBLE_EQ(percentile({1, 2, 3, 4, 5}, 50), 3);
  EXPECT_DOUBLE_EQ(percentile({1, 2, 3, 4, 5}, 100), 5);
  EXPECT_DOUBLE_EQ(percentile({1, 2, 3, 4, 5}, 0), 1);
  EXPECT_DOUBLE_EQ(percentile({0, 10}, 99), 9.9);
}

TEST(TMin, TakesTheTightestOfTheThreeBounds) {
  const double mib = 1 << 20;
  // 12 hosts at 100 Mbit/s both ways, origin 100 Mbit/s, 64 MiB: the per-host download bound.
  const double link = 100e6 / 8;
  Capacities caps{.origin_up = link,
                  .down = std::vector<double>(12, link),
                  .up = std::vector<double>(12, link)};
  EXPECT_NEAR(t_min(64 * mib, caps), 64 * mib / link, 1e-9);
  // Hosts that cannot upload: the origin sends every copy.
  caps.up.assign(12, 0);
  EXPECT_NEAR(t_min(64 * mib, caps), 12 * 64 * mib / link, 1e-9);
  // A slow origin.
  Capacities slow{.origin_up = link / 10, .down = {link}, .up = {link}};
  EXPECT_NEAR(t_min(mib, slow), mib / (link / 10), 1e-9);
  // A slow host.
  Capacities one_slow{.origin_up = link, .down = {link, link / 4}, .up = {link, link}};
  EXPECT_NEAR(t_min(mib, one_slow), mib / (link / 4), 1e-9);
  EXPECT_DOUBLE_EQ(t_min(mib, Capacities{}), 0);
}

TEST(LinkRate, BitsAndBytes) {
  EXPECT_DOUBLE_EQ(*parse_link_rate("100mbit"), 12.5e6);
  EXPECT_DOUBLE_EQ(*parse_link_rate("1gbit"), 125e6);
  EXPECT_DOUBLE_EQ(*parse_link_rate("800kbit"), 1e5);
  EXPECT_DOUBLE_EQ(*parse_link_rate("2m"), 2.0 * 1024 * 1024);
  EXPECT_DOUBLE_EQ(*parse_link_rate("1.5k"), 1536);
  EXPECT_DOUBLE_EQ(*parse_link_rate("42"), 42);
  EXPECT_FALSE(parse_link_rate("fast"));
  EXPECT_FALSE(parse_link_rate("10furlongs"));
  EXPECT_FALSE(parse_link_rate("-1m"));
}

}  // namespace
}  // namespace starling::deploy
