#include "storage/file_store.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <thread>
#include <vector>

#include "support/file_size_limit.hpp"
#include "support/layout.hpp"
#include "support/temp_dir.hpp"

namespace starling {
namespace {

namespace fs = std::filesystem;

using testing::content;
using testing::entry;
using testing::TempDir;
using testing::write_file;

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// name/a (10) | name/empty (0) | name/.pad (6, padding) | name/sub/b (20); pieces of 8 bytes.
FileLayout sample_layout() {
  return FileLayout({entry({"name", "a"}, 10), entry({"name", "empty"}, 0),
                     entry({"name", ".pad", "6"}, 6, true), entry({"name", "sub", "b"}, 20)},
                    8);
}

TEST(FileStore, WritesEveryPieceAcrossFilesAndSkipsPadding) {
  TempDir dir;
  FileStore store(sample_layout(), dir.path(), OpenMode::read_write);
  const std::string stream = content(7, 36);
  // Write pieces out of order, in two halves each, as blocks would arrive.
  for (int p : {4, 1, 3, 0, 2}) {
    const auto size = store.layout().piece_size(PieceIndex(p));
    const std::string_view piece = std::string_view(stream).substr(p * 8, size);
    ASSERT_TRUE(store.write(PieceIndex(p), 0, piece.substr(0, size / 2)));
    ASSERT_TRUE(store.write(PieceIndex(p), size / 2, piece.substr(size / 2)));
  }
  ASSERT_TRUE(store.create_empty_files());
  store.close_all();
  EXPECT_EQ(slurp(dir.path() / "name" / "a"), stream.substr(0, 10));
  EXPECT_EQ(slurp(dir.path() / "name" / "sub" / "b"), stream.substr(16, 20));
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "name" / "empty"));
  EXPECT_EQ(std::filesystem::file_size(dir.path() / "name" / "empty"), 0u);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "name" / ".pad"));

  // Reading back gives the stream with zeros where the padding was.
  std::string expected = stream;
  std::fill(expected.begin() + 10, expected.begin() + 16, '\0');
  std::string piece(8, 'x');
  for (int p = 0; p < 5; ++p) {
    const auto size = static_cast<std::size_t>(store.layout().piece_size(PieceIndex(p)));
    ASSERT_TRUE(store.read(PieceIndex(p), 0, std::span<char>(piece.data(), size)));
    EXPECT_EQ(piece.substr(0, size), expected.substr(static_cast<std::size_t>(p) * 8, size))
        << "piece " << p;
  }
}

TEST(FileStore, ReadOnlyStoreRefusesWritesAndNamesMissingFiles) {
  TempDir dir;
  FileStore store(sample_layout(), dir.path(), OpenMode::read_only);
  auto written = store.write(PieceIndex(0), 0, "abc");
  ASSERT_FALSE(written);
  EXPECT_NE(written.error().message().find("read-only"), std::string::npos);
  char buf[4];
  auto read = store.read(PieceIndex(0), 0, buf);
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().code, std::errc::no_such_file_or_directory);
  EXPECT_NE(read.error().message().find((dir.path() / "name" / "a").string()), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "name"));
}

TEST(FileStore, ShortFileIsAnErrorNamingIt) {
  TempDir dir;
  testing::write_file(dir.path() / "name" / "a", "12345");
  FileStore store(sample_layout(), dir.path(), OpenMode::read_only);
  char buf[8];
  auto read = store.read(PieceIndex(0), 0, buf);
  ASSERT_FALSE(read);
  EXPECT_NE(read.error().message().find("shorter than the torrent says"), std::string::npos);
}

TEST(FileStore, FullDiskIsReportedWithTheFile) {
  TempDir dir;
  FileStore store(FileLayout({entry({"big"}, 1 << 20)}, 1 << 20), dir.path(), OpenMode::read_write);
  // A file size limit stands in for a full disk: the write fails with EFBIG instead of ENOSPC.
  const auto written = [&] {
    const testing::FileSizeLimit limit(4096);
    return store.write(PieceIndex(0), 0, std::string(1 << 20, 'z'));
  }();
  ASSERT_FALSE(written);
  EXPECT_EQ(written.error().code, std::errc::file_too_large);
  EXPECT_NE(written.error().message().find("big"), std::string::npos);
}

