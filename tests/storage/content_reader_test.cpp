#include "storage/content_reader.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "metainfo/file_layout.hpp"
#include "support/temp_dir.hpp"

namespace starling {
namespace {

namespace fs = std::filesystem;

using testing::TempDir;
using testing::write_file;

FileEntry entry(std::vector<std::string> path, std::int64_t size, bool pad = false) {
  FileEntry f;
  f.path = std::move(path);
  f.size = size;
  f.pad = pad;
  return f;
}

// Reads `length` bytes at `offset` in `piece`, failing the test on an error.
std::string read_ok(ContentReader& reader, std::int32_t piece, std::int64_t offset,
                    std::size_t length) {
  std::string out(length, '?');
  auto s = reader.read(PieceIndex(piece), offset, std::span<char>(out.data(), out.size()));
  EXPECT_TRUE(s) << (s ? "" : s.error().message());
  return out;
}

Error read_error(ContentReader& reader, std::int32_t piece, std::int64_t offset,
                 std::size_t length) {
  std::string out(length, '?');
  auto s = reader.read(PieceIndex(piece), offset, std::span<char>(out.data(), out.size()));
  EXPECT_FALSE(s);
  return s ? Error{} : s.error();
}

// Files t/a (5 bytes), t/pad (3-byte padding file, not on disk), t/empty (0) and t/b (7 bytes),
// in pieces of 4: the stream is "ABCDE" "\0\0\0" "fghijkl".
class ContentReaderTest : public ::testing::Test {
 protected:
  ContentReaderTest()
      : layout_({entry({"t", "a"}, 5), entry({"t", "pad"}, 3, true), entry({"t", "empty"}, 0),
                 entry({"t", "b"}, 7)},
                4) {
    write_file(dir_.path() / "t" / "a", "ABCDE");
    write_file(dir_.path() / "t" / "empty", "");
    write_file(dir_.path() / "t" / "b", "fghijkl");
  }

