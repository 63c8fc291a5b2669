// How a torrent's byte stream maps onto files: the concatenation of every file in order, cut into
// pieces of piece_length bytes (the last one shorter). A piece or block may span several files.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/piece_geometry.hpp"
#include "core/strong_index.hpp"

namespace starling {

struct FileEntry {
  // Path components relative to the download directory; the first is the torrent's name.
  std::vector<std::string> path;
  std::int64_t size = 0;
  std::int64_t offset = 0;  // of the file's first byte in the torrent's byte stream
  bool pad = false;         // BEP 47 padding file: zeros, never written to disk

  std::string path_string() const;  // components joined with '/'
};

// A run of bytes inside one file.
struct FileSpan {
  FileIndex file;
  std::int64_t file_offset = 0;
  std::int64_t length = 0;
  friend bool operator==(const FileSpan&, const FileSpan&) = default;
};

class FileLayout {
 public:
  FileLayout() = default;
  // Offsets are computed here; sizes must be >= 0 and piece_length > 0.
  FileLayout(std::vector<FileEntry> files, std::int64_t piece_length);

  const std::vector<FileEntry>& files() const { return files_; }
  const FileEntry& file(FileIndex i) const { return files_[static_cast<std::size_t>(i.value())]; }
  std::int64_t total_size() const { return total_size_; }
  std::int64_t piece_length() const { return piece_length_; }
  std::int32_t num_pieces() const { return num_pieces_; }
  std::int64_t piece_size(PieceIndex piece) const;
  PieceGeometry geometry() const { return {num_pieces_, piece_length_, total_size_}; }

  // The file runs that hold `length` bytes starting `offset` bytes into `piece`. Zero-length
  // files never appear. Precondition: the range lies inside the piece.
  std::vector<FileSpan> map_block(PieceIndex piece, std::int64_t offset, std::int64_t length) const;
  std::vector<FileSpan> piece_spans(PieceIndex piece) const {
    return map_block(piece, 0, piece_size(piece));
  }
  // First and last piece holding bytes of the file; {0,-1} for an empty file.
  std::pair<PieceIndex, PieceIndex> file_pieces(FileIndex file) const;

  // Where a file lives on disk below a download directory.
  std::filesystem::path file_path(const std::filesystem::path& download_dir, FileIndex file) const;

 private:
  std::vector<FileEntry> files_;
  std::int64_t total_size_ = 0;
  std::int64_t piece_length_ = 0;
  std::int32_t num_pieces_ = 0;
};

}  // namespace starling
