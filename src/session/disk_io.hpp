// The disk thread pool: reads, writes and piece hashes run here so the network thread never
// blocks on a disk. Completions are posted back to the network thread's io_context.
//
// Every job names a piece, and all jobs of one piece run on the same thread in the order they
// were submitted. A piece being downloaded is staged in memory and written whole with direct
// I/O once complete (when the store does direct I/O and memory allows), or else written block
// by block. A written block that continues the piece's in-order prefix (blocks mostly arrive in
// order) is kept for a few milliseconds so that it can be hashed in lockstep with another
// piece's (HashPairing), so hashing a finished piece reads back little or nothing.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
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
#include "session/hash_pairing.hpp"
#include "session/partial_pieces.hpp"
#include "storage/file_store.hpp"

namespace starling::session {

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
  // Pieces written through the page cache are hashed in pairs (see HashPairing), per thread;
  // a budget of 0 hashes every block alone as it is written.
  HashPairingSettings pairing;
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
  using Completions = HashPairing::Completions;
  struct JobContext {
    Completions& completions;
    HashPairing& pairing;
    std::vector<SharedBytes>& release;  // blocks to let go of on the network thread
  };
  using Job = std::function<void(JobContext&)>;
  struct Worker {
    explicit Worker(HashPairingSettings settings) : pairing(settings) {}
    std::mutex mutex;
    std::condition_variable wake;
    std::deque<Job> jobs;
    bool stopping = false;
    HashPairing pairing;  // this thread's only
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