// Bytes the filesystem has allocated to `path` (st_blocks are 512-byte units).
std::int64_t allocated_bytes(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0);
  return static_cast<std::int64_t>(st.st_blocks) * 512;
}

TEST(FileStore, PreallocatesFilesItWritesWithoutChangingTheirSize) {
  TempDir dir;
  constexpr std::int64_t kSize = 4 << 20;
  for (const bool preallocate : {true, false}) {
    const fs::path sub = dir.path() / (preallocate ? "on" : "off");
    FileStore store(FileLayout({entry({"f"}, kSize)}, 1 << 20), sub, OpenMode::read_write,
                    FileStoreSettings{.preallocate = preallocate});
    ASSERT_TRUE(store.write(PieceIndex(0), 0, "x"));
    EXPECT_EQ(fs::file_size(sub / "f"), 1u);
    if (preallocate) {
      EXPECT_GE(allocated_bytes(sub / "f"), kSize);
    } else {
      EXPECT_LT(allocated_bytes(sub / "f"), kSize);
    }
  }
}

TEST(FileStore, ManyThreadsWithATinyDescriptorCache) {
  TempDir dir;
  std::vector<FileEntry> files;
  for (int i = 0; i < 40; ++i) files.push_back(entry({"t", "f" + std::to_string(i)}, 1000));
  FileStoreSettings settings;
  settings.max_open_files = 3;  // forces evictions while other threads use the files
  FileStore store(FileLayout(files, 1024), dir.path(), OpenMode::read_write, settings);
  const std::string stream = content(11, 40'000);
  const auto pieces = store.layout().num_pieces();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int p = t; p < pieces; p += 4) {
        const auto size = static_cast<std::size_t>(store.layout().piece_size(PieceIndex(p)));
        EXPECT_TRUE(store.write(PieceIndex(p), 0, std::string_view(stream).substr(p * 1024, size)));
      }
    });
  }
  for (auto& t : threads) t.join();
  std::string back(1024, '\0');
  for (int p = 0; p < pieces; ++p) {
    const auto size = static_cast<std::size_t>(store.layout().piece_size(PieceIndex(p)));
    ASSERT_TRUE(store.read(PieceIndex(p), 0, std::span<char>(back.data(), size)));
    ASSERT_EQ(back.substr(0, size), stream.substr(static_cast<std::size_t>(p) * 1024, size));
  }
}

// Reads `length` bytes at `offset` in `piece`, failing the test on an error.
std::string read_ok(FileStore& reader, std::int32_t piece, std::int64_t offset,
                    std::size_t length) {
  std::string out(length, '?');
  auto s = reader.read(PieceIndex(piece), offset, std::span<char>(out.data(), out.size()));
  EXPECT_TRUE(s) << (s ? "" : s.error().message());
  return out;
}

Error read_error(FileStore& reader, std::int32_t piece, std::int64_t offset, std::size_t length) {
  std::string out(length, '?');
  auto s = reader.read(PieceIndex(piece), offset, std::span<char>(out.data(), out.size()));
  EXPECT_FALSE(s);
  return s ? Error{} : s.error();
}

