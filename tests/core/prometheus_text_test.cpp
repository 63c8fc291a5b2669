#include "core/prometheus_text.hpp"

#include <gtest/gtest.h>

namespace starling {
namespace {

TEST(PrometheusText, FamiliesSamplesAndEscaping) {
  PrometheusText out;
  out.family("x_bytes_total", "counter", "Bytes.\nSecond line \\ here");
  out.sample("x_bytes_total", {{"dir", "up"}, {"name", "a\"b\\c\nd"}}, std::int64_t{42});
  out.sample("x_ratio", {}, 0.5);
  EXPECT_EQ(out.text(),
            "# HELP x_bytes_total Bytes.\\nSecond line \\\\ here\n"
            "# TYPE x_bytes_total counter\n"
            "x_bytes_total{dir=\"up\",name=\"a\\\"b\\\\c\\nd\"} 42\n"
            "x_ratio 0.5\n");
}

TEST(PrometheusText, HistogramIsCumulative) {
  PrometheusText out;
  out.histogram("t_seconds", "Time.", {0.001, 0.01}, {3, 2, 1}, 0.25);
  EXPECT_EQ(out.text(),
            "# HELP t_seconds Time.\n# TYPE t_seconds histogram\n"
            "t_seconds_bucket{le=\"0.001\"} 3\nt_seconds_bucket{le=\"0.01\"} 5\n"
            "t_seconds_bucket{le=\"+Inf\"} 6\nt_seconds_sum 0.25\nt_seconds_count 6\n");
}

}  // namespace
}  // namespace starling
