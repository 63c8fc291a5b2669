// Hashes every piece of a torrent's data on disk in parallel: for `starling create` (collect the
// hashes) and `starling verify` / resume (compare them).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/digest.hpp"
#include "core/error.hpp"
#include "metainfo/file_layout.hpp"

namespace starling {

struct HashResult {
  std::vector<std::optional<Sha1Digest>> pieces;  // nullopt: the piece could not be read
  std::vector<Error> read_errors;                 // one per file that failed, in file order
};

struct HashOptions {
  int threads = 0;  // 0: one per core
  // Called on the calling thread about ten times a second with the bytes hashed so far.
  std::function<void(std::int64_t done, std::int64_t total)> progress;
};

class FileStore;

HashResult hash_pieces(FileStore& store, const HashOptions& options = {});
// The same over the files of `layout` below `download_dir`, opened read-only for the call.
HashResult hash_pieces(const FileLayout& layout, const std::filesystem::path& download_dir,
                       const HashOptions& options = {});

}  // namespace starling
