// The pieces a picker may still start, kept ordered by (priority, availability) so that rarest
// first never sorts: one array per priority level, each array grouped into availability buckets.
// The order also holds every piece's availability (in the order or not), beside the piece's
// position: a HAVE then costs one cache miss for the piece instead of three (availability,
// priority, position), which is what a swarm simulator of 10,000 pickers is bound by.
//
// Invariant, per level L (priorities 1..7; 0 means "do not download" and is never stored):
//   pieces[ends[a-1] .. ends[a]) holds exactly the level's pieces whose availability is a
//   (ends[-1] is 0); ends is non-decreasing, ends.back() == pieces.size(), and
//   a stored piece's entry names its level and its index in the level's pieces.
// So changing a piece's availability by one swaps it with the first or last piece of its bucket
// and moves one boundary: O(1). Inserting or erasing walks the boundaries above the piece's bucket:
// O(number of buckets), which is at most the number of peers.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "core/strong_index.hpp"

namespace starling::policy {

inline constexpr int max_priority = 7;

class PieceOrder {
 public:
  explicit PieceOrder(std::int32_t num_pieces);

  // How many peers have the piece (as counted with add / remove), whether stored or not.
  int availability(PieceIndex piece) const { return entries_[index(piece)].avail; }
  bool contains(PieceIndex piece) const { return entries_[index(piece)].slot >= 0; }
  // The level a stored piece is in. Precondition: contains(piece).
  int priority(PieceIndex piece) const { return entries_[index(piece)].slot & kPriorityMask; }
  // A hint only: starts loading what contains() and add() read first for this piece.
  void prefetch(PieceIndex piece) const { __builtin_prefetch(&entries_[index(piece)]); }
  // Stores the piece at its availability. Preconditions: !contains(piece),
  // 1 <= priority <= max_priority.
  void insert(PieceIndex piece, int priority);
  void erase(PieceIndex piece);  // precondition: contains(piece)
  // The piece's availability goes up / down by one (down: precondition availability > 0); a
  // stored piece moves to its new bucket.
  void add(PieceIndex piece);
  void remove(PieceIndex piece);

  std::size_t size() const;
  std::span<const PieceIndex> level(int priority) const { return levels_[slot(priority)].pieces; }
  int bucket_count(int priority) const {
    return static_cast<int>(levels_[slot(priority)].ends.size());
  }
  std::span<const PieceIndex> bucket(int priority, int availability) const;

  // Swaps done so far: the cost the complexity test counts.
  std::uint64_t moves() const { return moves_; }
  // Checks the invariant (tests only): O(pieces).
  bool check() const;

 private:
  struct Level {
    std::vector<PieceIndex> pieces;
    std::vector<std::int32_t> ends;  // one past the last position of each availability bucket
  };
  // 8 bytes per piece: its availability and where it is stored, read together by every HAVE.
  struct Entry {
    std::int32_t avail = 0;
    std::int32_t slot = -1;  // position * 8 + priority; -1: not stored
  };
  static constexpr std::int32_t kPriorityBits = 3;
  static constexpr std::int32_t kPriorityMask = (1 << kPriorityBits) - 1;
  static_assert(max_priority <= kPriorityMask);

  static std::size_t index(PieceIndex piece) { return static_cast<std::size_t>(piece.value()); }
  static std::size_t slot(int priority) { return static_cast<std::size_t>(priority); }
  std::int32_t position(PieceIndex piece) const {
    return entries_[index(piece)].slot >> kPriorityBits;
  }
  void place(PieceIndex piece, std::int32_t at, int priority) {
    entries_[index(piece)].slot = (at << kPriorityBits) | priority;
  }
  void swap_positions(Level& level, int priority, std::int32_t a, std::int32_t b);
  static void trim(Level& level);

  std::array<Level, max_priority + 1> levels_;
  std::vector<Entry> entries_;
  std::uint64_t moves_ = 0;
};

}  // namespace starling::policy
