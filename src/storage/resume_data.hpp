// What a download has verified, saved so a restart does not hash everything again. Pieces are
// trusted on load only while every file they touch still has the size and modification time
// recorded with them; anything else is checked again.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/bitfield.hpp"
#include "core/digest.hpp"
#include "core/expected.hpp"
#include "metainfo/file_layout.hpp"

namespace starling {

struct FileStamp {
  std::int64_t size = -1;     // -1: the file does not exist
  std::int64_t mtime_ns = 0;  // modification time, nanoseconds since the epoch
  friend bool operator==(const FileStamp&, const FileStamp&) = default;
};

struct ResumeData {
  Sha1Digest info_hash;
  Bitfield have;                 // verified pieces
  std::vector<FileStamp> files;  // one per file of the layout, in order
};

// Size and mtime of every file of the layout below `download_dir`, as they are now.
std::vector<FileStamp> stamp_files(const FileLayout& layout,
                                   const std::filesystem::path& download_dir);

// The pieces of `resume.have` whose files all still match their stamps.
Bitfield trusted_pieces(const ResumeData& resume, const FileLayout& layout,
                        const std::vector<FileStamp>& now);

std::string encode_resume(const ResumeData& resume);
// Checks the data against the torrent it is for: same info-hash, piece and file counts.
Expected<ResumeData> parse_resume(std::string_view bytes, const Sha1Digest& info_hash,
                                  const FileLayout& layout);

// Written to a temporary file, flushed and renamed, so a crash leaves the old or the new file.
Status save_resume(const std::filesystem::path& file, const ResumeData& resume);
Expected<ResumeData> load_resume(const std::filesystem::path& file, const Sha1Digest& info_hash,
                                 const FileLayout& layout);

}  // namespace starling
