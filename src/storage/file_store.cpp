#include "storage/file_store.hpp"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace starling {
namespace {

Error errno_error(int err, std::string what) {
  return Error(std::error_code(err, std::generic_category()), std::move(what));
}

}  // namespace

struct FileStore::Handle {
  FileIndex file;
  int fd = -1;
  Handle(FileIndex f, int descriptor) : file(f), fd(descriptor) {}
  ~Handle() { ::close(fd); }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
};

FileStore::FileStore(FileLayout layout, std::filesystem::path download_dir, OpenMode mode,
                     FileStoreSettings settings)
    : layout_(std::move(layout)),
      download_dir_(std::move(download_dir)),
      mode_(mode),
      settings_(settings) {}

FileStore::~FileStore() = default;

void FileStore::close_all() {
  std::lock_guard lock(mutex_);
  open_.clear();
}

Status FileStore::create_empty_files() {
  const auto& files = layout_.files();
  for (std::size_t i = 0; i < files.size(); ++i) {
    if (files[i].size != 0 || files[i].pad) continue;
    auto handle = open(FileIndex(static_cast<std::int32_t>(i)));
    if (!handle) return handle.error();
  }
  return ok();
}

std::string FileStore::describe(FileIndex file) const {
  return layout_.file_path(download_dir_, file).string();
}

std::shared_ptr<FileStore::Handle> FileStore::find_open(FileIndex file) {
  std::lock_guard lock(mutex_);
  auto it =
      std::find_if(open_.begin(), open_.end(), [&](const auto& h) { return h->file == file; });
  return it == open_.end() ? nullptr : *it;
}

Expected<std::shared_ptr<FileStore::Handle>> FileStore::open(FileIndex file) {
  std::lock_guard lock(mutex_);
  auto it =
      std::find_if(open_.begin(), open_.end(), [&](const auto& h) { return h->file == file; });
  if (it != open_.end()) {
    open_.splice(open_.begin(), open_, it);
    return open_.front();
  }
  const auto path = layout_.file_path(download_dir_, file);
  int flags = O_CLOEXEC;
  if (mode_ == OpenMode::read_write) {
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) return Error(ec, path.parent_path().string());
    flags |= O_RDWR | O_CREAT;
  } else {
    flags |= O_RDONLY;
  }
  const int fd = ::open(path.c_str(), flags, 0644);
  if (fd < 0) return errno_error(errno, path.string());
  if (mode_ == OpenMode::read_only) ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  if (mode_ == OpenMode::read_write && settings_.preallocate) {
    // Reserves the blocks (not the size: the file still looks as long as what was written).
    // A full disk shows up here, before any data is received for the file.
    const auto size = static_cast<off_t>(layout_.file(file).size);
    if (size > 0 && ::fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, size) != 0 && errno != EOPNOTSUPP &&
        errno != ENOSYS) {
      const int err = errno;
      ::close(fd);
      return errno_error(err, path.string() + " (reserving " + std::to_string(size) + " bytes)");
    }
  }
  open_.push_front(std::make_shared<Handle>(file, fd));
  if (open_.size() > std::max<std::size_t>(settings_.max_open_files, 1)) open_.pop_back();
  return open_.front();
}

namespace {

// Fills `out` with the bytes at `offset` inside `piece`: padding files as zeros, the rest by
// `read_file(span, dest)`, which returns false to stop (then so does this).
template <class ReadFile>
bool fill(const FileLayout& layout, PieceIndex piece, std::int64_t offset, std::span<char> out,
          ReadFile&& read_file) {
  char* dest = out.data();
  for (const FileSpan& span :
       layout.map_block(piece, offset, static_cast<std::int64_t>(out.size()))) {
    if (layout.file(span.file).pad) {
      std::memset(dest, 0, static_cast<std::size_t>(span.length));
    } else if (!read_file(span, dest)) {
      return false;
    }
    dest += span.length;
  }
  return true;
}

}  // namespace

Status FileStore::read(PieceIndex piece, std::int64_t offset, std::span<char> out) {
  Status status = ok();
  fill(layout_, piece, offset, out, [&](const FileSpan& span, char* dest) {
    auto handle = open(span.file);
    if (!handle) {
      status = handle.error();
      return false;
    }
    const auto length = static_cast<std::size_t>(span.length);
    for (std::size_t done = 0; done < length;) {
      const ssize_t n =
          ::pread((*handle)->fd, dest + done, length - done,
                  static_cast<off_t>(span.file_offset + static_cast<std::int64_t>(done)));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        status = errno_error(errno, describe(span.file));
        return false;
      }
      if (n == 0) {
        status = Error(Errc::io_error, describe(span.file) + " is shorter than the torrent says");
        return false;
      }
      done += static_cast<std::size_t>(n);
    }
    return true;
  });
  return status;
}

bool FileStore::read_cached(PieceIndex piece, std::int64_t offset, std::span<char> out) {
  return fill(layout_, piece, offset, out, [&](const FileSpan& span, char* dest) {
    const auto handle = find_open(span.file);
    if (!handle) return false;
    const auto length = static_cast<std::size_t>(span.length);
    for (std::size_t done = 0; done < length;) {
      iovec iov{dest + done, length - done};
      const ssize_t n = ::preadv2(
          handle->fd, &iov, 1,
          static_cast<off_t>(span.file_offset + static_cast<std::int64_t>(done)), RWF_NOWAIT);
      if (n < 0 && errno == EINTR) continue;
      // EAGAIN: not cached; EOPNOTSUPP: no RWF_NOWAIT here; 0: shorter file, read() says so.
      if (n <= 0) return false;
      done += static_cast<std::size_t>(n);
    }
    return true;
  });
}

Status FileStore::write(PieceIndex piece, std::int64_t offset, std::string_view data) {
  if (mode_ != OpenMode::read_write) {
    return Error(Errc::io_error, "storage for " + download_dir_.string() + " is read-only");
  }
  const char* src = data.data();
  for (const FileSpan& span :
       layout_.map_block(piece, offset, static_cast<std::int64_t>(data.size()))) {
    const auto length = static_cast<std::size_t>(span.length);
    if (!layout_.file(span.file).pad) {
      auto handle = open(span.file);
      if (!handle) return handle.error();
      std::size_t done = 0;
      while (done < length) {
        const ssize_t n =
            ::pwrite((*handle)->fd, src + done, length - done,
                     static_cast<off_t>(span.file_offset + static_cast<std::int64_t>(done)));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno_error(errno, describe(span.file));
        done += static_cast<std::size_t>(n);
      }
    }
    src += length;
  }
  return ok();
}

}  // namespace starling
