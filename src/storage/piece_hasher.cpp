#include "storage/piece_hasher.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "storage/file_store.hpp"

namespace starling {
namespace {

// Pieces are read in chunks so a 16 MiB piece does not need a 16 MiB buffer per thread.
constexpr std::int64_t kChunk = 1 << 20;

// Errors by file index, shared by the workers.
struct FileErrors {
  std::mutex mutex;
  std::map<std::int32_t, Error> by_file;

  bool has(FileIndex file) {
    std::lock_guard lock(mutex);
    return by_file.count(file.value()) != 0;
  }
  void add(FileIndex file, const Error& error) {
    std::lock_guard lock(mutex);
    by_file.try_emplace(file.value(), error);
  }
};

// After a failed read at `offset` in `piece`: reads the rest of the piece file by file and records
// each file that fails under its own index. A chunk spans several files and its error names only
// one of them, which need not be the chunk's first; a later file of the piece may be broken too.
void record_unreadable_files(FileStore& reader, const FileLayout& layout, PieceIndex piece,
                             std::int64_t offset, std::vector<char>& buffer, const Error& first,
                             FileErrors& errors) {
  const std::int64_t size = layout.piece_size(piece);
  const auto buffer_size = static_cast<std::int64_t>(buffer.size());
  bool found = false;
  std::int64_t position = offset;  // in the piece
  for (const FileSpan& span : layout.map_block(piece, offset, size - offset)) {
    const std::int64_t span_start = position;
    position += span.length;
    if (errors.has(span.file)) {
      found = true;
      continue;
    }
    for (std::int64_t at = span_start; at < position; at += buffer_size) {
      const auto n = static_cast<std::size_t>(std::min(buffer_size, position - at));
      if (auto s = reader.read(piece, at, std::span<char>(buffer.data(), n)); !s) {
        errors.add(span.file, s.error());
        found = true;
        break;
      }
    }
  }
  // The failure did not repeat (a transient error): keep it, under the chunk's first file.
  if (!found) {
    const auto spans = layout.map_block(piece, offset, std::min(kChunk, size - offset));
    errors.add(spans.empty() ? FileIndex(-1) : spans.front().file, first);
  }
}

}  // namespace

HashResult hash_pieces(const FileLayout& layout, const std::filesystem::path& download_dir,
                       const HashOptions& options) {
  FileStore store(layout, download_dir, OpenMode::read_only);
  return hash_pieces(store, options);
}

HashResult hash_pieces(FileStore& store, const HashOptions& options) {
  const FileLayout& layout = store.layout();
  const std::int32_t num_pieces = layout.num_pieces();
  HashResult result;
  result.pieces.resize(static_cast<std::size_t>(num_pieces));

  int threads = options.threads > 0
                    ? options.threads
                    : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  threads = std::min(threads, std::max(num_pieces, 1));

  std::atomic<std::int32_t> next_piece{0};
  std::atomic<std::int64_t> bytes_done{0};
  std::mutex mutex;
  std::condition_variable finished_cv;
  int running = threads;
  FileErrors errors;

  auto worker = [&] {
    std::vector<char> buffer(static_cast<std::size_t>(std::min(kChunk, layout.piece_length())));
    Sha1Hasher hasher;
    for (std::int32_t i = next_piece++; i < num_pieces; i = next_piece++) {
      const PieceIndex piece(i);
      const std::int64_t size = layout.piece_size(piece);
      bool readable = true;
      for (std::int64_t offset = 0; offset < size && readable; offset += kChunk) {
        const auto n = static_cast<std::size_t>(std::min(kChunk, size - offset));
        if (auto s = store.read(piece, offset, std::span<char>(buffer.data(), n)); !s) {
          readable = false;
          record_unreadable_files(store, layout, piece, offset, buffer, s.error(), errors);
        } else {
          hasher.update(buffer.data(), n);
        }
      }
      auto digest = hasher.finish();
      if (readable) result.pieces[static_cast<std::size_t>(i)] = digest;
      bytes_done += size;
    }
    std::lock_guard lock(mutex);
    if (--running == 0) finished_cv.notify_all();
  };

  std::vector<std::thread> pool;
  pool.reserve(static_cast<std::size_t>(threads));
  for (int t = 0; t < threads; ++t) pool.emplace_back(worker);
  {
    std::unique_lock lock(mutex);
    while (
        !finished_cv.wait_for(lock, std::chrono::milliseconds(100), [&] { return running == 0; })) {
      if (options.progress) {
        lock.unlock();
        options.progress(bytes_done.load(), layout.total_size());
        lock.lock();
      }
    }
  }
  for (auto& t : pool) t.join();
  if (options.progress) options.progress(layout.total_size(), layout.total_size());
  for (auto& [file, error] : errors.by_file) result.read_errors.push_back(std::move(error));
  return result;
}

}  // namespace starling
