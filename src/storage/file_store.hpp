// A torrent's files below a download directory, read and written by piece and offset with
// pread/pwrite (no mmap, so memory does not grow with the file). Safe to share between the disk
// threads: open files live in a small LRU cache, and a file evicted while another thread uses it
// is closed only when that thread is done with it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <list>
#include <memory>
#include <mutex>
#include <span>
#include <string_view>
#include <vector>

#include "core/expected.hpp"
#include "metainfo/file_layout.hpp"

namespace starling {

enum class OpenMode { read_only, read_write };

// What direct I/O needs aligned: file offsets, lengths and memory. A page covers the logical
// block size of every common block device.
inline constexpr std::size_t kDirectIoAlignment = 4096;

// A run of one open file, as sendfile(2) wants it; `keep_open` keeps the descriptor open.
struct FileSlice {
  std::shared_ptr<const void> keep_open;
  int fd = -1;
  std::int64_t offset = 0;
  std::int64_t length = 0;
};

struct FileStoreSettings {
  std::size_t max_open_files = 64;  // descriptors kept open at once (LRU)
  // Reserve a file's blocks when it is first opened for writing (fallocate, keeping its size):
  // the filesystem lays it out in a few extents instead of allocating on every write (cheaper:
  // about a tenth of a leecher's CPU here), and a full disk fails early with the file's name.
  bool preallocate = true;
  // write_piece() sends the page-aligned part of a piece to the disk with O_DIRECT: the bytes go
  // from our buffer to the device, skipping the copy into the page cache and its bookkeeping,
  // but each write then waits for the device. Off by default: on this project's test machine a
  // 1 GiB download over loopback took 1.44 s with it and 0.81 s through the page cache (whose
  // copy cost ~5 % more CPU; docs/BENCHMARKS.md). Files whose filesystem refuses O_DIRECT get
  // ordinary writes.
  bool direct_io = false;
};

class FileStore {
 public:
  FileStore(FileLayout layout, std::filesystem::path download_dir, OpenMode mode,
            FileStoreSettings settings = {});
  ~FileStore();
  FileStore(const FileStore&) = delete;
  FileStore& operator=(const FileStore&) = delete;

  // Fills `out` with the bytes at `offset` inside `piece`; padding files read as zeros. Fails,
  // naming the file, when a file is missing, unreadable or shorter than the torrent says.
  Status read(PieceIndex piece, std::int64_t offset, std::span<char> out);
  // Like read(), but never waits for a disk: reads only from files already open and only what
  // is in the page cache (preadv2 with RWF_NOWAIT). True when `out` was filled; false when some
  // of it would need the disk (or the kernel cannot tell), so the caller reads on a disk thread.
  // For the network thread: a seed serves most blocks with no thread hand-off and no extra copy.
  bool read_cached(PieceIndex piece, std::int64_t offset, std::span<char> out);
  // Like read_cached(), but instead of copying the bytes, appends to `out` the file runs that hold
  // them, for sendfile(2). False (and `out` as it was) when a file is not open, a run is padding,
  // or some page is not in the page cache (cachestat(2); also false where the kernel lacks it).
  bool cached_slices(PieceIndex piece, std::int64_t offset, std::int64_t length,
                     std::vector<FileSlice>& out);
  // Writes `data` at `offset` inside `piece`, creating folders and (sparse) files as needed;
  // bytes that fall in padding files are dropped. Errors (a full disk) name the file.
  Status write(PieceIndex piece, std::int64_t offset, std::string_view data);
  // Writes a whole piece from `data`, which must start at a kDirectIoAlignment boundary: with
  // direct I/O for the whole pages of each file it touches when direct_io() is on, with
  // ordinary writes for the rest (the ragged ends of files, padding-free spans that are not
  // page-aligned). Errors name the file, as write() does.
  Status write_piece(PieceIndex piece, std::span<const char> data);
  bool direct_io() const { return mode_ == OpenMode::read_write && settings_.direct_io; }
  // Creates the torrent's zero-length files (they hold no piece, so write() never reaches them).
  Status create_empty_files();
  void close_all();

  const FileLayout& layout() const { return layout_; }
  const std::filesystem::path& download_dir() const { return download_dir_; }

 private:
  struct Handle;
  Expected<std::shared_ptr<Handle>> open(FileIndex file);
  std::shared_ptr<Handle> find_open(FileIndex file);  // nullptr when not open
  std::string describe(FileIndex file) const;

  FileLayout layout_;
  std::filesystem::path download_dir_;
  OpenMode mode_;
  FileStoreSettings settings_;
  std::mutex mutex_;
  std::list<std::shared_ptr<Handle>> open_;  // most recently used first
};

}  // namespace starling
