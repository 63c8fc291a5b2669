#include "webseed/web_seed_url.hpp"

#include <gtest/gtest.h>

#include "metainfo/file_layout.hpp"

namespace starling::webseed {
namespace {

TEST(WebSeedUrl, ParsesHostPortAndTarget) {
  auto url = parse_http_url("http://127.0.0.1:8080/pub/file.iso");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->host, "127.0.0.1");
  EXPECT_EQ(url->port, 8080);
  EXPECT_EQ(url->target, "/pub/file.iso");
  EXPECT_EQ(url->host_header(), "127.0.0.1:8080");
  EXPECT_EQ(url->text(), "http://127.0.0.1:8080/pub/file.iso");
}

TEST(WebSeedUrl, DefaultsAndIpv6) {
  auto plain = parse_http_url("HTTP://example.org");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->port, 80);
  EXPECT_EQ(plain->target, "/");
  EXPECT_EQ(plain->host_header(), "example.org");
  auto v6 = parse_http_url("http://[::1]:81/x?y=1#frag");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->target, "/x?y=1");
  EXPECT_EQ(v6->host_header(), "[::1]:81");
}

TEST(WebSeedUrl, RefusesWhatItCannotFetch) {
  for (const char* bad :
       {"https://a/b", "ftp://a/b", "http://", "http://:80/", "http://a:0/", "http://a:70000/",
        "http://a:8x/", "http://u@a/", "http://a/b c", "http://[::1/", "http://[[]:8/a",
        "http://[1.2.3.4]/", "http://a]b/", "http://a%b/"}) {
    auto url = parse_http_url(bad);
    ASSERT_FALSE(url) << bad;
    EXPECT_EQ(url.error().code, Errc::webseed_bad_url) << bad;
  }
}

TEST(WebSeedUrl, ResolvesRedirects) {
  auto base = parse_http_url("http://a:81/dir/file");
  ASSERT_TRUE(base);
  EXPECT_EQ(resolve_location(*base, "http://b/x")->text(), "http://b/x");
  EXPECT_EQ(resolve_location(*base, "/other")->text(), "http://a:81/other");
  EXPECT_EQ(resolve_location(*base, "sibling")->text(), "http://a:81/dir/sibling");
  EXPECT_EQ(resolve_location(*base, "//c:82/y")->text(), "http://c:82/y");
  EXPECT_FALSE(resolve_location(*base, ""));
  EXPECT_FALSE(resolve_location(*base, "https://b/x"));
}

TEST(WebSeedUrl, EncodesPathComponents) {
  EXPECT_EQ(encode_path_component("a b/c%d~e.f_g-h"), "a%20b%2Fc%25d~e.f_g-h");
  EXPECT_EQ(encode_path_component("\xc3\xa9"), "%C3%A9");
}

FileLayout multi_layout() {
  // name/a (10 bytes), name/sub dir/b (5), name/.pad (1, padding), name/c (20); pieces of 8.
  std::vector<FileEntry> files{
      {{"name", "a"}, 10, 0, false},
      {{"name", "sub dir", "b"}, 5, 0, false},
      {{"name", ".pad", "1"}, 1, 0, true},
      {{"name", "c"}, 20, 0, false},
  };
  return FileLayout(std::move(files), 8);
}

TEST(WebSeedUrl, SingleFileUrlNamesTheFileOrItsFolder) {
  FileLayout layout({{{"movie.mkv"}, 100, 0, false}}, 16);
  EXPECT_EQ(file_url(*parse_http_url("http://h/m/the.mkv"), layout, false, FileIndex(0)).target,
            "/m/the.mkv");
  EXPECT_EQ(file_url(*parse_http_url("http://h/m/"), layout, false, FileIndex(0)).target,
            "/m/movie.mkv");
}

TEST(WebSeedUrl, MultiFileUrlNamesTheFolderAboveTheTorrent) {
  const FileLayout layout = multi_layout();
  EXPECT_EQ(file_url(*parse_http_url("http://h/pub/"), layout, true, FileIndex(1)).target,
            "/pub/name/sub%20dir/b");
  // Without the trailing '/', as libtorrent does, the folder is still meant.
  EXPECT_EQ(file_url(*parse_http_url("http://h/pub"), layout, true, FileIndex(0)).target,
            "/pub/name/a");
}

TEST(WebSeedUrl, APieceSpanningFilesMapsToOneRangePerFile) {
  const FileLayout layout = multi_layout();
  // Piece 1 = bytes 8..15: a[8..9], b[0..4], pad[0].
  const auto parts = map_run(layout, PieceIndex(1), 0, 8);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0], (FileRange{FileIndex(0), 8, 2, 0, false}));
  EXPECT_EQ(parts[1], (FileRange{FileIndex(1), 0, 5, 2, false}));
  EXPECT_EQ(parts[2], (FileRange{FileIndex(2), 0, 1, 7, true}));
  // Part of a piece: bytes 3..5 of piece 2 (16..31) = c[3..5].
  const auto inner = map_run(layout, PieceIndex(2), 3, 3);
  ASSERT_EQ(inner.size(), 1u);
  EXPECT_EQ(inner[0], (FileRange{FileIndex(3), 3, 3, 0, false}));
}

}  // namespace
}  // namespace starling::webseed
