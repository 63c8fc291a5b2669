// Prometheus text exposition format (version 0.0.4): one HELP and TYPE line per metric family,
// then its samples, label values escaped. Used by the daemon's and the tracker's /metrics.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace starling {

inline constexpr std::string_view kPrometheusContentType =
    "text/plain; version=0.0.4; charset=utf-8";

using Labels = std::vector<std::pair<std::string, std::string>>;

class PrometheusText {
 public:
  // Starts a family; `type` is counter, gauge, histogram or untyped. Counter names end in _total.
  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(std::string_view name, const Labels& labels, double value);
  void sample(std::string_view name, const Labels& labels, std::int64_t value);
  void sample(std::string_view name, std::int64_t value) { sample(name, {}, value); }
  // A whole histogram family: cumulative bucket counts for each upper bound, +Inf, _sum, _count.
  void histogram(std::string_view name, std::string_view help, const std::vector<double>& bounds,
                 const std::vector<std::uint64_t>& counts_per_bucket, double sum);

  const std::string& text() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void labels(const Labels& labels);
  std::string out_;
};

// A label value with \, " and newline escaped.
std::string escape_label_value(std::string_view value);

}  // namespace starling
