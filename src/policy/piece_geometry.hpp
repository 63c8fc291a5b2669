// How a torrent's pieces cut into the 16 KiB blocks that peers request: every piece has
// ceil(piece_length / block_size) blocks except the last piece, whose last block is the short one.
#pragma once

#include <compare>
#include <cstdint>

#include "core/strong_index.hpp"

namespace starling {
class FileLayout;
}

namespace starling::policy {

// The request unit every client uses (BEP 3: "all current implementations use 2^14").
inline constexpr std::int32_t block_size = 16 * 1024;

// One block: the `block`-th 16 KiB run of `piece`.
struct BlockRef {
  PieceIndex piece;
  int block = 0;
  friend constexpr auto operator<=>(const BlockRef&, const BlockRef&) = default;
};

// Who a request went to. The session hands out small stable numbers per connection.
using PeerKey = StrongIndex<struct PeerKeyTag, std::uint32_t>;

struct PieceGeometry {
  std::int32_t num_pieces = 0;
  std::int64_t piece_length = 0;  // > 0
  std::int64_t total_size = 0;    // in ((num_pieces - 1) * piece_length, num_pieces * piece_length]

  static PieceGeometry from(const FileLayout& layout);
  // A torrent of `pieces` pieces of `blocks` full blocks each, the last piece `last_blocks` long.
  static PieceGeometry uniform(std::int32_t pieces, int blocks, int last_blocks);

  std::int64_t piece_size(PieceIndex piece) const;
  int blocks_per_piece() const { return blocks_in(piece_length); }
  int blocks_in_piece(PieceIndex piece) const { return blocks_in(piece_size(piece)); }
  // Bytes in the block: block_size except for the very last block of the torrent (maybe).
  std::int32_t block_length(BlockRef block) const;
  // Byte offset of the block inside its piece (what a REQUEST message carries).
  std::int32_t block_offset(BlockRef block) const { return block.block * block_size; }

 private:
  static int blocks_in(std::int64_t bytes) {
    return static_cast<int>((bytes + block_size - 1) / block_size);
  }
};

}  // namespace starling::policy
