// Stands in for a full disk in unit tests: while one of these lives, writing past `bytes` into any
// file fails with EFBIG (instead of ENOSPC) and SIGXFSZ is ignored.
#pragma once

#include <sys/resource.h>

#include <csignal>
#include <cstdint>

namespace starling::testing {

class FileSizeLimit {
 public:
  explicit FileSizeLimit(std::uint64_t bytes) {
    ::getrlimit(RLIMIT_FSIZE, &old_);
    rlimit small = old_;
    small.rlim_cur = bytes;
    previous_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    ::setrlimit(RLIMIT_FSIZE, &small);
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &old_);
    std::signal(SIGXFSZ, previous_handler_);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

 private:
  rlimit old_{};
  void (*previous_handler_)(int) = nullptr;
};

}  // namespace starling::testing
