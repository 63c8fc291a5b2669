#include "session/disk_io.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <boost/asio/executor_work_guard.hpp>
#include <csignal>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <thread>
#include <vector>

#include "core/digest.hpp"
#include "support/file_size_limit.hpp"
#include "support/layout.hpp"
#include "support/temp_dir.hpp"

namespace starling::session {
namespace {

namespace fs = std::filesystem;
using starling::testing::content;
using starling::testing::entry;
using starling::testing::TempDir;

constexpr std::int64_t kPiece = 64 * 1024;
constexpr std::int64_t kBlock = 16 * 1024;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Runs the io_context until `done()` holds (completions come from the disk threads).
template <class Pred>
void run_until(boost::asio::io_context& io, Pred done) {
  while (!done()) {
    io.run_one_for(std::chrono::seconds(5));
    io.restart();
  }
}

struct Fixture {
  // Direct I/O on, so that pieces are staged (unless the budget says otherwise).
  explicit Fixture(DiskIoSettings settings, FileStoreSettings storage = {.direct_io = true})
      : layout({entry({"f"}, 3 * kPiece + 1000)}, kPiece),
        stream(content(3, 3 * kPiece + 1000)),
        store(std::make_shared<FileStore>(layout, dir.path(), OpenMode::read_write, storage)),
        disk(io, settings) {}

  // Writes piece `p` block by block, last block first, then hashes it.
  Expected<Sha1Digest> download(std::int32_t p) {
    const std::int64_t blocks = (layout.piece_size(PieceIndex(p)) + kBlock - 1) / kBlock;
    std::vector<std::int64_t> order;
    for (std::int64_t b = blocks - 1; b >= 0; --b) order.push_back(b);
    return download(p, order);
  }

  // Writes the blocks of piece `p` in `order` (block numbers; repeats allowed), then hashes it.
  Expected<Sha1Digest> download(std::int32_t p, const std::vector<std::int64_t>& order) {
    const PieceIndex piece(p);
    const std::int64_t size = layout.piece_size(piece);
    int writes = 0;
    std::optional<Status> failed;
    for (const std::int64_t block : order) {
      const std::int64_t at = block * kBlock;
      const auto bytes =
          std::string_view(stream).substr(static_cast<std::size_t>(p * kPiece + at),
                                          static_cast<std::size_t>(std::min(kBlock, size - at)));
      ++writes;
      disk.async_write(store, pieces, piece, at, SharedBytes::copy_of(bytes), [&](Status s) {
        --writes;
        if (!s) failed = s;
      });
    }
    run_until(io, [&] { return writes == 0; });
    if (failed) return failed->error();
    std::optional<Expected<Sha1Digest>> digest;
    disk.async_hash(store, pieces, piece, [&](Expected<Sha1Digest> d) { digest = std::move(d); });
    run_until(io, [&] { return digest.has_value(); });
    EXPECT_EQ(disk.queued_write_bytes(), 0);
    return *digest;
  }

  Sha1Digest expected(std::int32_t p) const {
    return sha1(std::string_view(stream).substr(
        static_cast<std::size_t>(p * kPiece),
        static_cast<std::size_t>(layout.piece_size(PieceIndex(p)))));
  }

