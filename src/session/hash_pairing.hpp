// Hashes the pieces a disk thread writes in groups of up to three.
//
// One SHA-1 stream is bound by the latency of the CPU's SHA instructions; two streams hashed in
// lockstep go ~1.7× as fast, three ~2.1× (Sha1Stream::update_together). A download from a fast
// peer brings its pieces one after the other, and a disk thread gets every other one, so a
// written block that continues its piece's hashed prefix is held (it stays in its receive
// buffer: no copy) until the thread holds bytes of two more pieces to hash it with, or for at
// most `max_hold` (then with one other piece if there is one, else alone). A piece whose last
// block is written waits the same way, so its hash is done with the next pieces' blocks. Held
// bytes stay within `budget`; a slow download (a piece slower than `max_hold`) is hashed as
// before, one block at a time as it is written.
//
// One per disk thread, used by that thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "core/shared_bytes.hpp"
#include "session/partial_pieces.hpp"

namespace starling::session {

struct HashPairingSettings {
  std::int64_t budget = 8 << 20;  // bytes held, all pieces of the thread together
  std::chrono::steady_clock::duration max_hold = std::chrono::milliseconds(5);
};

class HashPairing {
 public:
  using Clock = std::chrono::steady_clock;
  using Entry = PartialPieces::Entry;
  // Handlers for the network thread, as DiskIo collects them.
  using Completions = std::vector<std::function<void()>>;
  // Completes a piece whose held bytes are all hashed (reads back any part not hashed yet).
  using Finish = std::function<void(Entry&, Completions&)>;

  explicit HashPairing(HashPairingSettings settings = {}) : settings_(settings) {}

  // `data` was written at `offset` of the piece of `entry` (owned by `owner`). Blocks this
  // lets go of (hashed, or rewritten) go to `release`.
  void on_written(std::shared_ptr<PartialPieces> owner, Entry& entry, std::int64_t offset,
                  const SharedBytes& data, Clock::time_point now,
                  std::vector<SharedBytes>& release);

  // The piece of `entry` is complete: `finish` runs once its held bytes are hashed. Returns the
  // entry back when nothing of it is held (the caller finishes it at once).
  std::unique_ptr<Entry> finish_when_hashed(std::unique_ptr<Entry> entry, Finish finish);

  // Hashes held pieces in groups, the ones held for max_hold alone, and finishes complete pieces
  // with nothing held. `all`: hash everything now (the thread is stopping).
  void step(Clock::time_point now, Completions& completions, std::vector<SharedBytes>& release,
            bool all = false);

  // When step() has work to do without new writes: the first time a held block reaches max_hold.
  std::optional<Clock::time_point> deadline() const;
  std::int64_t held_bytes() const { return held_bytes_; }

 private:
  struct Held {
    std::shared_ptr<PartialPieces> owner;  // keeps a piece not complete yet alive
    Entry* entry;
    std::unique_ptr<Entry> complete;  // set once the piece is complete
    Finish finish;
  };
  void hash_alone(Entry& entry, std::vector<SharedBytes>& release);
  // Up to Sha1Stream::kMaxLockstep pieces with bytes held, the longest held first.
  std::vector<Entry*> longest_held() const;
  // Hashes the held bytes of `group` in lockstep as far as all of them have some.
  void hash_together(std::span<Entry* const> group, std::vector<SharedBytes>& release);
  // Forgets held blocks from the one holding byte `offset` of the piece on.
  void drop_from(Entry& entry, std::int64_t offset, std::vector<SharedBytes>& release);
  void consume(Entry& entry, std::size_t bytes, std::vector<SharedBytes>& release);

  HashPairingSettings settings_;
  std::vector<Held> held_;  // pieces with blocks held, or complete and waiting for their hash
  std::int64_t held_bytes_ = 0;
};

}  // namespace starling::session
