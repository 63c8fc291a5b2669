// The pieces a picker may still start, kept ordered by (priority, availability) so that rarest
// first never sorts: one array per priority level, each array grouped into availability buckets.
//
// Invariant, per level L (priorities 1..7; 0 means "do not download" and is never stored):
//   pieces[ends[a-1] .. ends[a]) holds exactly the level's pieces whose availability is a
//   (ends[-1] is 0); ends is non-decreasing, ends.back() == pieces.size(), and
//   pos[p] is p's index in its level's pieces (-1 when p is in no level).
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

  bool contains(PieceIndex piece) const { return pos_[index(piece)] >= 0; }
  // A hint only: starts loading what contains() and increment() read first for this piece.
  void prefetch(PieceIndex piece) const { __builtin_prefetch(&pos_[index(piece)]); }
  // Preconditions: 1 <= priority <= max_priority; `availability` is the piece's current one.
  void insert(PieceIndex piece, int priority, int availability);
  void erase(PieceIndex piece, int priority, int availability);
  // The piece's availability goes from `availability` to one more / one less.
  void increment(PieceIndex piece, int priority, int availability);
  void decrement(PieceIndex piece, int priority, int availability);

  std::size_t size() const;
  std::span<const PieceIndex> level(int priority) const { return levels_[slot(priority)].pieces; }
  int bucket_count(int priority) const {
    return static_cast<int>(levels_[slot(priority)].ends.size());
  }
  std::span<const PieceIndex> bucket(int priority, int availability) const;

  // Swaps done so far: the cost the complexity test counts.
  std::uint64_t moves() const { return moves_; }
  // Checks the invariant against the caller's availability table (tests only).
  bool check(const std::vector<std::int32_t>& availability) const;

 private:
  struct Level {
    std::vector<PieceIndex> pieces;
    std::vector<std::int32_t> ends;  // one past the last position of each availability bucket
  };
  static std::size_t index(PieceIndex piece) { return static_cast<std::size_t>(piece.value()); }
  static std::size_t slot(int priority) { return static_cast<std::size_t>(priority); }
  void swap_positions(Level& level, std::int32_t a, std::int32_t b);
  static void trim(Level& level);

  std::array<Level, max_priority + 1> levels_;
  std::vector<std::int32_t> pos_;
  std::uint64_t moves_ = 0;
};

}  // namespace starling::policy
