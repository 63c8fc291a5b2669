// The disk thread pool: reads, writes and piece hashes run here so the network thread never
// blocks on a disk. Completions are posted back to the network thread's io_context.
//
// Every job names a piece, and all jobs of one piece run on the same thread in the order they
// were submitted. That lets a write hash its block on the spot when it continues the piece's
// in-order prefix (blocks mostly arrive in order), so hashing a finished piece only reads back
// what arrived out of order, usually nothing.
#pragma once

#include <boost/asio/io_context.hpp>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/digest.hpp"
#include "core/expected.hpp"
#include "core/shared_bytes.hpp"
#include "storage/file_store.hpp"

namespace starling::session {

// Per piece being downloaded: the SHA-1 state of its bytes [0, next) as written so far.
class PartialHashes {
 public:
  struct Entry {
    std::int64_t next = 0;
    Sha1Hasher hasher;
  };
  // Only the piece's own disk thread uses an entry; the lock guards the map.
  Entry& at(PieceIndex piece);
  std::unique_ptr<Entry> take(PieceIndex piece);  // nullptr when there is none

 private:
  std::mutex mutex_;
  std::unordered_map<std::int32_t, std::unique_ptr<Entry>> entries_;
};

class DiskIo {
 public:
  DiskIo(boost::asio::io_context& io, int threads);
  ~DiskIo();  // finishes queued jobs, drops their completions
  DiskIo(const DiskIo&) = delete;
  DiskIo& operator=(const DiskIo&) = delete;

  void async_read(std::shared_ptr<FileStore> store, PieceIndex piece, std::int64_t offset,
                  std::int64_t length, std::function<void(Expected<std::string>)> done);
  // Writes a block; with `hashes`, also feeds it to the piece's hash when it comes in order.
  void async_write(std::shared_ptr<FileStore> store, std::shared_ptr<PartialHashes> hashes,
                   PieceIndex piece, std::int64_t offset, SharedBytes data,
                   std::function<void(Status)> done);
  // SHA-1 of the whole piece: the in-order prefix from `hashes` (if any), the rest read back.
  void async_hash(std::shared_ptr<FileStore> store, std::shared_ptr<PartialHashes> hashes,
                  PieceIndex piece, std::function<void(Expected<Sha1Digest>)> done);
  // SHA-1 of each `block_size` run of the piece (the last one shorter): to tell, after a piece
  // failed, which peer's block was bad.
  void async_hash_blocks(std::shared_ptr<FileStore> store, PieceIndex piece,
                         std::int64_t block_size,
                         std::function<void(Expected<std::vector<Sha1Digest>>)> done);

  // Any other disk work (saving resume data): runs on one thread, in submission order.
  void async_run(std::function<Status()> job, std::function<void(Status)> done);

  // Bytes handed to async_write whose write has not completed: the session's backpressure.
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
  void run(Worker& worker);
  template <class T>
  static void complete(Completions& completions, std::function<void(T)> done, T result);

  boost::asio::io_context& io_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::int64_t queued_write_bytes_ = 0;  // touched on the network thread only
};

}  // namespace starling::session
