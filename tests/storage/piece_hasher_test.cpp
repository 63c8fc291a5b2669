#include "storage/piece_hasher.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/digest.hpp"
#include "metainfo/file_layout.hpp"
#include "support/temp_dir.hpp"

namespace starling {
namespace {

namespace fs = std::filesystem;

using testing::content;
using testing::TempDir;
using testing::write_file;

struct Spec {
  std::string name;
  std::size_t size;
  bool pad = false;
  bool on_disk = true;
};

// Writes the files below dir/"t" and returns the layout plus the expected byte stream (padding
// as zeros), built independently of the library.
std::pair<FileLayout, std::string> make_torrent(const fs::path& dir, const std::vector<Spec>& specs,
                                                std::int64_t piece_length) {
  std::vector<FileEntry> files;
  std::string stream;
  std::uint32_t seed = 100;
  for (const Spec& s : specs) {
    const std::string bytes = s.pad ? std::string(s.size, '\0') : content(seed++, s.size);
    if (s.on_disk && !s.pad) write_file(dir / "t" / s.name, bytes);
    FileEntry f;
    f.path = {"t", s.name};
    f.size = static_cast<std::int64_t>(s.size);
    f.pad = s.pad;
    files.push_back(std::move(f));
    stream += bytes;
  }
  return {FileLayout(std::move(files), piece_length), stream};
}

std::vector<std::optional<Sha1Digest>> expected_hashes(const std::string& stream,
                                                       std::int64_t piece_length) {
  std::vector<std::optional<Sha1Digest>> out;
  const auto step = static_cast<std::size_t>(piece_length);
  for (std::size_t at = 0; at < stream.size(); at += step) {
    out.emplace_back(sha1(std::string_view(stream).substr(at, step)));
  }
  return out;
}

HashResult hash_with(const FileLayout& layout, const fs::path& dir, int threads) {
  HashOptions options;
  options.threads = threads;
  return hash_pieces(layout, dir, options);
}

TEST(PieceHasher, OneAndThreeThreadsAgreeWithIndependentHashes) {
  TempDir dir;
  const auto [layout, stream] = make_torrent(
      dir.path(),
      {{"a", 10000}, {"pad", 2288, true}, {"empty", 0}, {"b", 7000}, {"c", 1}, {"d", 20000}}, 4096);
  ASSERT_EQ(layout.num_pieces(), 10);
  const auto expected = expected_hashes(stream, 4096);
  const HashResult one = hash_with(layout, dir.path(), 1);
  const HashResult three = hash_with(layout, dir.path(), 3);
  const HashResult automatic = hash_with(layout, dir.path(), 0);
  EXPECT_EQ(one.pieces, expected);
  EXPECT_EQ(three.pieces, expected);
  EXPECT_EQ(automatic.pieces, expected);
  EXPECT_TRUE(one.read_errors.empty());
  EXPECT_TRUE(three.read_errors.empty());
  EXPECT_TRUE(automatic.read_errors.empty());
}

TEST(PieceHasher, PiecesLargerThanTheReadChunk) {
  // 3 MiB pieces are read in 1 MiB chunks; the last piece is 1.5 MiB.
  TempDir dir;
  const std::int64_t mib = 1 << 20;
  const auto [layout, stream] =
      make_torrent(dir.path(), {{"big", 2 * mib + mib / 3}, {"small", 2 * mib + mib / 6}}, 3 * mib);
  ASSERT_EQ(layout.num_pieces(), 2);
  const auto expected = expected_hashes(stream, 3 * mib);
  EXPECT_EQ(hash_with(layout, dir.path(), 1).pieces, expected);
  EXPECT_EQ(hash_with(layout, dir.path(), 3).pieces, expected);
}

TEST(PieceHasher, MoreThreadsThanPieces) {
  TempDir dir;
  const auto [layout, stream] = make_torrent(dir.path(), {{"only", 100}}, 64);
  const HashResult r = hash_with(layout, dir.path(), 16);
  EXPECT_EQ(r.pieces, expected_hashes(stream, 64));
}

TEST(PieceHasher, EmptyLayout) {
  TempDir dir;
  const HashResult r = hash_with(FileLayout(), dir.path(), 2);
  EXPECT_TRUE(r.pieces.empty());
  EXPECT_TRUE(r.read_errors.empty());
}

TEST(PieceHasher, MissingFileFailsOnlyItsPiecesWithOneError) {
  // a: [0, 6000), b (missing): [6000, 11000), c: [11000, 17000); pieces of 4096. Piece 1 starts
  // in a and piece 2 in b: both must blame b, once.
  for (int threads : {1, 3}) {
    SCOPED_TRACE(threads);
    TempDir dir;
    const auto [layout, stream] =
        make_torrent(dir.path(), {{"a", 6000}, {"b", 5000, false, false}, {"c", 6000}}, 4096);
    ASSERT_EQ(layout.num_pieces(), 5);
    const auto expected = expected_hashes(stream, 4096);
    const HashResult r = hash_with(layout, dir.path(), threads);
    ASSERT_EQ(r.pieces.size(), 5u);
    EXPECT_EQ(r.pieces[0], expected[0]);
    EXPECT_EQ(r.pieces[1], std::nullopt);
    EXPECT_EQ(r.pieces[2], std::nullopt);
    EXPECT_EQ(r.pieces[3], expected[3]);
    EXPECT_EQ(r.pieces[4], expected[4]);
    ASSERT_EQ(r.read_errors.size(), 1u);
    EXPECT_EQ(r.read_errors[0].code, std::errc::no_such_file_or_directory);
    EXPECT_EQ(r.read_errors[0].detail, (dir.path() / "t" / "b").string());
  }
}

TEST(PieceHasher, TwoMissingFilesInsideOnePieceGiveTwoErrorsInFileOrder) {
  for (int threads : {1, 2}) {
    SCOPED_TRACE(threads);
    TempDir dir;
    const auto [layout, stream] = make_torrent(
        dir.path(),
        {{"a", 100}, {"b", 50, false, false}, {"c", 50, false, false}, {"d", 4000}, {"e", 5000}},
        4096);
    const auto expected = expected_hashes(stream, 4096);
    const HashResult r = hash_with(layout, dir.path(), threads);
    ASSERT_EQ(r.pieces.size(), 3u);
    EXPECT_EQ(r.pieces[0], std::nullopt);
    EXPECT_EQ(r.pieces[1], expected[1]);
    EXPECT_EQ(r.pieces[2], expected[2]);
    ASSERT_EQ(r.read_errors.size(), 2u);
    EXPECT_EQ(r.read_errors[0].detail, (dir.path() / "t" / "b").string());
    EXPECT_EQ(r.read_errors[1].detail, (dir.path() / "t" / "c").string());
  }
}

TEST(PieceHasher, MissingFileInALaterChunkOfTheSamePiece) {
  // One 3 MiB piece; the first chunk fails on "x", and "y" (missing too) lies only in the last
  // chunk: both are reported.
  TempDir dir;
  const std::int64_t mib = 1 << 20;
  const auto [layout, stream] = make_torrent(
      dir.path(),
      {{"w", 100}, {"x", 100, false, false}, {"v", 2 * mib + mib / 2}, {"y", 100, false, false}},
      3 * mib);
  ASSERT_EQ(layout.num_pieces(), 1);
  const HashResult r = hash_with(layout, dir.path(), 1);
  EXPECT_EQ(r.pieces[0], std::nullopt);
  ASSERT_EQ(r.read_errors.size(), 2u);
  EXPECT_EQ(r.read_errors[0].detail, (dir.path() / "t" / "x").string());
  EXPECT_EQ(r.read_errors[1].detail, (dir.path() / "t" / "y").string());
}

TEST(PieceHasher, ShortFile) {
  TempDir dir;
  auto [layout, stream] = make_torrent(dir.path(), {{"a", 3000}, {"b", 3000}}, 1024);
  // b holds only its first 1000 bytes: [3000, 4000) of the stream.
  write_file(dir.path() / "t" / "b", stream.substr(3000, 1000));
  const auto expected = expected_hashes(stream, 1024);
  const HashResult r = hash_with(layout, dir.path(), 2);
  ASSERT_EQ(r.pieces.size(), 6u);
  EXPECT_EQ(r.pieces[0], expected[0]);
  EXPECT_EQ(r.pieces[1], expected[1]);
  EXPECT_EQ(r.pieces[2], expected[2]);   // [2048, 3072): a and b's first 72 bytes
  EXPECT_EQ(r.pieces[3], std::nullopt);  // [3072, 4096): b beyond 4000
  EXPECT_EQ(r.pieces[4], std::nullopt);
  EXPECT_EQ(r.pieces[5], std::nullopt);
  ASSERT_EQ(r.read_errors.size(), 1u);
  EXPECT_EQ(r.read_errors[0].code, make_error_code(Errc::io_error));
  const std::string path = (dir.path() / "t" / "b").string();
  EXPECT_EQ(r.read_errors[0].detail.substr(0, path.size()), path);
}

TEST(PieceHasher, PaddingIsNotReadFromDisk) {
  TempDir dir;
  const auto [layout, stream] =
      make_torrent(dir.path(), {{"a", 1000}, {"pad", 24, true, false}, {"b", 1000}}, 1024);
  const HashResult r = hash_with(layout, dir.path(), 2);
  EXPECT_EQ(r.pieces, expected_hashes(stream, 1024));
  EXPECT_TRUE(r.read_errors.empty());
}

TEST(PieceHasher, ProgressEndsWithDoneEqualToTotal) {
  TempDir dir;
  const auto [layout, stream] = make_torrent(dir.path(), {{"a", 50000}, {"b", 30001}}, 4096);
  std::vector<std::pair<std::int64_t, std::int64_t>> calls;
  HashOptions options;
  options.threads = 2;
  options.progress = [&](std::int64_t done, std::int64_t total) {
    calls.emplace_back(done, total);
  };
  const HashResult r = hash_pieces(layout, dir.path(), options);
  EXPECT_EQ(r.pieces, expected_hashes(stream, 4096));
  ASSERT_FALSE(calls.empty());
  EXPECT_EQ(calls.back(), std::make_pair(std::int64_t{80001}, std::int64_t{80001}));
  for (std::size_t i = 0; i < calls.size(); ++i) {
    EXPECT_EQ(calls[i].second, 80001);
    EXPECT_LE(calls[i].first, 80001);
    if (i > 0) {
      EXPECT_GE(calls[i].first, calls[i - 1].first);
    }
  }
}

TEST(PieceHasher, ProgressReachesTheTotalEvenWhenFilesAreMissing) {
  TempDir dir;
  const auto [layout, stream] =
      make_torrent(dir.path(), {{"a", 5000}, {"gone", 5000, false, false}}, 1024);
  std::int64_t last_done = -1;
  std::int64_t last_total = -1;
  HashOptions options;
  options.threads = 3;
  options.progress = [&](std::int64_t done, std::int64_t total) {
    last_done = done;
    last_total = total;
  };
  const HashResult r = hash_pieces(layout, dir.path(), options);
  EXPECT_EQ(r.read_errors.size(), 1u);
  EXPECT_EQ(last_done, 10000);
  EXPECT_EQ(last_total, 10000);
}

}  // namespace
}  // namespace starling
