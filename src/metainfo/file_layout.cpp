#include "metainfo/file_layout.hpp"

#include <algorithm>

namespace starling {

std::string FileEntry::path_string() const {
  std::string out;
  for (const auto& component : path) {
    if (!out.empty()) out.push_back('/');
    out += component;
  }
  return out;
}

FileLayout::FileLayout(std::vector<FileEntry> files, std::int64_t piece_length)
    : files_(std::move(files)), piece_length_(piece_length) {
  std::int64_t offset = 0;
  for (auto& f : files_) {
    f.offset = offset;
    offset += f.size;
  }
  total_size_ = offset;
  num_pieces_ = static_cast<std::int32_t>((total_size_ + piece_length_ - 1) / piece_length_);
}

std::int64_t FileLayout::piece_size(PieceIndex piece) const {
  const std::int64_t start = std::int64_t{piece.value()} * piece_length_;
  return std::min(piece_length_, total_size_ - start);
}

std::vector<FileSpan> FileLayout::map_block(PieceIndex piece, std::int64_t offset,
                                            std::int64_t length) const {
  std::vector<FileSpan> spans;
  std::int64_t position = std::int64_t{piece.value()} * piece_length_ + offset;
  // The last file whose first byte is at or before `position` (skipping over empty files).
  auto it = std::upper_bound(files_.begin(), files_.end(), position,
                             [](std::int64_t pos, const FileEntry& f) { return pos < f.offset; });
  auto index = static_cast<std::size_t>(std::distance(files_.begin(), it)) - 1;
  while (length > 0 && index < files_.size()) {
    const FileEntry& f = files_[index];
    const std::int64_t in_file = position - f.offset;
    const std::int64_t take = std::min(length, f.size - in_file);
    if (take > 0) {
      spans.push_back(FileSpan{FileIndex(static_cast<std::int32_t>(index)), in_file, take});
      position += take;
      length -= take;
    }
    ++index;
  }
  return spans;
}

std::pair<PieceIndex, PieceIndex> FileLayout::file_pieces(FileIndex file) const {
  const FileEntry& f = this->file(file);
  if (f.size == 0) return {PieceIndex(0), PieceIndex(-1)};
  return {PieceIndex(static_cast<std::int32_t>(f.offset / piece_length_)),
          PieceIndex(static_cast<std::int32_t>((f.offset + f.size - 1) / piece_length_))};
}

std::filesystem::path FileLayout::file_path(const std::filesystem::path& download_dir,
                                            FileIndex file) const {
  std::filesystem::path p = download_dir;
  for (const auto& component : this->file(file).path) p /= component;
  return p;
}

}  // namespace starling
