#include "policy/piece_geometry.hpp"

#include <algorithm>

#include "metainfo/file_layout.hpp"

namespace starling::policy {

PieceGeometry PieceGeometry::from(const FileLayout& layout) {
  return PieceGeometry{layout.num_pieces(), layout.piece_length(), layout.total_size()};
}

PieceGeometry PieceGeometry::uniform(std::int32_t pieces, int blocks, int last_blocks) {
  const std::int64_t piece_length = std::int64_t{blocks} * block_size;
  return PieceGeometry{pieces, piece_length,
                       (pieces - 1) * piece_length + std::int64_t{last_blocks} * block_size};
}

std::int64_t PieceGeometry::piece_size(PieceIndex piece) const {
  if (piece.value() + 1 < num_pieces) return piece_length;
  return total_size - std::int64_t{num_pieces - 1} * piece_length;
}

std::int32_t PieceGeometry::block_length(BlockRef block) const {
  const std::int64_t rest = piece_size(block.piece) - std::int64_t{block.block} * block_size;
  return static_cast<std::int32_t>(std::clamp<std::int64_t>(rest, 0, block_size));
}

}  // namespace starling::policy
