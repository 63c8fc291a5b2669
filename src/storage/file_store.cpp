#include "storage/file_store.hpp"

#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>

namespace starling {
namespace {

Error errno_error(int err, std::string what) {
  return Error(std::error_code(err, std::generic_category()), std::move(what));
}

// Writes all `length` bytes at `offset`; 0 or the errno of the failure.
int write_all(int fd, const char* data, std::size_t length, std::int64_t offset) {
  for (std::size_t done = 0; done < length;) {
    const ssize_t n = ::pwrite(fd, data + done, length - done,
                               static_cast<off_t>(offset + static_cast<std::int64_t>(done)));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    done += static_cast<std::size_t>(n);
  }
  return 0;
}

}  // namespace

struct FileStore::Handle {
  FileIndex file;
  int fd = -1;
  // The same file opened with O_DIRECT, or -1 when direct I/O is off or refused.
  int direct_fd = -1;
  // Cleared when a direct write is refused at run time (EINVAL): ordinary writes from then on.
  std::atomic<bool> direct_usable{false};
  // Held around each write through the page cache. The kernel lets one such write into a file at
  // a time anyway (the inode lock), and a second writer spins on that lock for as long as the
  // first one copies (~40 µs for 128 KiB): with 2 disk threads that was 5 % of a download's
  // CPU, and at times the download ran at half speed. Waiting here sleeps instead.
  std::mutex write_lock;
  Handle(FileIndex f, int descriptor, int direct_descriptor)
      : file(f), fd(descriptor), direct_fd(direct_descriptor), direct_usable(direct_fd >= 0) {}
  ~Handle() {
    ::close(fd);
    if (direct_fd >= 0) ::close(direct_fd);
  }
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
  // A filesystem without O_DIRECT (EINVAL) leaves -1: ordinary writes then.
  const int direct_fd = direct_io() ? ::open(path.c_str(), O_RDWR | O_DIRECT | O_CLOEXEC) : -1;
  open_.push_front(std::make_shared<Handle>(file, fd, direct_fd));
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

namespace {

// cachestat(2), Linux 6.5 (not yet in every libc's headers; the number is the same everywhere).
struct CachestatRange {
  std::uint64_t offset;
  std::uint64_t length;
};
struct Cachestat {
  std::uint64_t nr_cache;
  std::uint64_t nr_dirty;
  std::uint64_t nr_writeback;
  std::uint64_t nr_evicted;
  std::uint64_t nr_recently_evicted;
};
constexpr long kSysCachestat = 451;
std::atomic<bool> cachestat_missing{false};

// Whether every page of [offset, offset + length) of `fd` is in the page cache.
bool all_cached(int fd, std::int64_t offset, std::int64_t length) {
  if (cachestat_missing.load(std::memory_order_relaxed)) return false;
  constexpr std::int64_t kPage = 4096;
  CachestatRange range{static_cast<std::uint64_t>(offset), static_cast<std::uint64_t>(length)};
  Cachestat stat{};
  if (::syscall(kSysCachestat, fd, &range, &stat, 0) != 0) {
    if (errno == ENOSYS || errno == EPERM) cachestat_missing.store(true, std::memory_order_relaxed);
    return false;
  }
  const std::int64_t pages = (offset + length - 1) / kPage - offset / kPage + 1;
  return stat.nr_cache >= static_cast<std::uint64_t>(pages);
}

}  // namespace

bool FileStore::cached_slices(PieceIndex piece, std::int64_t offset, std::int64_t length,
                              std::vector<FileSlice>& out) {
  const std::size_t size_before = out.size();
  for (const FileSpan& span : layout_.map_block(piece, offset, length)) {
    auto handle = layout_.file(span.file).pad ? nullptr : find_open(span.file);
    if (!handle || !all_cached(handle->fd, span.file_offset, span.length)) {
      out.resize(size_before);
      return false;
    }
    const int fd = handle->fd;
    out.push_back(FileSlice{std::move(handle), fd, span.file_offset, span.length});
  }
  return true;
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
      const std::lock_guard lock((*handle)->write_lock);
      if (int err = write_all((*handle)->fd, src, length, span.file_offset); err != 0) {
        return errno_error(err, describe(span.file));
      }
    }
    src += length;
  }
  return ok();
}

Status FileStore::write_piece(PieceIndex piece, std::span<const char> data) {
  if (!direct_io()) return write(piece, 0, std::string_view(data.data(), data.size()));
  constexpr auto kAlign = static_cast<std::int64_t>(kDirectIoAlignment);
  const char* src = data.data();
  for (const FileSpan& span : layout_.map_block(piece, 0, static_cast<std::int64_t>(data.size()))) {
    if (!layout_.file(span.file).pad) {
      auto opened = open(span.file);
      if (!opened) return opened.error();
      Handle& handle = **opened;
      // [head: up to the first page boundary of the file][middle: whole pages][tail: the rest]
      std::int64_t head = std::min((kAlign - span.file_offset % kAlign) % kAlign, span.length);
      std::int64_t middle = (span.length - head) / kAlign * kAlign;
      const bool memory_aligned = reinterpret_cast<std::uintptr_t>(src + head) % kAlign == 0;
      if (!memory_aligned || !handle.direct_usable.load(std::memory_order_relaxed)) {
        head = span.length;  // all of it with ordinary writes
        middle = 0;
      }
      const std::int64_t tail_at = head + middle;
      int err = write_all(handle.fd, src, static_cast<std::size_t>(head), span.file_offset);
      if (err == 0 && middle > 0) {
        err = write_all(handle.direct_fd, src + head, static_cast<std::size_t>(middle),
                        span.file_offset + head);
        if (err == EINVAL) {  // refused after all (alignment rules of this filesystem)
          handle.direct_usable.store(false, std::memory_order_relaxed);
          err = write_all(handle.fd, src + head, static_cast<std::size_t>(middle),
                          span.file_offset + head);
        }
      }
      if (err == 0) {
        err = write_all(handle.fd, src + tail_at, static_cast<std::size_t>(span.length - tail_at),
                        span.file_offset + tail_at);
      }
      if (err != 0) return errno_error(err, describe(span.file));
    }
    src += span.length;
  }
  return ok();
}

}  // namespace starling
