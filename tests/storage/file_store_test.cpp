#include "storage/file_store.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <csignal>
#include <fstream>
#include <iterator>
#include <thread>
#include <vector>

#include "support/temp_dir.hpp"

namespace starling {
namespace {

using testing::content;
using testing::TempDir;

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

FileEntry entry(std::vector<std::string> path, std::int64_t size, bool pad = false) {
  FileEntry f;
  f.path = std::move(path);
  f.size = size;
  f.pad = pad;
  return f;
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
  rlimit old{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  rlimit small = old;
  small.rlim_cur = 4096;
  const auto previous_handler = std::signal(SIGXFSZ, SIG_IGN);
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  auto written = store.write(PieceIndex(0), 0, std::string(1 << 20, 'z'));
  ::setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, previous_handler);
  ASSERT_FALSE(written);
  EXPECT_EQ(written.error().code, std::errc::file_too_large);
  EXPECT_NE(written.error().message().find("big"), std::string::npos);
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

}  // namespace
}  // namespace starling
