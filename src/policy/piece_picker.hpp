// Which blocks to request from which peer: pure, deterministic policy (no sockets, files or
// clocks). Order of preference for one peer:
//   (a) strict priority: free blocks of pieces already started, so started pieces finish first;
//   (b) random first: while fewer than `random_first_pieces` pieces are complete, random pieces,
//       so a newcomer soon has something to trade;
//   (c) sequential (lowest index) if asked for, otherwise rarest first: lowest availability first,
//       random among equals; higher priority always before lower;
//   (d) end game: once every block of every wanted piece this peer has is requested, blocks
//       already requested from other peers (never twice from this one), fewest requesters first.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "core/bitfield.hpp"
#include "core/expected.hpp"
#include "core/piece_geometry.hpp"
#include "core/strong_index.hpp"
#include "policy/piece_candidates.hpp"

namespace starling {
class FileLayout;
}

namespace starling::policy {

// Who a request went to. The session hands out small stable numbers per connection.
using PeerKey = StrongIndex<struct PeerKeyTag, std::uint32_t>;

struct PickerSettings {
  // Pick random pieces (not rarest) until this many pieces are complete: the first piece then
  // comes from wherever is quickest, and the peer soon has something to upload.
  int random_first_pieces = 4;
  // Lowest index first (streaming, previews). Overrides random first and rarest first.
  bool sequential = false;
  // Seed of the tie-breaking random generator: the same seed gives the same picks.
  std::uint64_t seed = 0;
  // Request blocks already requested elsewhere once a peer has nothing free to give us.
  bool end_game = true;
  // In end game, at most this many peers are asked for the same block at once.
  int end_game_max_requesters = 3;
  // End game only once every wanted piece is started or had (libtorrent's rule), not whenever
  // the peer asked has no free block we want. Off in the engine; the simulator's time grid sets
  // it: with 80 neighbours a newcomer's senders often hold only pieces it is already getting
  // elsewhere, and duplicates asked then were a quarter of its requests.
  bool end_game_only_when_all_started = false;
  // Priority of every piece until set_piece_priority / set_file_priorities say otherwise.
  int default_priority = 4;
};

class PiecePicker {
 public:
  explicit PiecePicker(const PieceGeometry& geometry, const PickerSettings& settings = {});
  explicit PiecePicker(const FileLayout& layout, const PickerSettings& settings = {});

  const PieceGeometry& geometry() const { return geometry_; }
  std::int32_t num_pieces() const { return geometry_.num_pieces; }

  // --- availability: how many connected peers have each piece.
  void add_availability(const Bitfield& peer_has);  // a peer's BITFIELD arrived
  void add_availability(PieceIndex piece);          // a HAVE arrived
  // A hint only, for a caller with many HAVEs to apply (a simulator handling a batch): starts
  // loading the state add_availability(piece) reads first, so the misses of a batch overlap.
  // Precondition: piece < num_pieces().
  void prefetch_availability(PieceIndex piece) const { candidates_.prefetch(piece); }
  void remove_availability(const Bitfield& peer_has);  // a peer left (what we counted for it)
  // A peer with every piece (HAVE_ALL or a full bitfield) is one counter, not n increments.
  void add_seed() { ++seeds_; }
  void remove_seed();
  int availability(PieceIndex piece) const { return candidates_.availability(piece) + seeds_; }
  int seeds() const { return seeds_; }

  // --- priorities: 0 = do not download, 1..7 (higher first).
  void set_piece_priority(PieceIndex piece, int priority);
  int piece_priority(PieceIndex piece) const { return priority_[index(piece)]; }
  // A piece gets the highest priority of the files it holds bytes of (padding files do not
  // count), so "select files 1 and 3" is priority 0 for every other file. One entry per file.
  Status set_file_priorities(const FileLayout& layout, const std::vector<int>& priorities);

  // --- picking. The returned blocks count as requested from `peer`. For a peer counted with
  // add_seed, pass a full bitfield (one shared Bitfield(num_pieces(), true) will do).
  std::vector<BlockRef> pick(const Bitfield& peer_has, int want_blocks, PeerKey peer);
  // The same, into `out` (cleared first): a caller picking millions of times (a simulator)
  // reuses one buffer instead of allocating a vector per pick.
  void pick(const Bitfield& peer_has, int want_blocks, PeerKey peer, std::vector<BlockRef>& out);

  // --- block lifecycle.
  // The request will not be answered (choke, reject, timeout): pickable again if no one else
  // has it requested.
  void abort_request(BlockRef block, PeerKey peer);
  void abort_all_requests(PeerKey peer);
  // Returns the other peers that still have this block requested: send them CANCEL.
  std::vector<PeerKey> on_block_received(BlockRef block, PeerKey peer);
  // The same with is_block_received in one lookup, the peers to cancel into `cancel` (cleared
  // first): true when the block was new, false for a duplicate (received before, or the piece
  // had), which changes nothing.
  bool on_block_received(BlockRef block, PeerKey peer, std::vector<PeerKey>& cancel);
  void on_piece_passed(PieceIndex piece) { we_have(piece); }
  void on_piece_failed(PieceIndex piece);  // every block pickable again
  void we_have(PieceIndex piece);          // e.g. from resume data
  // Requests and availability of a peer that left. `peer_has` is what was counted for it with
  // add_availability (use remove_seed for a peer counted with add_seed).
  void peer_disconnected(PeerKey peer, const Bitfield& peer_has);

