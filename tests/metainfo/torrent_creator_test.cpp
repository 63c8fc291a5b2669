#include "metainfo/torrent_creator.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "bencode/decoder.hpp"
#include "core/digest.hpp"
#include "metainfo/torrent_info.hpp"
#include "support/temp_dir.hpp"

namespace starling {
namespace {

namespace fs = std::filesystem;

using testing::content;
using testing::TempDir;
using testing::write_file;

struct TreeFile {
  std::vector<std::string> path;  // below the torrent's root directory
  std::string bytes;
};

// The test tree, in the order the creator must list it: joined paths sorted bytewise, so "Z"
// (0x5a) before "a", and "a-b.txt" ('-' is 0x2d) before "a/..." ('/' is 0x2f).
std::vector<TreeFile> tree_files() {
  return {
      {{"Z.txt"}, content(1, 777)},
      {{"a-b.txt"}, content(2, 3000)},
      {{"a", "empty"}, ""},
      {{"a", "sub", "y.bin"}, content(3, 12345)},
      {{"a", "x.bin"}, content(4, 20000)},
      {{"b.txt"}, content(5, 5000)},
  };
}

// Writes the tree below dir/name, in an order different from the sorted one.
fs::path make_tree(const fs::path& dir, const std::string& name = "pack") {
  const fs::path root = dir / name;
  auto files = tree_files();
  std::reverse(files.begin(), files.end());
  for (const auto& f : files) {
    fs::path p = root;
    for (const auto& c : f.path) p /= c;
    write_file(p, f.bytes);
  }
  return root;
}

std::vector<Sha1Digest> piece_hashes_of(const std::string& stream, std::int64_t piece_length) {
  std::vector<Sha1Digest> out;
  for (std::size_t at = 0; at < stream.size(); at += static_cast<std::size_t>(piece_length)) {
    out.push_back(
        sha1(std::string_view(stream).substr(at, static_cast<std::size_t>(piece_length))));
  }
  return out;
}

TorrentInfo parse_created(const CreatedTorrent& created) {
  auto t = parse_torrent(created.bytes);
  EXPECT_TRUE(t) << (t ? "" : t.error().message());
  return t ? std::move(*t) : TorrentInfo{};
}

CreatedTorrent create_ok(const CreateOptions& options) {
  auto created = create_torrent(options);
  EXPECT_TRUE(created) << (created ? "" : created.error().message());
  return created ? std::move(*created) : CreatedTorrent{};
}

TEST(TorrentCreator, DirectoryTree) {
  TempDir tmp;
  CreateOptions options;
  options.source = make_tree(tmp.path());
  options.piece_length = 4096;
  options.threads = 2;
  const CreatedTorrent created = create_ok(options);

  const auto expected = tree_files();
  std::string stream;
  for (const auto& f : expected) stream += f.bytes;
  ASSERT_EQ(stream.size(), 41122u);

  EXPECT_EQ(created.total_size, 41122);
  EXPECT_EQ(created.piece_length, 4096);
  EXPECT_EQ(created.num_pieces, 11);
  EXPECT_EQ(created.num_files, 6u);

  const TorrentInfo t = parse_created(created);
  EXPECT_EQ(t.info_hash.hex(), created.info_hash);
  EXPECT_EQ(t.name, "pack");
  EXPECT_TRUE(t.multi_file);
  EXPECT_FALSE(t.is_private);
  EXPECT_EQ(t.total_size(), 41122);
  EXPECT_EQ(t.piece_length(), 4096);
  ASSERT_EQ(t.layout.files().size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    std::vector<std::string> path = {"pack"};
    path.insert(path.end(), expected[i].path.begin(), expected[i].path.end());
    EXPECT_EQ(t.layout.files()[i].path, path) << i;
    EXPECT_EQ(t.layout.files()[i].size, static_cast<std::int64_t>(expected[i].bytes.size())) << i;
  }
  EXPECT_EQ(t.piece_hashes, piece_hashes_of(stream, 4096));
  EXPECT_TRUE(t.trackers.empty());
  EXPECT_TRUE(t.web_seeds.empty());
  EXPECT_FALSE(t.creation_date.has_value());

  // The whole file is canonical bencode: sorted keys everywhere, not only inside 'info'.
  EXPECT_TRUE(bencode::decode(created.bytes));
}

TEST(TorrentCreator, DefaultPieceLength) {
  TempDir tmp;
  CreateOptions options;
  options.source = make_tree(tmp.path());
  const CreatedTorrent created = create_ok(options);
  EXPECT_EQ(created.piece_length, 16384);
  EXPECT_EQ(created.num_pieces, 3);
  std::string stream;
  for (const auto& f : tree_files()) stream += f.bytes;
  EXPECT_EQ(parse_created(created).piece_hashes, piece_hashes_of(stream, 16384));
}

TEST(TorrentCreator, SingleFile) {
  TempDir tmp;
  const std::string bytes = content(9, 50000);
  write_file(tmp.path() / "movie.mkv", bytes);
  CreateOptions options;
  options.source = tmp.path() / "movie.mkv";
  options.piece_length = 16384;
  const CreatedTorrent created = create_ok(options);
  EXPECT_EQ(created.num_files, 1u);
  EXPECT_EQ(created.num_pieces, 4);
  const TorrentInfo t = parse_created(created);
  EXPECT_EQ(t.name, "movie.mkv");
  EXPECT_FALSE(t.multi_file);
  ASSERT_EQ(t.layout.files().size(), 1u);
  EXPECT_EQ(t.layout.files()[0].path, std::vector<std::string>{"movie.mkv"});
  EXPECT_EQ(t.total_size(), 50000);
  EXPECT_EQ(t.piece_hashes, piece_hashes_of(bytes, 16384));
  EXPECT_EQ(t.info_hash.hex(), created.info_hash);
  // A single-file info dict has 'length' and no 'files'.
  EXPECT_NE(t.info_bytes.find("6:lengthi50000e"), std::string::npos);
  EXPECT_EQ(t.info_bytes.find("5:files"), std::string::npos);
}

TEST(TorrentCreator, TrailingSlashNamesTheDirectory) {
  TempDir tmp;
  make_tree(tmp.path(), "named");
  CreateOptions options;
  options.source = (tmp.path() / "named").string() + "/";
  const CreatedTorrent created = create_ok(options);
  EXPECT_EQ(parse_created(created).name, "named");

  options.source = tmp.path() / "named" / "." / "a" / "..";
  EXPECT_EQ(parse_created(create_ok(options)).name, "named");
}

TEST(TorrentCreator, RelativeSource) {
  TempDir tmp;
  make_tree(tmp.path());
  const fs::path cwd = fs::current_path();
  fs::current_path(tmp.path());
  CreateOptions options;
  options.source = "pack";
  auto created = create_torrent(options);
  fs::current_path(cwd);
  ASSERT_TRUE(created) << created.error().message();
  EXPECT_EQ(parse_created(*created).name, "pack");
  EXPECT_EQ(created->num_files, 6u);
}

TEST(TorrentCreator, WithoutADateTheOutputIsDeterministic) {
  TempDir tmp;
  CreateOptions options;
  options.source = make_tree(tmp.path());
  options.trackers = {"http://t1/announce", "udp://t2:6969"};
  options.web_seeds = {"http://seed/"};
  options.comment = "same";
  options.created_by = "starling-test";
  options.threads = 1;
  const CreatedTorrent first = create_ok(options);
  options.threads = 4;
  const CreatedTorrent second = create_ok(options);
  EXPECT_EQ(first.bytes, second.bytes);
  EXPECT_EQ(first.info_hash, second.info_hash);
  EXPECT_EQ(first.bytes.find("creation date"), std::string::npos);

  options.creation_date = 1700000000;
  const CreatedTorrent dated = create_ok(options);
  EXPECT_NE(dated.bytes, first.bytes);
  EXPECT_EQ(dated.info_hash, first.info_hash);  // the date lives outside 'info'
  EXPECT_EQ(parse_created(dated).creation_date, std::optional<std::int64_t>(1700000000));
}

TEST(TorrentCreator, OneTrackerGivesAnnounceOnly) {
  TempDir tmp;
  CreateOptions options;
  options.source = make_tree(tmp.path());
  options.trackers = {"http://only/announce"};
  const CreatedTorrent created = create_ok(options);
  auto doc = bencode::decode(created.bytes);
  ASSERT_TRUE(doc);
  EXPECT_EQ(doc->root().find_string("announce"),
            std::optional<std::string_view>("http://only/announce"));
  EXPECT_FALSE(doc->root().find("announce-list"));
  EXPECT_EQ(parse_created(created).trackers,
            (std::vector<std::vector<std::string>>{{"http://only/announce"}}));
}

TEST(TorrentCreator, SeveralTrackersGiveOneTierEach) {
  TempDir tmp;
  CreateOptions options;
  options.source = make_tree(tmp.path());
  options.trackers = {"http://t1/announce", "udp://t2:6969", "http://t3/announce"};
  const CreatedTorrent created = create_ok(options);
  auto doc = bencode::decode(created.bytes);
  ASSERT_TRUE(doc);
  EXPECT_EQ(doc->root().find_string("announce"),
            std::optional<std::string_view>("http://t1/announce"));
  auto tiers = doc->root().find_list("announce-list");
  ASSERT_TRUE(tiers);
  EXPECT_EQ(tiers->size(), 3u);
  EXPECT_EQ(parse_created(created).trackers,
            (std::vector<std::vector<std::string>>{
                {"http://t1/announce"}, {"udp://t2:6969"}, {"http://t3/announce"}}));
}

TEST(TorrentCreator, ReplicasGoIntoOneTier) {
  TempDir tmp;
  CreateOptions options;
  options.source = make_tree(tmp.path());
  options.trackers = {"http://a/announce", "http://b/announce"};
  options.trackers_one_tier = true;
  const CreatedTorrent created = create_ok(options);
  EXPECT_EQ(parse_created(created).trackers,
            (std::vector<std::vector<std::string>>{{"http://a/announce", "http://b/announce"}}));
}

TEST(TorrentCreator, NoTrackers) {
  TempDir tmp;
  CreateOptions options;
  options.source = make_tree(tmp.path());
  const CreatedTorrent created = create_ok(options);
  auto doc = bencode::decode(created.bytes);
  ASSERT_TRUE(doc);
  EXPECT_FALSE(doc->root().find("announce"));
  EXPECT_FALSE(doc->root().find("announce-list"));
  EXPECT_FALSE(doc->root().find("url-list"));
  EXPECT_FALSE(doc->root().find("comment"));
  EXPECT_FALSE(doc->root().find("created by"));
  EXPECT_EQ(doc->root().size(), 1u);  // only 'info'
}

TEST(TorrentCreator, WebSeedsPrivateCommentAndCreator) {
  TempDir tmp;
  CreateOptions options;
  options.source = make_tree(tmp.path());
  options.web_seeds = {"http://s1/", "http://s2/files/"};
  options.is_private = true;
  options.comment = "hello";
  options.created_by = "starling 0.1";
  const CreatedTorrent created = create_ok(options);
  const TorrentInfo t = parse_created(created);
  EXPECT_EQ(t.web_seeds, (std::vector<std::string>{"http://s1/", "http://s2/files/"}));
  EXPECT_TRUE(t.is_private);
  EXPECT_NE(t.info_bytes.find("7:privatei1e"), std::string::npos);
  EXPECT_EQ(t.comment, "hello");
  EXPECT_EQ(t.created_by, "starling 0.1");

  // 'private' is inside 'info': it changes the info-hash.
  options.is_private = false;
  EXPECT_NE(create_ok(options).info_hash, created.info_hash);
}

TEST(TorrentCreator, SymlinkedDirectoryKeepsItsOwnName) {
  TempDir tmp;
  write_file(tmp.path() / "elsewhere" / "data.bin", content(7, 1000));
  write_file(tmp.path() / "pack" / "real.bin", content(8, 500));
  std::error_code ec;
  fs::create_directory_symlink(tmp.path() / "elsewhere", tmp.path() / "pack" / "link", ec);
  if (ec) GTEST_SKIP() << "cannot create a symlink: " << ec.message();
  CreateOptions options;
  options.source = tmp.path() / "pack";
  const CreatedTorrent created = create_ok(options);
  const TorrentInfo t = parse_created(created);
  ASSERT_EQ(t.layout.files().size(), 2u);
  EXPECT_EQ(t.layout.files()[0].path, (std::vector<std::string>{"pack", "link", "data.bin"}));
  EXPECT_EQ(t.layout.files()[1].path, (std::vector<std::string>{"pack", "real.bin"}));
  EXPECT_EQ(t.piece_hashes, piece_hashes_of(content(7, 1000) + content(8, 500), t.piece_length()));
}

TEST(TorrentCreator, SymlinkLoopsAreNotFollowed) {
  TempDir tmp;
  write_file(tmp.path() / "pack" / "f.bin", content(6, 300));
  std::error_code ec;
  fs::create_directory_symlink("..", tmp.path() / "pack" / "up", ec);
  if (ec) GTEST_SKIP() << "cannot create a symlink: " << ec.message();
  fs::create_directory_symlink(".", tmp.path() / "pack" / "self", ec);
  ASSERT_FALSE(ec);
  CreateOptions options;
  options.source = tmp.path() / "pack";
  const CreatedTorrent created = create_ok(options);
  EXPECT_EQ(created.num_files, 1u);
  const TorrentInfo t = parse_created(created);
  ASSERT_EQ(t.layout.files().size(), 1u);
  EXPECT_EQ(t.layout.files()[0].path, (std::vector<std::string>{"pack", "f.bin"}));
}

TEST(TorrentCreator, RefusesFileNamesThatNoParserAccepts) {
  TempDir tmp;
  write_file(tmp.path() / "pack" / "ok.bin", content(6, 300));
  write_file(tmp.path() / "pack" / "back\\slash", content(7, 10));
  CreateOptions options;
  options.source = tmp.path() / "pack";
  auto created = create_torrent(options);
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().code, make_error_code(Errc::invalid_argument));
  EXPECT_NE(created.error().detail.find("back\\slash"), std::string::npos);
}

TEST(TorrentCreator, ProgressEndsWithDoneEqualToTotal) {
  TempDir tmp;
  CreateOptions options;
  options.source = make_tree(tmp.path());
  options.piece_length = 4096;
  std::vector<std::pair<std::int64_t, std::int64_t>> calls;
  options.progress = [&](std::int64_t done, std::int64_t total) {
    calls.emplace_back(done, total);
  };
  (void)create_ok(options);
  ASSERT_FALSE(calls.empty());
  EXPECT_EQ(calls.back(), std::make_pair(std::int64_t{41122}, std::int64_t{41122}));
}

TEST(TorrentCreator, MissingSource) {
  TempDir tmp;
  CreateOptions options;
  options.source = tmp.path() / "does-not-exist";
  auto created = create_torrent(options);
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().code, std::errc::no_such_file_or_directory);
  EXPECT_NE(created.error().detail.find("does-not-exist"), std::string::npos);
}

