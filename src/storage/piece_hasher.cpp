#include "storage/piece_hasher.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "storage/content_reader.hpp"

namespace starling {
namespace {

// Pieces are read in chunks so a 16 MiB piece does not need a 16 MiB buffer per thread.
constexpr std::int64_t kChunk = 1 << 20;

}  // namespace

HashResult hash_pieces(const FileLayout& layout, const std::filesystem::path& download_dir,
                       const HashOptions& options) {
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
  std::map<std::int32_t, Error> errors_by_file;

  auto worker = [&] {
    ContentReader reader(layout, download_dir);
    std::vector<char> buffer(static_cast<std::size_t>(std::min(kChunk, layout.piece_length())));
    Sha1Hasher hasher;
    for (std::int32_t i = next_piece++; i < num_pieces; i = next_piece++) {
      const PieceIndex piece(i);
      const std::int64_t size = layout.piece_size(piece);
      bool readable = true;
      for (std::int64_t offset = 0; offset < size && readable; offset += kChunk) {
        const auto n = static_cast<std::size_t>(std::min(kChunk, size - offset));
        if (auto s = reader.read(piece, offset, std::span<char>(buffer.data(), n)); !s) {
          readable = false;
          const auto spans = layout.map_block(piece, offset, static_cast<std::int64_t>(n));
          std::lock_guard lock(mutex);
          errors_by_file.try_emplace(spans.empty() ? -1 : spans.front().file.value(), s.error());
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
  for (auto& [file, error] : errors_by_file) result.read_errors.push_back(std::move(error));
  return result;
}

}  // namespace starling