  TempDir dir_;
  FileLayout layout_;
};

TEST_F(ContentReaderTest, ReadsEveryPiece) {
  ContentReader reader(layout_, dir_.path());
  ASSERT_EQ(layout_.num_pieces(), 4);
  EXPECT_EQ(read_ok(reader, 0, 0, 4), "ABCD");
  EXPECT_EQ(read_ok(reader, 1, 0, 4), std::string("E\0\0\0", 4));
  EXPECT_EQ(read_ok(reader, 2, 0, 4), "fghi");
  EXPECT_EQ(read_ok(reader, 3, 0, 3), "jkl");
}

TEST_F(ContentReaderTest, ReadsAcrossFileBoundaries) {
  const FileLayout whole(layout_.files(), 16);  // one piece holding everything
  ContentReader reader(whole, dir_.path());
  EXPECT_EQ(read_ok(reader, 0, 0, 15), std::string("ABCDE\0\0\0fghijkl", 15));
  EXPECT_EQ(read_ok(reader, 0, 3, 7), std::string("DE\0\0\0fg", 7));
  EXPECT_EQ(read_ok(reader, 0, 4, 1), "E");
  EXPECT_EQ(read_ok(reader, 0, 8, 2), "fg");
  EXPECT_EQ(read_ok(reader, 0, 14, 1), "l");
  EXPECT_EQ(read_ok(reader, 0, 7, 0), "");
}

TEST_F(ContentReaderTest, PaddingReadsAsZerosWhateverIsOnDisk) {
  write_file(dir_.path() / "t" / "pad", "XYZ");
  ContentReader reader(layout_, dir_.path());
  EXPECT_EQ(read_ok(reader, 1, 1, 3), std::string(3, '\0'));
  EXPECT_EQ(read_ok(reader, 1, 0, 4), std::string("E\0\0\0", 4));
}

TEST_F(ContentReaderTest, MissingFileIsNamed) {
  fs::remove(dir_.path() / "t" / "b");
  ContentReader reader(layout_, dir_.path());
  EXPECT_EQ(read_ok(reader, 0, 0, 4), "ABCD");  // other files still read
  const Error e = read_error(reader, 2, 0, 4);
  EXPECT_EQ(e.code, std::errc::no_such_file_or_directory);
  EXPECT_EQ(e.detail, (dir_.path() / "t" / "b").string());
  // A span that does not touch the missing file still reads.
  EXPECT_EQ(read_ok(reader, 1, 0, 4), std::string("E\0\0\0", 4));
}

TEST_F(ContentReaderTest, MissingDirectoryIsNamed) {
  ContentReader reader(layout_, dir_.path() / "nowhere");
  const Error e = read_error(reader, 0, 0, 4);
  EXPECT_EQ(e.code, std::errc::no_such_file_or_directory);
  EXPECT_EQ(e.detail, (dir_.path() / "nowhere" / "t" / "a").string());
}

TEST_F(ContentReaderTest, ShortFileIsNamed) {
  write_file(dir_.path() / "t" / "b", "fghi");  // 4 of 7 bytes
  ContentReader reader(layout_, dir_.path());
  EXPECT_EQ(read_ok(reader, 2, 0, 4), "fghi");
  const Error e = read_error(reader, 3, 0, 3);
  EXPECT_EQ(e.code, make_error_code(Errc::io_error));
  const std::string path = (dir_.path() / "t" / "b").string();
  EXPECT_EQ(e.detail.substr(0, path.size()), path);
  EXPECT_NE(e.detail.find("shorter"), std::string::npos);
  // The first missing byte alone fails too; the bytes before it still read.
  EXPECT_EQ(read_error(reader, 3, 0, 1).code, make_error_code(Errc::io_error));
  EXPECT_EQ(read_ok(reader, 2, 1, 3), "ghi");
}

TEST_F(ContentReaderTest, ShortFileInTheMiddleOfARead) {
  write_file(dir_.path() / "t" / "a", "ABC");  // 3 of 5 bytes
  const FileLayout whole(layout_.files(), 16);
  ContentReader reader(whole, dir_.path());
  EXPECT_EQ(read_ok(reader, 0, 0, 3), "ABC");
  const Error e = read_error(reader, 0, 0, 10);
  EXPECT_EQ(e.code, make_error_code(Errc::io_error));
  const std::string path = (dir_.path() / "t" / "a").string();
  EXPECT_EQ(e.detail.substr(0, path.size()), path);
}

TEST_F(ContentReaderTest, LongerFileOnDiskIsReadOnlyUpToItsSize) {
  write_file(dir_.path() / "t" / "a", "ABCDE-extra-bytes");
  ContentReader reader(layout_, dir_.path());
  EXPECT_EQ(read_ok(reader, 1, 0, 4), std::string("E\0\0\0", 4));
}

TEST(ContentReader, SingleFileTorrent) {
  TempDir dir;
  write_file(dir.path() / "movie.mkv", "0123456789");
  const FileLayout layout({entry({"movie.mkv"}, 10)}, 4);
  ContentReader reader(layout, dir.path());
  EXPECT_EQ(read_ok(reader, 0, 0, 4), "0123");
  EXPECT_EQ(read_ok(reader, 1, 1, 3), "567");
  EXPECT_EQ(read_ok(reader, 2, 0, 2), "89");
}

// More files than the reader keeps open: reading back and forth must reopen the right ones.
TEST(ContentReader, ManyFilesInAnyOrder) {
  TempDir dir;
  std::vector<FileEntry> files;
  std::string stream;
  for (int i = 0; i < 25; ++i) {
    std::string bytes;
    for (int j = 0; j < 3 + i % 4; ++j) bytes.push_back(static_cast<char>('A' + (i + j) % 26));
    bytes[0] = static_cast<char>('a' + i % 26);
    const std::string name = "f" + std::to_string(i);
    write_file(dir.path() / "many" / name, bytes);
    files.push_back(entry({"many", name}, static_cast<std::int64_t>(bytes.size())));
    stream += bytes;
  }
  const FileLayout layout(files, 7);
  ContentReader reader(layout, dir.path());
  std::vector<std::int32_t> order;
  for (std::int32_t p = 0; p < layout.num_pieces(); ++p) order.push_back(p);
  for (std::int32_t p = layout.num_pieces() - 1; p >= 0; --p) order.push_back(p);
  std::mt19937 rng(7);
  for (int i = 0; i < 200; ++i)
    order.push_back(static_cast<std::int32_t>(rng() % layout.num_pieces()));
  for (std::int32_t p : order) {
    const auto size = static_cast<std::size_t>(layout.piece_size(PieceIndex(p)));
    ASSERT_EQ(read_ok(reader, p, 0, size), stream.substr(static_cast<std::size_t>(p) * 7, size))
        << "piece " << p;
  }
}

}  // namespace
}  // namespace starling