  // --- queries. Piece indexes must be < num_pieces() here; the mutators above ignore bad ones.
  bool have(PieceIndex piece) const { return have_.get(index(piece)); }
  const Bitfield& have_pieces() const { return have_; }
  std::int32_t num_have() const { return num_have_; }
  bool is_finished() const { return missing_wanted_ == 0; }  // every wanted piece is had
  bool is_block_received(BlockRef block) const;
  // Every block has arrived: ready to be hashed (or already had).
  bool is_piece_complete(PieceIndex piece) const;
  // Blocks of a started piece neither requested nor received (0 for a piece not started). A
  // pick that ends inside a piece leaves these; picking them next keeps requests whole pieces.
  int free_blocks(PieceIndex piece) const;
  std::vector<PeerKey> requesters(BlockRef block) const;
  // Pieces started but not yet passed, in the order they were started.
  std::vector<PieceIndex> downloading_pieces() const;

  bool check_invariants() const;  // for tests: O(n)

 private:
  enum class BlockState : std::uint8_t { free, requested, received };
  // Who a block is requested from: one peer but in end game, so up to kInline live in the block
  // itself (no allocation, no pointer to chase per received block); more move to the heap.
  class Requesters {
   public:
    const PeerKey* begin() const { return size_ <= kInline ? inline_.data() : spill_->data(); }
    const PeerKey* end() const { return begin() + size_; }
    std::size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    void push_back(PeerKey peer);
    void erase(const PeerKey* at);  // keeps the order of the others
    void clear() {
      size_ = 0;
      spill_.reset();
    }

   private:
    static constexpr std::uint32_t kInline = 3;
    std::uint32_t size_ = 0;
    std::array<PeerKey, kInline> inline_{};
    // Every requester, once there are more than kInline (end game only, and only when it asks
    // more than three peers): a pointer keeps the common block small (32 bytes, not 48).
    std::unique_ptr<std::vector<PeerKey>> spill_;
  };
  struct Block {
    BlockState state = BlockState::free;
    Requesters requesters;  // more than one only in end game
  };
  struct Download {
    PieceIndex piece;
    std::uint64_t started = 0;  // start order: older pieces finish first
    int requested = 0;          // blocks in state requested
    int received = 0;           // blocks in state received
    std::vector<Block> blocks;
  };

  static std::size_t index(PieceIndex piece) { return static_cast<std::size_t>(piece.value()); }
  bool valid(PieceIndex piece) const { return piece.value() >= 0 && piece.value() < num_pieces(); }
  bool wanted(PieceIndex piece) const { return priority_[index(piece)] > 0 && !have(piece); }
  std::uint64_t random_below(std::uint64_t n);

  Download* find_download(PieceIndex piece);
  const Download* find_download(PieceIndex piece) const;
  Download& start_download(PieceIndex piece);
  void drop_download(PieceIndex piece);  // forget its blocks; back into the order if wanted
  void drop_if_untouched(Download& d);
  void set_wanted_count(PieceIndex piece, bool was_wanted);

  void take_free_blocks(Download& d, int want, PeerKey peer, std::vector<BlockRef>& out);
  std::optional<PieceIndex> next_new_piece(const Bitfield& peer_has);
  std::optional<PieceIndex> next_sequential(const Bitfield& peer_has);
  std::optional<PieceIndex> next_random(const Bitfield& peer_has);
  std::optional<PieceIndex> next_rarest(const Bitfield& peer_has);
  void pick_end_game(const Bitfield& peer_has, int want, PeerKey peer, std::vector<BlockRef>& out);

  PieceGeometry geometry_;
  PickerSettings settings_;
  std::uint64_t rng_state_;
  int seeds_ = 0;
  std::vector<std::uint8_t> priority_;
  Bitfield have_;
  std::int32_t num_have_ = 0;
  std::int32_t missing_wanted_ = 0;  // pieces with priority > 0 that we do not have
  // Candidates: wanted, not had, not started (started pieces live in downloads_ instead); and
  // every piece's availability, not counting seeds_.
  PieceCandidates candidates_;
  std::vector<Download> downloads_;
  std::vector<std::int32_t> download_slot_;  // per piece: index into downloads_, or -1
  std::uint64_t next_started_ = 0;
  // pick()'s scratch (and pick_end_game's), kept to spare an allocation per pick.
  std::vector<Download*> started_;
  // Block arrays of dropped downloads, cleared, for the next start_download: a simulator starts
  // and finishes millions of pieces.
  static constexpr std::size_t kSpareBlockArrays = 4;
  std::vector<std::vector<Block>> spare_blocks_;
};

}  // namespace starling::policy