TEST(TorrentCreator, EmptyDirectory) {
  TempDir tmp;
  fs::create_directories(tmp.path() / "empty" / "sub");
  CreateOptions options;
  options.source = tmp.path() / "empty";
  auto created = create_torrent(options);
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().code, make_error_code(Errc::invalid_argument));
}

TEST(TorrentCreator, OnlyEmptyFiles) {
  TempDir tmp;
  write_file(tmp.path() / "zeros" / "a", "");
  write_file(tmp.path() / "zeros" / "b", "");
  CreateOptions options;
  options.source = tmp.path() / "zeros";
  auto created = create_torrent(options);
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().code, make_error_code(Errc::invalid_argument));

  write_file(tmp.path() / "empty.bin", "");
  options.source = tmp.path() / "empty.bin";
  created = create_torrent(options);
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().code, make_error_code(Errc::invalid_argument));
}

TEST(DefaultPieceLength, Values) {
  constexpr std::int64_t kib = 1024;
  constexpr std::int64_t mib = 1024 * kib;
  constexpr std::int64_t gib = 1024 * mib;
  EXPECT_EQ(default_piece_length(0), 16 * kib);
  EXPECT_EQ(default_piece_length(1), 16 * kib);
  EXPECT_EQ(default_piece_length(1 * mib), 16 * kib);
  EXPECT_EQ(default_piece_length(31 * mib), 16 * kib);
  // At most 2,000 pieces: 32 MiB would be 2,048 pieces of 16 KiB.
  EXPECT_EQ(default_piece_length(2000 * 16 * kib), 16 * kib);
  EXPECT_EQ(default_piece_length(2001 * 16 * kib), 32 * kib);
  EXPECT_EQ(default_piece_length(32 * mib), 32 * kib);
  EXPECT_EQ(default_piece_length(100 * mib), 64 * kib);
  EXPECT_EQ(default_piece_length(1 * gib), 1 * mib);
  EXPECT_EQ(default_piece_length(4 * gib), 4 * mib);
  EXPECT_EQ(default_piece_length(32 * gib), 16 * mib);
  EXPECT_EQ(default_piece_length(100 * gib), 16 * mib);  // the cap
  EXPECT_EQ(default_piece_length(std::int64_t{1} << 53), 16 * mib);
  // Always a power of two within the range.
  for (std::int64_t size = 1; size < (std::int64_t{1} << 50); size = size * 3 + 1) {
    const std::int64_t p = default_piece_length(size);
    EXPECT_EQ(p & (p - 1), 0) << size;
    EXPECT_GE(p, 16 * kib);
    EXPECT_LE(p, 16 * mib);
    if (p < 16 * mib) {
      EXPECT_LE((size + p - 1) / p, 2000 + 1) << size;
    }
  }
}

}  // namespace
}  // namespace starling
