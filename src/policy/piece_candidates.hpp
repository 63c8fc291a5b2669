// The pieces a picker may still start, by priority, and every piece's availability; rarest first
// is a scan, not an order kept sorted.
//
// A HAVE is then one counter increment: one cache line, no other state to keep in step. A pick
// scans the candidates the peer has for the lowest availability: 2 bytes per piece, 16 pieces
// per instruction where AVX2 is there (1,000 pieces: ~60 steps). An order sorted by availability
// would make the pick cheap and the HAVE dear, with three dependent cache misses per HAVE (the
// piece, the last piece of its bucket, that piece's position). A peer gets a HAVE from each of
// its neighbours for every piece they get, and asks for a piece far less often: at 80
// neighbours, dozens of HAVEs per pick. libtorrent's picker re-sorts lazily for the same reason.
//
// Availability counts are 16 bits, saturating at 65,534 (no session has that many peers).
// Candidate sets are bitfields in the wire's bit order (piece 0 is the top bit of byte 0), so a
// peer's BITFIELD masks them as it is.
#pragma once

#include <cstdint>
#include <vector>

#include "core/bitfield.hpp"
#include "core/strong_index.hpp"

namespace starling::policy {

inline constexpr int max_priority = 7;

class PieceCandidates {
 public:
  explicit PieceCandidates(std::int32_t num_pieces);

  // How many peers have the piece (as counted with add / remove), candidate or not.
  int availability(PieceIndex piece) const { return avail_[index(piece)]; }
  void add(PieceIndex piece) {
    std::uint16_t& a = avail_[index(piece)];
    if (a < kMaxAvailability) ++a;
  }
  void remove(PieceIndex piece) {  // never below zero
    std::uint16_t& a = avail_[index(piece)];
    if (a > 0) --a;
  }
  // A hint only: starts loading what add() will touch.
  void prefetch(PieceIndex piece) const { __builtin_prefetch(&avail_[index(piece)]); }

  bool contains(PieceIndex piece) const { return level_of_[index(piece)] != 0; }
  // The priority a candidate was inserted with; 0 for a piece that is not a candidate.
  int priority(PieceIndex piece) const { return level_of_[index(piece)]; }
  // Preconditions: !contains(piece), 1 <= priority <= max_priority.
  void insert(PieceIndex piece, int priority);
  void erase(PieceIndex piece);  // no-op unless contains(piece)

  std::size_t size() const { return size_; }
  std::size_t size(int priority) const { return count_[static_cast<std::size_t>(priority)]; }

  // Among the candidates of `priority` that `peer_has` has: the lowest availability and how many
  // have it (count 0: none has).
  struct Rarest {
    int availability = 0;
    int count = 0;
  };
  Rarest rarest(int priority, const Bitfield& peer_has) const;
  // How many candidates of `priority` the peer has.
  int count(int priority, const Bitfield& peer_has) const;
  // The k-th (from 0, in index order) candidate of `priority` the peer has, among those of
  // availability `availability` (-1: any). Precondition: k < the number of such pieces.
  PieceIndex nth(int priority, const Bitfield& peer_has, int availability, int k) const;

  bool check() const;  // the counts match the sets (tests only): O(pieces)

  // The scans without AVX2 (the same answers; for tests on machines that have it).
  Rarest rarest_portable(int priority, const Bitfield& peer_has) const;
  PieceIndex nth_portable(int priority, const Bitfield& peer_has, int availability, int k) const;

 private:
  static constexpr std::uint16_t kMaxAvailability = 0xFFFE;  // 0xFFFF: "not a candidate"
  static std::size_t index(PieceIndex piece) { return static_cast<std::size_t>(piece.value()); }
  const std::uint64_t* level(int priority) const {
    return sets_.data() + static_cast<std::size_t>(priority) * words_;
  }

  std::int32_t num_pieces_;
  std::size_t words_;                 // 64 pieces each
  std::vector<std::uint16_t> avail_;  // padded to whole words
  std::vector<std::uint8_t> level_of_;
  // Per priority 0..max_priority, `words_` words: the candidate set in wire bit order (each
  // word's bytes as the bitfield's bytes in memory).
  std::vector<std::uint64_t> sets_;
  std::vector<std::size_t> count_;  // per priority
  std::size_t size_ = 0;
};

}  // namespace starling::policy
