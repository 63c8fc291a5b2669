// A one-line progress bar on a terminal's stderr, redrawn in place; silent when not a terminal.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace starling::cli {

class ProgressBar {
 public:
  explicit ProgressBar(std::string label, bool enabled);
  ~ProgressBar();
  void update(std::int64_t done, std::int64_t total);
  void finish();  // clears the line

 private:
  std::string label_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace starling::cli
