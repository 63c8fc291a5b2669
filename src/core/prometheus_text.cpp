#include "core/prometheus_text.hpp"

#include <fmt/format.h>

#include <cmath>

namespace starling {

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void PrometheusText::family(std::string_view name, std::string_view type, std::string_view help) {
  out_ += fmt::format("# HELP {} ", name);
  // HELP text escapes only \ and newline.
  for (char c : help) {
    if (c == '\\') {
      out_ += "\\\\";
    } else if (c == '\n') {
      out_ += "\\n";
    } else {
      out_ += c;
    }
  }
  out_ += fmt::format("\n# TYPE {} {}\n", name, type);
}

void PrometheusText::labels(const Labels& labels) {
  if (labels.empty()) return;
  out_ += '{';
  bool first = true;
  for (const auto& [key, value] : labels) {
    if (!first) out_ += ',';
    first = false;
    out_ += key;
    out_ += "=\"";
    out_ += escape_label_value(value);
    out_ += '"';
  }
  out_ += '}';
}

void PrometheusText::sample(std::string_view name, const Labels& l, double value) {
  out_ += name;
  labels(l);
  if (std::isnan(value)) {
    out_ += " NaN\n";
  } else if (std::isinf(value)) {
    out_ += value > 0 ? " +Inf\n" : " -Inf\n";
  } else {
    out_ += fmt::format(" {}\n", value);
  }
}

void PrometheusText::sample(std::string_view name, const Labels& l, std::int64_t value) {
  out_ += name;
  labels(l);
  out_ += fmt::format(" {}\n", value);
}

void PrometheusText::histogram(std::string_view name, std::string_view help,
                               const std::vector<double>& bounds,
                               const std::vector<std::uint64_t>& counts_per_bucket, double sum) {
  family(name, "histogram", help);
  std::uint64_t cumulative = 0;
  const std::string bucket = std::string(name) + "_bucket";
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    cumulative += i < counts_per_bucket.size() ? counts_per_bucket[i] : 0;
    sample(bucket, {{"le", fmt::format("{}", bounds[i])}}, static_cast<std::int64_t>(cumulative));
  }
  // The last slot of counts_per_bucket (when present) holds observations above every bound.
  if (counts_per_bucket.size() > bounds.size()) cumulative += counts_per_bucket[bounds.size()];
  sample(bucket, {{"le", "+Inf"}}, static_cast<std::int64_t>(cumulative));
  sample(std::string(name) + "_sum", {}, sum);
  sample(std::string(name) + "_count", {}, static_cast<std::int64_t>(cumulative));
}

}  // namespace starling
