#include "storage/content_reader.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace starling {

ContentReader::ContentReader(const FileLayout& layout, std::filesystem::path download_dir)
    : layout_(layout), download_dir_(std::move(download_dir)) {}

ContentReader::~ContentReader() {
  for (const auto& f : open_) ::close(f.fd);
}

Expected<int> ContentReader::open_file(FileIndex file) {
  auto it =
      std::find_if(open_.begin(), open_.end(), [&](const OpenFile& f) { return f.file == file; });
  if (it != open_.end()) {
    std::rotate(it, it + 1, open_.end());
    return open_.back().fd;
  }
  const auto path = layout_.file_path(download_dir_, file);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error(std::error_code(errno, std::generic_category()), path.string());
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  if (open_.size() == kMaxOpenFiles) {
    ::close(open_.front().fd);
    open_.erase(open_.begin());
  }
  open_.push_back(OpenFile{file, fd});
  return fd;
}

Status ContentReader::read(PieceIndex piece, std::int64_t offset, std::span<char> out) {
  char* dest = out.data();
  for (const FileSpan& span :
       layout_.map_block(piece, offset, static_cast<std::int64_t>(out.size()))) {
    const auto length = static_cast<std::size_t>(span.length);
    if (layout_.file(span.file).pad) {
      std::memset(dest, 0, length);
      dest += length;
      continue;
    }
    auto fd = open_file(span.file);
    if (!fd) return fd.error();
    std::size_t done = 0;
    while (done < length) {
      const ssize_t n = ::pread(*fd, dest + done, length - done,
                                static_cast<off_t>(span.file_offset) + static_cast<off_t>(done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        return Error(std::error_code(errno, std::generic_category()),
                     layout_.file_path(download_dir_, span.file).string());
      }
      if (n == 0) {
        return Error(Errc::io_error, layout_.file_path(download_dir_, span.file).string() +
                                         " is shorter than the torrent says");
      }
      done += static_cast<std::size_t>(n);
    }
    dest += length;
  }
  return ok();
}

}  // namespace starling
