#include "core/piece_geometry.hpp"

#include <algorithm>
#include <limits>

namespace starling {

PieceGeometry PieceGeometry::uniform(std::int32_t pieces, int blocks, int last_blocks) {
  const std::int64_t piece_length = std::int64_t{blocks} * kBlockSize;
  return PieceGeometry{pieces, piece_length,
                       (pieces - 1) * piece_length + std::int64_t{last_blocks} * kBlockSize};
}

bool PieceGeometry::valid() const {
  if (num_pieces <= 0 || piece_length <= 0 || total_size <= 0) return false;
  const std::int64_t others = num_pieces - 1;
  if (others > 0 && piece_length > std::numeric_limits<std::int64_t>::max() / others) return false;
  const std::int64_t full = others * piece_length;
  return total_size > full && total_size - full <= piece_length;
}

std::int64_t PieceGeometry::piece_size(PieceIndex piece) const {
  if (piece.value() < 0 || piece.value() >= num_pieces) return 0;
  const std::int64_t start = std::int64_t{piece.value()} * piece_length;
  return std::clamp<std::int64_t>(total_size - start, 0, piece_length);
}

std::int32_t PieceGeometry::block_length(BlockRef block) const {
  const std::int64_t rest = piece_size(block.piece) - std::int64_t{block.block} * kBlockSize;
  return static_cast<std::int32_t>(std::clamp<std::int64_t>(rest, 0, kBlockSize));
}

}  // namespace starling
