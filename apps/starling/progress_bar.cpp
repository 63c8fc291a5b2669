#include "progress_bar.hpp"

#include <fmt/format.h>

#include <cstdio>

#include "cli_common.hpp"

namespace starling::cli {

ProgressBar::ProgressBar(std::string label, bool enabled)
    : label_(std::move(label)), enabled_(enabled) {}

ProgressBar::~ProgressBar() {
  finish();
}

void ProgressBar::update(std::int64_t done, std::int64_t total) {
  if (!enabled_ || total <= 0) return;
  constexpr int kWidth = 30;
  const double fraction = static_cast<double>(done) / static_cast<double>(total);
  const int filled = static_cast<int>(fraction * kWidth);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const auto rate =
      seconds > 0 ? static_cast<std::int64_t>(static_cast<double>(done) / seconds) : 0;
  fmt::print(stderr, "\r{} [{:=<{}}{: <{}}] {:3.0f}%  {} / {}  {}/s\x1b[K", label_, "", filled, "",
             kWidth - filled, fraction * 100, human_size(done), human_size(total),
             human_size(rate));
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressBar::finish() {
  if (!drawn_) return;
  fmt::print(stderr, "\r\x1b[K");
  std::fflush(stderr);
  drawn_ = false;
}

}  // namespace starling::cli
