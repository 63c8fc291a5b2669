// What a connection has queued to send: message bytes, interleaved with runs of files that a TCP
// stream sends with sendfile(2) straight from the page cache (a seed then copies a block once,
// in the kernel, instead of into our buffer and again into the socket).
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "storage/file_store.hpp"

namespace starling::session {

class Outbox {
 public:
  // A file run goes on the wire after bytes()[0, at).
  struct FileAt {
    std::size_t at;
    FileSlice slice;
  };

  // Messages are encoded by appending here.
  std::string& bytes() { return bytes_; }
  const std::string& bytes() const { return bytes_; }
  void append_file(FileSlice slice) {
    file_bytes_ += static_cast<std::size_t>(slice.length);
    files_.push_back(FileAt{bytes_.size(), std::move(slice)});
  }
  const std::vector<FileAt>& files() const { return files_; }

  std::size_t size() const { return bytes_.size() + file_bytes_; }
  bool empty() const { return bytes_.empty() && files_.empty(); }
  void clear() {
    bytes_.clear();
    files_.clear();  // closes files that only these slices kept open
    file_bytes_ = 0;
  }
  void swap(Outbox& other) noexcept {
    bytes_.swap(other.bytes_);
    files_.swap(other.files_);
    std::swap(file_bytes_, other.file_bytes_);
  }

 private:
  std::string bytes_;
  std::vector<FileAt> files_;
  std::size_t file_bytes_ = 0;
};

}  // namespace starling::session
