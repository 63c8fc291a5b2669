// The disk thread pool: reads, writes and piece hashes run here so the network thread never
// blocks on a disk. Completions are posted back to the network thread's io_context.
//
// Every job names a piece, and all jobs of one piece run on the same thread in the order they
// were submitted. A piece being downloaded is staged in memory and written whole with direct
// I/O once complete (when the store does direct I/O and memory allows), or else written block
// by block, each block hashed on the spot when it continues the piece's in-order prefix
// (blocks mostly arrive in order), so hashing a finished piece reads back little or nothing.
#pragma once

#include <boost/asio/io_context.hpp>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/digest.hpp"
#include "core/expected.hpp"
#include "core/shared_bytes.hpp"
#include "storage/file_store.hpp"

namespace starling::session {

// Buffers for pieces staged for direct I/O, aligned for it and reused (so staging does not
// fragment the heap or fault in fresh pages for every piece). All buffers, in use or kept for
// reuse, stay within the budget. Thread-safe.
class StagingPool : public std::enable_shared_from_this<StagingPool> {
 public:
  explicit StagingPool(std::int64_t budget) : budget_(budget) {}
  ~StagingPool();
  StagingPool(const StagingPool&) = delete;
  StagingPool& operator=(const StagingPool&) = delete;

  // A piece's bytes held in memory until the piece is complete, then hashed and written with
  // one FileStore::write_piece. Its buffer goes back to the pool when it is destroyed.
  class Piece {
   public:
    ~Piece();
    Piece(const Piece&) = delete;
    Piece& operator=(const Piece&) = delete;
    std::span<char> bytes() const { return {data_, static_cast<std::size_t>(size_)}; }

   private:
    friend class StagingPool;
    Piece(std::shared_ptr<StagingPool> pool, char* data, std::int64_t capacity, std::int64_t size)
        : pool_(std::move(pool)), data_(data), capacity_(capacity), size_(size) {}
    std::shared_ptr<StagingPool> pool_;
    char* data_;
    std::int64_t capacity_;
    std::int64_t size_;
  };

  // A buffer for `size` bytes, or nullptr when the budget is used up (or memory is short).
  std::unique_ptr<Piece> acquire(std::int64_t size);

 private:
  void release(char* data, std::int64_t capacity);

  const std::int64_t budget_;
  std::mutex mutex_;
  std::int64_t held_ = 0;
  std::vector<std::pair<std::int64_t, char*>> free_;  // (capacity, buffer)
};

// Per piece being downloaded: either staged in memory (see StagedPiece), or written block by
// block as it arrives, with the SHA-1 state of its bytes [0, next) as written so far.
class PartialPieces {
 public:
  struct Entry {
    std::unique_ptr<StagingPool::Piece> staged;  // null: written through
    std::int64_t next = 0;
    Sha1Hasher hasher;
  };
  // Only the piece's own disk thread uses an entry; the lock guards the map. `created` tells
  // whether the entry is new.
  Entry& at(PieceIndex piece, bool* created = nullptr);
  std::unique_ptr<Entry> take(PieceIndex piece);  // nullptr when there is none

 private:
  std::mutex mutex_;
  std::unordered_map<std::int32_t, std::unique_ptr<Entry>> entries_;
};

struct DiskIoSettings {
  // 2 are enough for writes through the page cache and hashing on a 2-core machine. With direct
  // I/O 4: a staged piece's direct write keeps its thread waiting for the device (~0.7 ms per
  // MiB here) while its hash needs a core for about half that, and with 2 threads the jobs
  // queued behind the writes held a 1 GB/s download back (1.28 s against 1.00 s per GiB).
  // 0: SessionSettings::disk_io() picks 2 or 4 from the storage settings.
  int threads = 0;
  // Memory for pieces staged for direct I/O (when the FileStore does direct I/O). A piece that
  // starts while this is used up is written block by block through the page cache instead.
  std::int64_t staging_budget = 32 << 20;
};

class DiskIo {
 public:
  DiskIo(boost::asio::io_context& io, DiskIoSettings settings);
  ~DiskIo();  // finishes queued jobs, drops their completions
  DiskIo(const DiskIo&) = delete;
  DiskIo& operator=(const DiskIo&) = delete;

  void async_read(std::shared_ptr<FileStore> store, PieceIndex piece, std::int64_t offset,
                  std::int64_t length, std::function<void(Expected<std::string>)> done);
  // Takes a block of a piece being downloaded. With `pieces`, the piece is staged in memory when
  // the store does direct I/O and the staging budget allows (written by async_hash), else the
  // block is written now and fed to the piece's hash when it continues the hashed prefix.
  void async_write(std::shared_ptr<FileStore> store, std::shared_ptr<PartialPieces> pieces,
                   PieceIndex piece, std::int64_t offset, SharedBytes data,
                   std::function<void(Status)> done);
  // SHA-1 of the whole piece. A staged piece is hashed in memory and then written (a write error
  // is the result then); otherwise the in-order prefix from `pieces` (if any) is completed with
  // the rest read back.
  void async_hash(std::shared_ptr<FileStore> store, std::shared_ptr<PartialPieces> pieces,
                  PieceIndex piece, std::function<void(Expected<Sha1Digest>)> done);
  // SHA-1 of each `block_size` run of the piece (the last one shorter): to tell, after a piece
  // failed, which peer's block was bad.
  void async_hash_blocks(std::shared_ptr<FileStore> store, PieceIndex piece,
                         std::int64_t block_size,
                         std::function<void(Expected<std::vector<Sha1Digest>>)> done);

  // While a Batch lives, jobs submitted (on the network thread) are held and handed to their
  // workers together when it ends, with one wake-up per worker instead of one per job: a read of
  // the socket brings several blocks.
  class Batch {
   public:
    explicit Batch(DiskIo& disk) : disk_(disk) { ++disk_.batch_depth_; }
    ~Batch() {
      if (--disk_.batch_depth_ == 0) disk_.release_held();
    }
    Batch(const Batch&) = delete;
    Batch& operator=(const Batch&) = delete;

   private:
    DiskIo& disk_;
  };

  // Any other disk work (saving resume data): runs on one thread, in submission order.
  void async_run(std::function<Status()> job, std::function<void(Status)> done);

  // Received bytes not yet on disk: blocks handed to async_write whose write has not completed,
  // plus whole pieces handed to async_hash (a staged piece is written then) until it completes.
  // The session's backpressure.
  std::int64_t queued_write_bytes() const { return queued_write_bytes_; }

 private:
  // A job runs on a disk thread and adds its completion handler, which the network thread runs.
  using Completions = std::vector<std::function<void()>>;
  using Job = std::function<void(Completions&)>;
  struct Worker {
    std::mutex mutex;
    std::condition_variable wake;
    std::deque<Job> jobs;
    bool stopping = false;
    std::thread thread;
  };
  void submit(PieceIndex piece, Job job);
  void release_held();
  void run(Worker& worker);
  template <class T>
  static void complete(Completions& completions, std::function<void(T)> done, T result);

  boost::asio::io_context& io_;
  DiskIoSettings settings_;
  std::shared_ptr<StagingPool> staging_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::int64_t queued_write_bytes_ = 0;  // touched on the network thread only
  // Open Batch scopes and the jobs they hold, per worker (network thread only).
  int batch_depth_ = 0;
  std::vector<std::vector<Job>> held_;
};

}  // namespace starling::session
