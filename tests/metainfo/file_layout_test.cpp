#include "metainfo/file_layout.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>
#include "support/layout.hpp"

namespace starling {
namespace {

using testing::entry;
FileSpan span(std::int32_t file, std::int64_t offset, std::int64_t length) {
  return FileSpan{FileIndex(file), offset, length};
}

// Pieces of 8 bytes over files of 0, 5, 0, 2, 6, 4 and 0 bytes (17 in all, 3 pieces):
//   file:    E0 A(0..5) E1(5) B(5..7) C(7..13) D(13..17) E2(17)
//   pieces:  [0,8) [8,16) [16,17)
FileLayout mixed_layout() {
  return FileLayout(
      {entry({"t", "e0"}, 0), entry({"t", "a"}, 5), entry({"t", "e1"}, 0), entry({"t", "b"}, 2),
       entry({"t", "c"}, 6), entry({"t", "d"}, 4), entry({"t", "e2"}, 0)},
      8);
}

TEST(FileLayout, OffsetsSizesAndPieceCount) {
  const FileLayout layout = mixed_layout();
  EXPECT_EQ(layout.total_size(), 17);
  EXPECT_EQ(layout.piece_length(), 8);
  EXPECT_EQ(layout.num_pieces(), 3);
  const std::vector<std::int64_t> offsets = {0, 0, 5, 5, 7, 13, 17};
  ASSERT_EQ(layout.files().size(), offsets.size());
  for (std::size_t i = 0; i < offsets.size(); ++i) {
    EXPECT_EQ(layout.files()[i].offset, offsets[i]) << i;
  }
  EXPECT_EQ(layout.piece_size(PieceIndex(0)), 8);
  EXPECT_EQ(layout.piece_size(PieceIndex(1)), 8);
  EXPECT_EQ(layout.piece_size(PieceIndex(2)), 1);
}

TEST(FileLayout, PieceCrossingThreeFilesSkipsEmptyOnes) {
  const FileLayout layout = mixed_layout();
  // E0 (start) and E1 (middle) are empty and never appear.
  EXPECT_EQ(layout.piece_spans(PieceIndex(0)),
            (std::vector<FileSpan>{span(1, 0, 5), span(3, 0, 2), span(4, 0, 1)}));
}

TEST(FileLayout, PieceCrossingTwoFiles) {
  const FileLayout layout = mixed_layout();
  EXPECT_EQ(layout.piece_spans(PieceIndex(1)),
            (std::vector<FileSpan>{span(4, 1, 5), span(5, 0, 3)}));
}

TEST(FileLayout, ShortLastPieceNeverReachesTheTrailingEmptyFile) {
  const FileLayout layout = mixed_layout();
  EXPECT_EQ(layout.piece_spans(PieceIndex(2)), (std::vector<FileSpan>{span(5, 3, 1)}));
}

TEST(FileLayout, PieceStartingExactlyAtAFileBoundary) {
  // Pieces of 4 over files of 4, 0, 6 and 2 bytes: piece 1 starts where the third file does
  // (and where the empty second one "is").
  const FileLayout layout(
      {entry({"t", "x"}, 4), entry({"t", "empty"}, 0), entry({"t", "z"}, 6), entry({"t", "w"}, 2)},
      4);
  EXPECT_EQ(layout.num_pieces(), 3);
  EXPECT_EQ(layout.piece_spans(PieceIndex(0)), (std::vector<FileSpan>{span(0, 0, 4)}));
  EXPECT_EQ(layout.piece_spans(PieceIndex(1)), (std::vector<FileSpan>{span(2, 0, 4)}));
  EXPECT_EQ(layout.piece_spans(PieceIndex(2)),
            (std::vector<FileSpan>{span(2, 4, 2), span(3, 0, 2)}));
  // A piece ending exactly at a file boundary does not reach into the next file.
  EXPECT_EQ(layout.map_block(PieceIndex(0), 0, 4), (std::vector<FileSpan>{span(0, 0, 4)}));
}

TEST(FileLayout, SeveralEmptyFilesInARowAtABoundary) {
  const FileLayout layout(
      {entry({"t", "e1"}, 0), entry({"t", "e2"}, 0), entry({"t", "a"}, 3), entry({"t", "e3"}, 0),
       entry({"t", "e4"}, 0), entry({"t", "b"}, 3), entry({"t", "e5"}, 0), entry({"t", "e6"}, 0)},
      3);
  EXPECT_EQ(layout.num_pieces(), 2);
  EXPECT_EQ(layout.piece_spans(PieceIndex(0)), (std::vector<FileSpan>{span(2, 0, 3)}));
  EXPECT_EQ(layout.piece_spans(PieceIndex(1)), (std::vector<FileSpan>{span(5, 0, 3)}));
  EXPECT_EQ(layout.map_block(PieceIndex(0), 1, 1), (std::vector<FileSpan>{span(2, 1, 1)}));
}

TEST(FileLayout, MapBlockInTheMiddleOfAPiece) {
  const FileLayout layout = mixed_layout();
  // Bytes [3, 7): the end of A and all of B.
  EXPECT_EQ(layout.map_block(PieceIndex(0), 3, 4),
            (std::vector<FileSpan>{span(1, 3, 2), span(3, 0, 2)}));
  // Bytes [12, 15): the last byte of C and two of D.
  EXPECT_EQ(layout.map_block(PieceIndex(1), 4, 3),
            (std::vector<FileSpan>{span(4, 5, 1), span(5, 0, 2)}));
  // One byte inside one file.
  EXPECT_EQ(layout.map_block(PieceIndex(1), 2, 1), (std::vector<FileSpan>{span(4, 3, 1)}));
  // Starting exactly where B starts (and where the empty E1 sits).
  EXPECT_EQ(layout.map_block(PieceIndex(0), 5, 3),
            (std::vector<FileSpan>{span(3, 0, 2), span(4, 0, 1)}));
  // Nothing at all.
  EXPECT_TRUE(layout.map_block(PieceIndex(0), 4, 0).empty());
}

TEST(FileLayout, SingleFile) {
  const FileLayout layout({entry({"only"}, 100)}, 32);
  EXPECT_EQ(layout.num_pieces(), 4);
  EXPECT_EQ(layout.piece_size(PieceIndex(3)), 4);
  EXPECT_EQ(layout.piece_spans(PieceIndex(2)), (std::vector<FileSpan>{span(0, 64, 32)}));
  EXPECT_EQ(layout.piece_spans(PieceIndex(3)), (std::vector<FileSpan>{span(0, 96, 4)}));
  EXPECT_EQ(layout.map_block(PieceIndex(1), 10, 5), (std::vector<FileSpan>{span(0, 42, 5)}));
}

TEST(FileLayout, ExactMultipleOfThePieceLength) {
  const FileLayout layout({entry({"t", "a"}, 10), entry({"t", "b"}, 6)}, 8);
  EXPECT_EQ(layout.num_pieces(), 2);
  EXPECT_EQ(layout.piece_size(PieceIndex(1)), 8);
  EXPECT_EQ(layout.piece_spans(PieceIndex(1)),
            (std::vector<FileSpan>{span(0, 8, 2), span(1, 0, 6)}));
}

TEST(FileLayout, LargeOffsetsDoNotOverflow) {
  // 6 GiB in 2 files with 1 GiB pieces: offsets beyond 32 bits.
  const std::int64_t gib = std::int64_t{1} << 30;
  const FileLayout layout({entry({"t", "a"}, 5 * gib + 7), entry({"t", "b"}, gib - 7)}, gib);
  EXPECT_EQ(layout.num_pieces(), 6);
  EXPECT_EQ(layout.piece_spans(PieceIndex(5)),
            (std::vector<FileSpan>{span(0, 5 * gib, 7), span(1, 0, gib - 7)}));
  EXPECT_EQ(layout.file_pieces(FileIndex(1)), std::make_pair(PieceIndex(5), PieceIndex(5)));
}

TEST(FileLayout, FilePieces) {
  const FileLayout layout = mixed_layout();
  using P = std::pair<PieceIndex, PieceIndex>;
  EXPECT_EQ(layout.file_pieces(FileIndex(0)), P(PieceIndex(0), PieceIndex(-1)));  // empty, first
  EXPECT_EQ(layout.file_pieces(FileIndex(1)), P(PieceIndex(0), PieceIndex(0)));   // A
  EXPECT_EQ(layout.file_pieces(FileIndex(2)), P(PieceIndex(0), PieceIndex(-1)));  // empty, middle
  EXPECT_EQ(layout.file_pieces(FileIndex(3)), P(PieceIndex(0), PieceIndex(0)));   // B
  EXPECT_EQ(layout.file_pieces(FileIndex(4)), P(PieceIndex(0), PieceIndex(1)));   // C: 7..12
  EXPECT_EQ(layout.file_pieces(FileIndex(5)), P(PieceIndex(1), PieceIndex(2)));   // D: 13..16
  EXPECT_EQ(layout.file_pieces(FileIndex(6)), P(PieceIndex(0), PieceIndex(-1)));  // empty, last

  // A file that ends exactly at a piece boundary does not reach the next piece.
  const FileLayout aligned({entry({"t", "a"}, 8), entry({"t", "b"}, 8)}, 8);
  EXPECT_EQ(aligned.file_pieces(FileIndex(0)), P(PieceIndex(0), PieceIndex(0)));
  EXPECT_EQ(aligned.file_pieces(FileIndex(1)), P(PieceIndex(1), PieceIndex(1)));
}

TEST(FileLayout, FilePathJoinsComponentsBelowTheDirectory) {
  const FileLayout layout({entry({"name", "sub", "deeper", "f.txt"}, 1), entry({"name", "g"}, 1)},
                          16);
  EXPECT_EQ(layout.file_path("/downloads", FileIndex(0)),
            std::filesystem::path("/downloads/name/sub/deeper/f.txt"));
  EXPECT_EQ(layout.file_path("/downloads/", FileIndex(1)),
            std::filesystem::path("/downloads/name/g"));
  EXPECT_EQ(layout.file_path("rel", FileIndex(1)), std::filesystem::path("rel/name/g"));
  EXPECT_EQ(layout.files()[0].path_string(), "name/sub/deeper/f.txt");

  const FileLayout single({entry({"movie.mkv"}, 10)}, 16);
  EXPECT_EQ(single.file_path("/d", FileIndex(0)), std::filesystem::path("/d/movie.mkv"));
  EXPECT_EQ(single.files()[0].path_string(), "movie.mkv");
}

TEST(FileLayout, EmptyLayout) {
  const FileLayout empty;
  EXPECT_EQ(empty.num_pieces(), 0);
  EXPECT_EQ(empty.total_size(), 0);
  EXPECT_TRUE(empty.files().empty());
}

// Against a byte-by-byte reference: which file and offset holds each byte of the stream.
TEST(FileLayout, RandomLayoutsMatchAByteMap) {
  std::mt19937 rng(12345);
  for (int round = 0; round < 300; ++round) {
    std::vector<FileEntry> files;
    const int count = 1 + static_cast<int>(rng() % 8);
    std::vector<std::pair<std::int32_t, std::int64_t>> owner;  // per byte: file, offset in file
    for (int i = 0; i < count; ++i) {
      const std::int64_t size = rng() % 3 == 0 ? 0 : static_cast<std::int64_t>(rng() % 20);
      files.push_back(entry({"t", "f" + std::to_string(i)}, size));
      for (std::int64_t b = 0; b < size; ++b) owner.emplace_back(i, b);
    }
    if (owner.empty()) continue;
    const std::int64_t piece_length = 1 + static_cast<std::int64_t>(rng() % 12);
    const FileLayout layout(files, piece_length);
    ASSERT_EQ(layout.total_size(), static_cast<std::int64_t>(owner.size()));
    ASSERT_EQ(layout.num_pieces(),
              static_cast<std::int32_t>((owner.size() + piece_length - 1) / piece_length));

    for (std::int32_t p = 0; p < layout.num_pieces(); ++p) {
      const std::int64_t size = layout.piece_size(PieceIndex(p));
      ASSERT_GT(size, 0);
      ASSERT_LE(size, piece_length);
      for (std::int64_t offset = 0; offset < size; ++offset) {
        for (std::int64_t length = 1; offset + length <= size; ++length) {
          std::vector<FileSpan> expected;
          for (std::int64_t b = 0; b < length; ++b) {
            const auto [file, at] = owner[static_cast<std::size_t>(p * piece_length + offset + b)];
            if (!expected.empty() && expected.back().file.value() == file) {
              ++expected.back().length;
            } else {
              expected.push_back(span(file, at, 1));
            }
          }
          ASSERT_EQ(layout.map_block(PieceIndex(p), offset, length), expected)
              << "round " << round << " piece " << p << " offset " << offset << " length "
              << length;
        }
      }
    }
    for (std::int32_t i = 0; i < count; ++i) {
      const auto& f = layout.file(FileIndex(i));
      const auto pieces = layout.file_pieces(FileIndex(i));
      if (f.size == 0) {
        EXPECT_EQ(pieces, std::make_pair(PieceIndex(0), PieceIndex(-1)));
      } else {
        EXPECT_EQ(pieces.first.value(), f.offset / piece_length);
        EXPECT_EQ(pieces.second.value(), (f.offset + f.size - 1) / piece_length);
      }
    }
  }
}

}  // namespace
}  // namespace starling