// Files t/a (5 bytes), t/pad (3-byte padding file, not on disk), t/empty (0) and t/b (7 bytes),
// in pieces of 4: the stream is "ABCDE" "\0\0\0" "fghijkl".
class FileStoreReadTest : public ::testing::Test {
 protected:
  FileStoreReadTest()
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

TEST_F(FileStoreReadTest, ReadsEveryPiece) {
  FileStore reader(layout_, dir_.path(), OpenMode::read_only);
  ASSERT_EQ(layout_.num_pieces(), 4);
  EXPECT_EQ(read_ok(reader, 0, 0, 4), "ABCD");
  EXPECT_EQ(read_ok(reader, 1, 0, 4), std::string("E\0\0\0", 4));
  EXPECT_EQ(read_ok(reader, 2, 0, 4), "fghi");
  EXPECT_EQ(read_ok(reader, 3, 0, 3), "jkl");
}

TEST_F(FileStoreReadTest, ReadsAcrossFileBoundaries) {
  const FileLayout whole(layout_.files(), 16);  // one piece holding everything
  FileStore reader(whole, dir_.path(), OpenMode::read_only);
  EXPECT_EQ(read_ok(reader, 0, 0, 15), std::string("ABCDE\0\0\0fghijkl", 15));
  EXPECT_EQ(read_ok(reader, 0, 3, 7), std::string("DE\0\0\0fg", 7));
  EXPECT_EQ(read_ok(reader, 0, 4, 1), "E");
  EXPECT_EQ(read_ok(reader, 0, 8, 2), "fg");
  EXPECT_EQ(read_ok(reader, 0, 14, 1), "l");
  EXPECT_EQ(read_ok(reader, 0, 7, 0), "");
}

TEST_F(FileStoreReadTest, PaddingReadsAsZerosWhateverIsOnDisk) {
  write_file(dir_.path() / "t" / "pad", "XYZ");
  FileStore reader(layout_, dir_.path(), OpenMode::read_only);
  EXPECT_EQ(read_ok(reader, 1, 1, 3), std::string(3, '\0'));
  EXPECT_EQ(read_ok(reader, 1, 0, 4), std::string("E\0\0\0", 4));
}

TEST_F(FileStoreReadTest, MissingFileIsNamed) {
  fs::remove(dir_.path() / "t" / "b");
  FileStore reader(layout_, dir_.path(), OpenMode::read_only);
  EXPECT_EQ(read_ok(reader, 0, 0, 4), "ABCD");  // other files still read
  const Error e = read_error(reader, 2, 0, 4);
  EXPECT_EQ(e.code, std::errc::no_such_file_or_directory);
  EXPECT_EQ(e.detail, (dir_.path() / "t" / "b").string());
  // A span that does not touch the missing file still reads.
  EXPECT_EQ(read_ok(reader, 1, 0, 4), std::string("E\0\0\0", 4));
}

TEST_F(FileStoreReadTest, MissingDirectoryIsNamed) {
  FileStore reader(layout_, dir_.path() / "nowhere", OpenMode::read_only);
  const Error e = read_error(reader, 0, 0, 4);
  EXPECT_EQ(e.code, std::errc::no_such_file_or_directory);
  EXPECT_EQ(e.detail, (dir_.path() / "nowhere" / "t" / "a").string());
}

TEST_F(FileStoreReadTest, ShortFileIsNamed) {
  write_file(dir_.path() / "t" / "b", "fghi");  // 4 of 7 bytes
  FileStore reader(layout_, dir_.path(), OpenMode::read_only);
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

TEST_F(FileStoreReadTest, ShortFileInTheMiddleOfARead) {
  write_file(dir_.path() / "t" / "a", "ABC");  // 3 of 5 bytes
  const FileLayout whole(layout_.files(), 16);
  FileStore reader(whole, dir_.path(), OpenMode::read_only);
  EXPECT_EQ(read_ok(reader, 0, 0, 3), "ABC");
  const Error e = read_error(reader, 0, 0, 10);
  EXPECT_EQ(e.code, make_error_code(Errc::io_error));
  const std::string path = (dir_.path() / "t" / "a").string();
  EXPECT_EQ(e.detail.substr(0, path.size()), path);
}

TEST_F(FileStoreReadTest, LongerFileOnDiskIsReadOnlyUpToItsSize) {
  write_file(dir_.path() / "t" / "a", "ABCDE-extra-bytes");
  FileStore reader(layout_, dir_.path(), OpenMode::read_only);
  EXPECT_EQ(read_ok(reader, 1, 0, 4), std::string("E\0\0\0", 4));
}

TEST(FileStoreRead, SingleFileTorrent) {
  TempDir dir;
  write_file(dir.path() / "movie.mkv", "0123456789");
  const FileLayout layout({entry({"movie.mkv"}, 10)}, 4);
  FileStore reader(layout, dir.path(), OpenMode::read_only);
  EXPECT_EQ(read_ok(reader, 0, 0, 4), "0123");
  EXPECT_EQ(read_ok(reader, 1, 1, 3), "567");
  EXPECT_EQ(read_ok(reader, 2, 0, 2), "89");
}

// More files than the reader keeps open: reading back and forth must reopen the right ones.
TEST(FileStoreRead, ManyFilesInAnyOrder) {
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
  FileStore reader(layout, dir.path(), OpenMode::read_only);
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

TEST(FileStore, ReadCachedServesOpenFilesFromThePageCacheOnly) {
  TempDir dir;
  const std::string stream = content(3, 36);
  {
    FileStore writer(sample_layout(), dir.path(), OpenMode::read_write);
    for (int p = 0; p < 5; ++p) {
      const auto size = writer.layout().piece_size(PieceIndex(p));
      ASSERT_TRUE(writer.write(PieceIndex(p), 0, std::string_view(stream).substr(p * 8, size)));
    }
  }
  FileStore store(sample_layout(), dir.path(), OpenMode::read_only);
  std::string out(8, '\0');
  // Nothing is open yet: the network thread must not open files, so it is told to go to disk.
  EXPECT_FALSE(store.read_cached(PieceIndex(0), 0, out));
  ASSERT_TRUE(store.read(PieceIndex(0), 0, out));  // opens name/a
  // Piece 1 spans name/a (2 bytes), the padding (6 zero bytes) and nothing of name/sub/b.
  std::string cached(8, 'x');
  ASSERT_TRUE(store.read_cached(PieceIndex(1), 0, cached));
  EXPECT_EQ(cached, stream.substr(8, 2) + std::string(6, '\0'));
  // Piece 2 lies in name/sub/b, not open yet.
  EXPECT_FALSE(store.read_cached(PieceIndex(2), 0, out));
  ASSERT_TRUE(store.read(PieceIndex(2), 0, out));
  std::string again(8, 'x');
  ASSERT_TRUE(store.read_cached(PieceIndex(2), 0, again));
  EXPECT_EQ(again, out);
}

// Pages of `path` in the page cache (mincore over a mapping: nothing is read).
std::size_t cached_pages(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  EXPECT_GE(fd, 0);
  const auto size = static_cast<std::size_t>(fs::file_size(path));
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  EXPECT_NE(map, MAP_FAILED);
  const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> resident((size + page - 1) / page);
  EXPECT_EQ(::mincore(map, size, resident.data()), 0);
  ::munmap(map, size);
  return static_cast<std::size_t>(std::count_if(resident.begin(), resident.end(),
                                                [](unsigned char r) { return (r & 1) != 0; }));
}

// An aligned copy of `bytes`, as write_piece wants.
struct AlignedCopy {
  explicit AlignedCopy(std::string_view bytes)
      : data(static_cast<char*>(std::aligned_alloc(
            kDirectIoAlignment, (bytes.size() / kDirectIoAlignment + 1) * kDirectIoAlignment))),
        size(bytes.size()) {
    std::memcpy(data, bytes.data(), bytes.size());
  }
  ~AlignedCopy() { std::free(data); }
  AlignedCopy(const AlignedCopy&) = delete;
  AlignedCopy& operator=(const AlignedCopy&) = delete;
  std::span<const char> span() const { return {data, size}; }
  char* data;
  std::size_t size;
};

TEST(FileStore, WritePieceGivesTheSameFilesWithOrWithoutDirectIo) {
  TempDir dir;
  // File boundaries at odd offsets: pieces cross files, and most spans have ragged ends.
  const std::vector<FileEntry> files = {entry({"t", "a"}, 5000), entry({"t", "pad"}, 3000, true),
                                        entry({"t", "b"}, 70'001), entry({"t", "c"}, 3),
                                        entry({"t", "d"}, 40'960)};
  const FileLayout layout(files, 32 * 1024);
  const std::string stream = content(5, 5000 + 3000 + 70'001 + 3 + 40'960);
  for (const bool direct : {true, false}) {
    const fs::path sub = dir.path() / (direct ? "direct" : "buffered");
    FileStore store(layout, sub, OpenMode::read_write, FileStoreSettings{.direct_io = direct});
    EXPECT_EQ(store.direct_io(), direct);
    for (std::int32_t p = layout.num_pieces() - 1; p >= 0; --p) {  // last piece first
      const auto size = static_cast<std::size_t>(layout.piece_size(PieceIndex(p)));
      const AlignedCopy piece(
          std::string_view(stream).substr(static_cast<std::size_t>(p) * 32768, size));
      ASSERT_TRUE(store.write_piece(PieceIndex(p), piece.span()));
    }
    EXPECT_EQ(slurp(sub / "t" / "a"), stream.substr(0, 5000));
    EXPECT_FALSE(fs::exists(sub / "t" / "pad"));
    EXPECT_EQ(slurp(sub / "t" / "b"), stream.substr(8000, 70'001));
    EXPECT_EQ(slurp(sub / "t" / "c"), stream.substr(78'001, 3));
    EXPECT_EQ(slurp(sub / "t" / "d"), stream.substr(78'004, 40'960));
  }
}

TEST(FileStore, DirectWritesOfWholePagesBypassThePageCache) {
  TempDir dir;
  constexpr std::int64_t kPiece = 256 * 1024;
  const FileLayout layout({entry({"f"}, 4 * kPiece)}, kPiece);
  FileStore store(layout, dir.path(), OpenMode::read_write, FileStoreSettings{.direct_io = true});
  const std::string stream = content(9, 4 * kPiece);
  for (std::int32_t p = 0; p < 4; ++p) {
    const AlignedCopy piece(
        std::string_view(stream).substr(static_cast<std::size_t>(p * kPiece), kPiece));
    ASSERT_TRUE(store.write_piece(PieceIndex(p), piece.span()));
  }
  store.close_all();
  const int probe = ::open((dir.path() / "f").c_str(), O_RDWR | O_DIRECT | O_CLOEXEC);
  if (probe < 0) GTEST_SKIP() << "the temp directory's filesystem has no O_DIRECT";
  ::close(probe);
  // Ordinary writes would have left all 256 pages cached.
  EXPECT_LT(cached_pages(dir.path() / "f"), 16u);
  EXPECT_EQ(slurp(dir.path() / "f"), stream);
}

TEST(FileStore, CachedSlicesNameTheFileRunsOfCachedBlocksOnly) {
  TempDir dir;
  // Two files, the block at 5000..9000 crosses from the first into the second.
  const FileLayout layout({entry({"t", "a"}, 6000), entry({"t", "b"}, 10'000)}, 8192);
  const std::string stream = content(2, 16'000);
  write_file(dir.path() / "t" / "a", stream.substr(0, 6000));
  write_file(dir.path() / "t" / "b", stream.substr(6000));
  FileStore store(layout, dir.path(), OpenMode::read_only);
  std::vector<FileSlice> slices;
  // Files not open yet: no slices (the caller reads on a disk thread, which opens them).
  EXPECT_FALSE(store.cached_slices(PieceIndex(0), 5000, 3192, slices));
  std::string buffer(8192, '\0');
  ASSERT_TRUE(store.read(PieceIndex(0), 0, std::span<char>(buffer.data(), 8192)));
  ASSERT_TRUE(store.read(PieceIndex(1), 0, std::span<char>(buffer.data(), 7808)));
  slices.push_back(FileSlice{});  // appended to, not replaced
  if (!store.cached_slices(PieceIndex(0), 5000, 3192, slices)) {
    GTEST_SKIP() << "no cachestat(2) here";
  }
  ASSERT_EQ(slices.size(), 3u);
  std::string gathered;
  for (std::size_t i = 1; i < slices.size(); ++i) {
    std::string part(static_cast<std::size_t>(slices[i].length), '\0');
    ASSERT_EQ(::pread(slices[i].fd, part.data(), part.size(), slices[i].offset),
              static_cast<ssize_t>(part.size()));
    gathered += part;
  }
  EXPECT_EQ(gathered, stream.substr(5000, 3192));
  EXPECT_EQ(slices[1].offset, 5000);
  EXPECT_EQ(slices[2].offset, 0);
  // Dropped from the page cache: no slices, and `slices` is left as it was.
  const int fd = ::open((dir.path() / "t" / "b").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::fdatasync(fd), 0);  // only clean pages can be dropped
  ASSERT_EQ(::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
  ::close(fd);
  slices.resize(1);
  EXPECT_FALSE(store.cached_slices(PieceIndex(0), 5000, 3192, slices));
  EXPECT_EQ(slices.size(), 1u);
}

}  // namespace
}  // namespace starling
