// The state of pieces being downloaded that the disk threads keep: memory for pieces staged for
// direct I/O, and per piece its hash so far and the written blocks not hashed yet.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/sha1_stream.hpp"
#include "core/shared_bytes.hpp"
#include "core/strong_index.hpp"

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
// block as it arrives, with the SHA-1 state of its bytes [0, next) as written so far and the
// written blocks that follow them, held until they are hashed (see HashPairing).
class PartialPieces {
 public:
  struct Entry {
    std::unique_ptr<StagingPool::Piece> staged;  // null: written through
    std::int64_t next = 0;
    Sha1Stream hasher;
    // Bytes [next, next + unhashed_bytes) of the piece: the rest of unhashed.front() (from
    // unhashed_front_used on), then the other blocks, as written.
    std::deque<SharedBytes> unhashed;
    std::size_t unhashed_front_used = 0;
    std::int64_t unhashed_bytes = 0;
    std::chrono::steady_clock::time_point unhashed_since;  // when unhashed became non-empty
    bool pairing = false;                                  // in its worker's HashPairing
  };
  // Only the piece's own disk thread uses an entry; the lock guards the map. `created` tells
  // whether the entry is new.
  Entry& at(PieceIndex piece, bool* created = nullptr);
  std::unique_ptr<Entry> take(PieceIndex piece);  // nullptr when there is none

 private:
  std::mutex mutex_;
  std::unordered_map<std::int32_t, std::unique_ptr<Entry>> entries_;
};

}  // namespace starling::session
