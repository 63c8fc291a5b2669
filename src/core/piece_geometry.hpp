// A torrent's shape as the protocol sees it: how many pieces, how long each is (the last one may
// be short), and how each piece cuts into the 16 KiB blocks that peers request. Shared by the
// wire codec (range checks), the picker and the session.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>

#include "core/strong_index.hpp"

namespace starling {

// The request unit every client uses (BEP 3: "all current implementations use 2^14").
inline constexpr std::int32_t kBlockSize = 16 * 1024;

// One block: the `block`-th 16 KiB run of `piece`.
struct BlockRef {
  PieceIndex piece;
  int block = 0;
  friend constexpr auto operator<=>(const BlockRef&, const BlockRef&) = default;  // NOLINT
};

struct PieceGeometry {
  std::int32_t num_pieces = 0;
  std::int64_t piece_length = 0;  // > 0
  std::int64_t total_size = 0;    // in ((num_pieces - 1) * piece_length, num_pieces * piece_length]

  // A torrent of `pieces` pieces of `blocks` full blocks each, the last piece `last_blocks` long.
  static PieceGeometry uniform(std::int32_t pieces, int blocks, int last_blocks);

  // At least one piece, every piece non-empty, only the last one short.
  bool valid() const;
  // Bytes in `piece` (the last piece may be short); 0 when it is out of range.
  std::int64_t piece_size(PieceIndex piece) const;
  int blocks_per_piece() const { return blocks_in(piece_length); }
  int blocks_in_piece(PieceIndex piece) const { return blocks_in(piece_size(piece)); }
  // Bytes in the block: kBlockSize except for the very last block of a short piece.
  std::int32_t block_length(BlockRef block) const;
  // Byte offset of the block inside its piece (what a REQUEST message carries).
  std::int32_t block_offset(BlockRef block) const { return block.block * kBlockSize; }
  // Bytes of a BITFIELD message's payload.
  std::size_t bitfield_bytes() const { return (static_cast<std::size_t>(num_pieces) + 7) / 8; }

  friend bool operator==(const PieceGeometry&, const PieceGeometry&) = default;

 private:
  static int blocks_in(std::int64_t bytes) {
    return static_cast<int>((bytes + kBlockSize - 1) / kBlockSize);
  }
};

}  // namespace starling
