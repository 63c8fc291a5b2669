// The disk thread pool: reads, writes and piece hashes run here so the network thread never
// blocks on a disk. Completions are posted back to the network thread's io_context, in order of
// completion. Jobs on the same piece are not ordered among themselves: the caller hashes a piece
// only after every write of it has completed.
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
#include <vector>

#include "core/digest.hpp"
#include "core/expected.hpp"
#include "storage/file_store.hpp"

namespace starling::session {

class DiskIo {
 public:
  DiskIo(boost::asio::io_context& io, int threads);
  ~DiskIo();  // finishes queued jobs, drops their completions
  DiskIo(const DiskIo&) = delete;
  DiskIo& operator=(const DiskIo&) = delete;

  void async_read(std::shared_ptr<FileStore> store, PieceIndex piece, std::int64_t offset,
                  std::int64_t length, std::function<void(Expected<std::string>)> done);
  void async_write(std::shared_ptr<FileStore> store, PieceIndex piece, std::int64_t offset,
                   std::string data, std::function<void(Status)> done);
  // SHA-1 of the whole piece as it is on disk.
  void async_hash(std::shared_ptr<FileStore> store, PieceIndex piece,
                  std::function<void(Expected<Sha1Digest>)> done);

  // SHA-1 of each `block_size` run of the piece (the last one shorter): to tell, after a piece
  // failed, which peer's block was bad.
  void async_hash_blocks(std::shared_ptr<FileStore> store, PieceIndex piece,
                         std::int64_t block_size,
                         std::function<void(Expected<std::vector<Sha1Digest>>)> done);

  // Bytes handed to async_write whose write has not completed: the session's backpressure.
  std::int64_t queued_write_bytes() const { return queued_write_bytes_; }

 private:
  void submit(std::function<void()> job);
  void worker();

  boost::asio::io_context& io_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
  std::int64_t queued_write_bytes_ = 0;  // touched on the network thread only
};

}  // namespace starling::session
