// Building FileLayouts in tests: one line per file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "metainfo/file_layout.hpp"

namespace starling::testing {

inline FileEntry entry(std::vector<std::string> path, std::int64_t size, bool pad = false) {
  FileEntry f;
  f.path = std::move(path);
  f.size = size;
  f.pad = pad;
  return f;
}

}  // namespace starling::testing
