#include "storage/resume_data.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "support/layout.hpp"
#include "support/temp_dir.hpp"

namespace starling {
namespace {

using testing::entry;
using testing::TempDir;

// Pieces of 8 bytes: t/a is bytes 0-9 (pieces 0-1), t/b 10-23 (pieces 1-2), t/c 24-31 (piece 3).
FileLayout layout() {
  return FileLayout({entry({"t", "a"}, 10), entry({"t", "b"}, 14), entry({"t", "c"}, 8)}, 8);
}

Sha1Digest hash_of(std::string_view s) {
  return sha1(s);
}

ResumeData sample(const TempDir& dir) {
  testing::write_file(dir.path() / "t" / "a", std::string(10, 'a'));
  testing::write_file(dir.path() / "t" / "b", std::string(14, 'b'));
  testing::write_file(dir.path() / "t" / "c", std::string(8, 'c'));
  ResumeData r;
  r.info_hash = hash_of("torrent");
  r.have = Bitfield(4, true);
  r.files = stamp_files(layout(), dir.path());
  return r;
}

TEST(ResumeData, RoundTripsThroughAFile) {
  TempDir dir;
  ResumeData r = sample(dir);
  r.have.clear(2);
  ASSERT_TRUE(save_resume(dir.path() / "resume", r));
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "resume.tmp"));
  auto loaded = load_resume(dir.path() / "resume", r.info_hash, layout());
  ASSERT_TRUE(loaded) << loaded.error().message();
  EXPECT_EQ(loaded->have, r.have);
  EXPECT_EQ(loaded->files, r.files);
  EXPECT_EQ(loaded->info_hash, r.info_hash);
}

TEST(ResumeData, StampsRecordSizeAndMissingFiles) {
  TempDir dir;
  ResumeData r = sample(dir);
  EXPECT_EQ(r.files[0].size, 10);
  EXPECT_EQ(r.files[1].size, 14);
  std::filesystem::remove(dir.path() / "t" / "c");
  EXPECT_EQ(stamp_files(layout(), dir.path())[2].size, -1);
}

TEST(ResumeData, UnchangedFilesKeepEveryPiece) {
  TempDir dir;
  ResumeData r = sample(dir);
  EXPECT_EQ(trusted_pieces(r, layout(), stamp_files(layout(), dir.path())), r.have);
}

TEST(ResumeData, AChangedFileDropsOnlyThePiecesItTouches) {
  TempDir dir;
  ResumeData r = sample(dir);
  // Rewriting b with a different size changes its stamp: pieces 1 and 2 (bytes 10..23) go.
  testing::write_file(dir.path() / "t" / "b", std::string(15, 'B'));
  Bitfield trusted = trusted_pieces(r, layout(), stamp_files(layout(), dir.path()));
  EXPECT_TRUE(trusted[0]);
  EXPECT_FALSE(trusted[1]);
  EXPECT_FALSE(trusted[2]);
  EXPECT_TRUE(trusted[3]);
}

TEST(ResumeData, ATouchedFileWithTheSameSizeIsNotTrusted) {
  TempDir dir;
  ResumeData r = sample(dir);
  auto stamps = stamp_files(layout(), dir.path());
  stamps[2].mtime_ns += 1;  // as if c was rewritten in place
  Bitfield trusted = trusted_pieces(r, layout(), stamps);
  EXPECT_FALSE(trusted[3]);
  EXPECT_EQ(trusted.count(), 3u);
}

TEST(ResumeData, RejectsDataForAnotherTorrentOrShape) {
  TempDir dir;
  ResumeData r = sample(dir);
  const std::string bytes = encode_resume(r);
  EXPECT_FALSE(parse_resume(bytes, hash_of("other"), layout()));
  FileLayout fewer_pieces({entry({"t", "a"}, 10)}, 8);
  EXPECT_FALSE(parse_resume(bytes, r.info_hash, fewer_pieces));
  FileLayout same_pieces_other_files({entry({"t", "a"}, 32)}, 8);
  EXPECT_FALSE(parse_resume(bytes, r.info_hash, same_pieces_other_files));
}

TEST(ResumeData, CorruptFilesAreErrorsNotCrashes) {
  TempDir dir;
  ResumeData r = sample(dir);
  const std::string bytes = encode_resume(r);
  for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
    EXPECT_FALSE(parse_resume(bytes.substr(0, cut), r.info_hash, layout())) << "cut at " << cut;
  }
  EXPECT_FALSE(load_resume(dir.path() / "missing", r.info_hash, layout()));
}

}  // namespace
}  // namespace starling