  TempDir dir;
  FileLayout layout;
  std::string stream;
  boost::asio::io_context io;
  std::shared_ptr<FileStore> store;
  std::shared_ptr<PartialPieces> pieces = std::make_shared<PartialPieces>();
  DiskIo disk;
};

TEST(DiskIo, StagedPiecesAreHashedThenWrittenWhole) {
  for (const std::int64_t budget : {std::int64_t{32} << 20, std::int64_t{0}}) {  // staged, then not
    Fixture f(DiskIoSettings{.threads = 2, .staging_budget = budget, .pairing = {}});
    for (std::int32_t p = 0; p < 4; ++p) {
      auto digest = f.download(p);
      ASSERT_TRUE(digest) << digest.error().message();
      EXPECT_EQ(*digest, f.expected(p)) << "piece " << p << " budget " << budget;
    }
    EXPECT_EQ(slurp(f.dir.path() / "f"), f.stream);
  }
}

TEST(DiskIo, StagedPiecesHashRightInAnyArrivalOrder) {
  // Staged or written through (where in-order blocks are hashed as they arrive, the rest read
  // back), in order, out of order and with a block written twice.
  const std::vector<std::vector<std::int64_t>> orders = {
      {0, 1, 2, 3}, {1, 0, 2, 3}, {0, 2, 1, 3}, {3, 2, 1, 0}, {0, 1, 0, 2, 3}, {0, 1, 2, 3, 3}};
  for (const std::int64_t budget : {std::int64_t{32} << 20, std::int64_t{0}}) {
    for (const auto& order : orders) {
      Fixture f(DiskIoSettings{.threads = 1, .staging_budget = budget, .pairing = {}});
      auto digest = f.download(1, order);
      ASSERT_TRUE(digest) << digest.error().message();
      EXPECT_EQ(*digest, f.expected(1))
          << "budget " << budget << ", order starting " << order[0] << order[1] << order[2];
      EXPECT_EQ(slurp(f.dir.path() / "f").substr(kPiece, kPiece), f.stream.substr(kPiece, kPiece));
    }
  }
}

TEST(DiskIo, PiecesWrittenInOrderAreHashedInPairsFromMemory) {
  // Page-cache writes, one thread: blocks are held and hashed two pieces at a time; the last
  // piece, with no partner, is hashed when its hold ends (the thread wakes for it).
  for (const int threads : {1, 2}) {
    Fixture f(DiskIoSettings{.threads = threads, .staging_budget = 0, .pairing = {}},
              FileStoreSettings{.direct_io = false});
    std::map<std::int32_t, Expected<Sha1Digest>> digests;
    int writes = 0;
    for (std::int32_t p = 0; p < 4; ++p) {
      const std::int64_t size = f.layout.piece_size(PieceIndex(p));
      for (std::int64_t at = 0; at < size; at += kBlock) {
        ++writes;
        f.disk.async_write(f.store, f.pieces, PieceIndex(p), at,
                           SharedBytes::copy_of(std::string_view(f.stream).substr(
                               static_cast<std::size_t>(p * kPiece + at),
                               static_cast<std::size_t>(std::min(kBlock, size - at)))),
                           [&](const Status& s) {
                             EXPECT_TRUE(s);
                             --writes;
                           });
      }
      f.disk.async_hash(f.store, f.pieces, PieceIndex(p),
                        [&digests, p](Expected<Sha1Digest> d) { digests.emplace(p, d); });
    }
    run_until(f.io, [&] { return writes == 0 && digests.size() == 4; });
    for (std::int32_t p = 0; p < 4; ++p) {
      ASSERT_TRUE(digests.at(p)) << digests.at(p).error().message();
      EXPECT_EQ(*digests.at(p), f.expected(p)) << "piece " << p << ", " << threads << " threads";
    }
    EXPECT_EQ(f.disk.queued_write_bytes(), 0);
    EXPECT_EQ(slurp(f.dir.path() / "f"), f.stream);
  }
}

TEST(DiskIo, ABatchHoldsJobsUntilItEnds) {
  Fixture f(DiskIoSettings{.threads = 2, .staging_budget = 0, .pairing = {}});
  std::vector<int> done;
  {
    const DiskIo::Batch batch(f.disk);
    for (std::int32_t p = 0; p < 3; ++p) {
      f.disk.async_write(
          f.store, f.pieces, PieceIndex(p), 0,
          SharedBytes::copy_of(std::string_view(f.stream).substr(p * kPiece, kBlock)),
          [&done, p](const Status& s) {
            EXPECT_TRUE(s);
            done.push_back(p);
          });
    }
    const DiskIo::Batch nested(f.disk);  // the outermost batch hands the jobs over
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    f.io.poll();
    f.io.restart();
    EXPECT_TRUE(done.empty());
    EXPECT_FALSE(fs::exists(f.dir.path() / "f") && fs::file_size(f.dir.path() / "f") > 0);
  }
  run_until(f.io, [&] { return done.size() == 3; });
  EXPECT_EQ(slurp(f.dir.path() / "f").substr(2 * kPiece, kBlock),
            f.stream.substr(2 * kPiece, kBlock));
  EXPECT_EQ(f.disk.queued_write_bytes(), 0);
}

TEST(DiskIo, StagingStaysWithinItsBudget) {
  // Room for one piece: the second piece in progress at the same time is written through.
  Fixture f(DiskIoSettings{.threads = 1, .staging_budget = kPiece, .pairing = {}});
  int writes = 0;
  for (std::int32_t p = 0; p < 2; ++p) {
    ++writes;
    f.disk.async_write(f.store, f.pieces, PieceIndex(p), 0,
                       SharedBytes::copy_of(std::string_view(f.stream).substr(p * kPiece, kBlock)),
                       [&](Status s) {
                         EXPECT_TRUE(s);
                         --writes;
                       });
  }
  run_until(f.io, [&] { return writes == 0; });
  // Piece 1's first block is on disk already; piece 0's is still in memory.
  EXPECT_EQ(fs::file_size(f.dir.path() / "f"), static_cast<std::uintmax_t>(kPiece + kBlock));
  EXPECT_EQ(slurp(f.dir.path() / "f").substr(kPiece, kBlock), f.stream.substr(kPiece, kBlock));
  for (std::int32_t p = 0; p < 2; ++p) {
    auto digest = f.download(p);
    ASSERT_TRUE(digest);
    EXPECT_EQ(*digest, f.expected(p));
  }
}

TEST(DiskIo, AFailedWriteOfAStagedPieceIsTheHashResult) {
  Fixture f(DiskIoSettings{.threads = 1, .staging_budget = 32 << 20, .pairing = {}});
  // A file size limit stands in for a full disk (EFBIG instead of ENOSPC).
  const auto digest = [&] {
    const testing::FileSizeLimit limit(4096);
    return f.download(1);
  }();
  ASSERT_FALSE(digest);
  EXPECT_NE(digest.error().message().find((f.dir.path() / "f").string()), std::string::npos)
      << digest.error().message();
}

}  // namespace
}  // namespace starling::session
