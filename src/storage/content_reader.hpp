// Reads a torrent's byte stream from the files below a download directory with pread, keeping a
// few files open. One reader per thread: it is not shared.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

#include "core/expected.hpp"
#include "metainfo/file_layout.hpp"

namespace starling {

class ContentReader {
 public:
  ContentReader(const FileLayout& layout, std::filesystem::path download_dir);
  ~ContentReader();
  ContentReader(const ContentReader&) = delete;
  ContentReader& operator=(const ContentReader&) = delete;

  // Fills `out` with the bytes at `offset` inside `piece`. Padding files read as zeros. Fails,
  // naming the file, when a file is missing, unreadable or shorter than the torrent says.
  Status read(PieceIndex piece, std::int64_t offset, std::span<char> out);

 private:
  Expected<int> open_file(FileIndex file);

  struct OpenFile {
    FileIndex file;
    int fd = -1;
  };
  static constexpr std::size_t kMaxOpenFiles = 8;

  const FileLayout& layout_;
  std::filesystem::path download_dir_;
  std::vector<OpenFile> open_;  // most recently used last
};

}  // namespace starling
