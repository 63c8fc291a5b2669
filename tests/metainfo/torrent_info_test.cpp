#include "metainfo/torrent_info.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "bencode/encoder.hpp"
#include "core/digest.hpp"
#include "support/expect_error.hpp"

namespace starling {
namespace {

using bencode::Dict;
using bencode::List;
using bencode::Value;
namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------
// Helpers

using testing::printable;

// `count` distinct 20-byte piece hashes.
std::string hashes(std::int64_t count) {
  std::string out;
  for (std::int64_t i = 0; i < count; ++i) out += sha1("piece " + std::to_string(i)).view();
  return out;
}

std::int64_t pieces_for(std::int64_t total, std::int64_t piece_length) {
  return (total + piece_length - 1) / piece_length;
}

// A valid single-file info dictionary: 100 bytes in 4 pieces of 32.
Dict single_info(std::int64_t length = 100, std::int64_t piece_length = 32) {
  return Dict{{"length", length},
              {"name", "file.bin"},
              {"piece length", piece_length},
              {"pieces", hashes(pieces_for(length, piece_length))}};
}

Dict file_entry(std::int64_t length, List path) {
  return Dict{{"length", length}, {"path", std::move(path)}};
}

// A valid multi-file info dictionary with the given entries; pieces match the total size.
Dict multi_info(List files, std::int64_t piece_length = 16) {
  std::int64_t total = 0;
  for (const auto& f : files) {
    if (f.is_dict()) {
      auto it = f.as_dict().find("length");
      if (it != f.as_dict().end() && it->second.is_int() && it->second.as_int() > 0) {
        total += it->second.as_int();
      }
    }
  }
  return Dict{{"files", std::move(files)},
              {"name", "dir"},
              {"piece length", piece_length},
              {"pieces", hashes(pieces_for(total, piece_length))}};
}

std::string torrent(Dict info, Dict outer = {}) {
  outer["info"] = std::move(info);
  return bencode::encode(outer);
}

// A torrent around already-encoded info bytes (for hand-written, non-canonical info dicts).
std::string torrent_raw_info(std::string_view info_bytes) {
  return "d4:info" + std::string(info_bytes) + "e";
}

// Offset of `needle` in `bytes`; it must occur exactly once.
std::size_t offset_of(std::string_view bytes, std::string_view needle) {
  const std::size_t at = bytes.find(needle);
  EXPECT_NE(at, std::string_view::npos) << "'" << printable(needle) << "' not in the input";
  if (at == std::string_view::npos) return 0;
  EXPECT_EQ(bytes.find(needle, at + 1), std::string_view::npos)
      << "'" << printable(needle) << "' occurs more than once";
  return at;
}

// Offset of the first byte after `prefix` (e.g. the value after an encoded key).
std::size_t after(std::string_view bytes, std::string_view prefix) {
  return offset_of(bytes, prefix) + prefix.size();
}

TorrentInfo parse_ok(std::string_view bytes, const TorrentLimits& limits = {}) {
  auto t = parse_torrent(bytes, limits);
  EXPECT_TRUE(t.has_value()) << printable(bytes.substr(0, 200)) << " -> "
                             << (t ? "" : t.error().message());
  return t ? std::move(*t) : TorrentInfo{};
}

::testing::AssertionResult FailsWith(std::string_view bytes, Errc code, std::size_t offset,
                                     const TorrentLimits& limits = {}) {
  return testing::fails_with(parse_torrent(bytes, limits), bytes, "parsed", code, offset);
}

// ---------------------------------------------------------------------------------------------
// Accepted torrents

TEST(TorrentInfo, SingleFile) {
  const Dict info = single_info();
  const std::string bytes = torrent(info, Dict{{"announce", "http://tracker.example/announce"},
                                               {"comment", "a comment"},
                                               {"created by", "starling test"},
                                               {"creation date", 1700000000}});
  TorrentInfo t = parse_ok(bytes);
  EXPECT_EQ(t.name, "file.bin");
  EXPECT_FALSE(t.multi_file);
  EXPECT_FALSE(t.is_private);
  EXPECT_EQ(t.total_size(), 100);
  EXPECT_EQ(t.piece_length(), 32);
  EXPECT_EQ(t.num_pieces(), 4);
  ASSERT_EQ(t.piece_hashes.size(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(t.piece_hashes[i], sha1("piece " + std::to_string(i)));
  ASSERT_EQ(t.layout.files().size(), 1u);
  const FileEntry& f = t.layout.files()[0];
  EXPECT_EQ(f.path, std::vector<std::string>{"file.bin"});
  EXPECT_EQ(f.size, 100);
  EXPECT_EQ(f.offset, 0);
  EXPECT_FALSE(f.pad);
  EXPECT_EQ(t.layout.piece_size(PieceIndex(3)), 4);
  EXPECT_EQ(t.info_bytes, bencode::encode(info));
  EXPECT_EQ(t.info_hash, sha1(bencode::encode(info)));
  EXPECT_EQ(t.trackers,
            (std::vector<std::vector<std::string>>{{"http://tracker.example/announce"}}));
  EXPECT_TRUE(t.web_seeds.empty());
  EXPECT_EQ(t.comment, "a comment");
  EXPECT_EQ(t.created_by, "starling test");
  EXPECT_EQ(t.creation_date, std::optional<std::int64_t>(1700000000));
}

TEST(TorrentInfo, OptionalFieldsAbsent) {
  TorrentInfo t = parse_ok(torrent(single_info()));
  EXPECT_TRUE(t.trackers.empty());
  EXPECT_TRUE(t.web_seeds.empty());
  EXPECT_TRUE(t.comment.empty());
  EXPECT_TRUE(t.created_by.empty());
  EXPECT_FALSE(t.creation_date.has_value());
  EXPECT_FALSE(t.is_private);
}

TEST(TorrentInfo, InfoHashOfAFixedTorrentMatchesAnIndependentSha1) {
  // Computed with Python: hashlib.sha1(info).hexdigest() for exactly these bytes.
  const std::string info =
      "d6:lengthi100e4:name8:file.bin12:piece lengthi32e6:pieces80:" + std::string(80, 'x') + "e";
  TorrentInfo t = parse_ok(torrent_raw_info(info));
  EXPECT_EQ(t.info_hash.hex(), "e0b48a7303943d451f9556be7fe1423ca7fa4788");
  EXPECT_EQ(t.info_bytes, info);
}

TEST(TorrentInfo, MultiFile) {
  const Dict info = multi_info(List{file_entry(10, List{"a", "b.txt"}),
                                    file_entry(0, List{"empty"}), file_entry(30, List{"c"})});
  TorrentInfo t = parse_ok(torrent(info));
  EXPECT_EQ(t.name, "dir");
  EXPECT_TRUE(t.multi_file);
  EXPECT_EQ(t.total_size(), 40);
  EXPECT_EQ(t.piece_length(), 16);
  EXPECT_EQ(t.num_pieces(), 3);
  EXPECT_EQ(t.piece_hashes.size(), 3u);
  const auto& files = t.layout.files();
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(files[0].path, (std::vector<std::string>{"dir", "a", "b.txt"}));
  EXPECT_EQ(files[0].size, 10);
  EXPECT_EQ(files[0].offset, 0);
  EXPECT_EQ(files[1].path, (std::vector<std::string>{"dir", "empty"}));
  EXPECT_EQ(files[1].size, 0);
  EXPECT_EQ(files[1].offset, 10);
  EXPECT_EQ(files[2].path, (std::vector<std::string>{"dir", "c"}));
  EXPECT_EQ(files[2].size, 30);
  EXPECT_EQ(files[2].offset, 10);
  EXPECT_EQ(files[2].path_string(), "dir/c");
  EXPECT_EQ(t.info_hash, sha1(bencode::encode(info)));
}

TEST(TorrentInfo, PadFilesAreMarked) {
  Dict pad = file_entry(6, List{".pad", "6"});
  pad["attr"] = "p";
  Dict hidden = file_entry(4, List{"h"});
  hidden["attr"] = "hx";
  TorrentInfo t = parse_ok(torrent(multi_info(List{file_entry(10, List{"a"}), pad, hidden})));
  ASSERT_EQ(t.layout.files().size(), 3u);
  EXPECT_FALSE(t.layout.files()[0].pad);
  EXPECT_TRUE(t.layout.files()[1].pad);
  EXPECT_FALSE(t.layout.files()[2].pad);
  EXPECT_EQ(t.total_size(), 20);
}

TEST(TorrentInfo, InfoHashIgnoresUnsortedOuterKeys) {
  const std::string info = bencode::encode(single_info());
  // "info" before "announce" and "comment" after "creation date": allowed outside 'info'.
  const std::string bytes =
      "d4:info" + info + "8:announce8:http://a13:creation datei5e7:comment2:hie";
  TorrentInfo t = parse_ok(bytes);
  EXPECT_EQ(t.info_bytes, info);
  EXPECT_EQ(t.info_hash, sha1(info));
  EXPECT_EQ(t.trackers, (std::vector<std::vector<std::string>>{{"http://a"}}));
  EXPECT_EQ(t.comment, "hi");
  EXPECT_EQ(t.creation_date, std::optional<std::int64_t>(5));
}

TEST(TorrentInfo, UnknownInfoKeysAreKeptInTheHash) {
  Dict plain = single_info();
  Dict extra = single_info();
  extra["source"] = "TRACKER";
  extra["x-custom"] = List{1, "two", Dict{{"k", "v"}}};
  const std::string extra_bytes = bencode::encode(extra);
  TorrentInfo t = parse_ok(torrent(extra));
  EXPECT_EQ(t.info_bytes, extra_bytes);
  EXPECT_EQ(t.info_hash, sha1(extra_bytes));
  EXPECT_NE(t.info_hash, sha1(bencode::encode(plain)));
}

TEST(TorrentInfo, AnnounceListTiersWinOverAnnounce) {
  TorrentInfo t = parse_ok(
      torrent(single_info(),
              Dict{{"announce", "http://ignored"},
                   {"announce-list", List{List{"http://a1", "udp://a2"}, List{"http://b1"}}}}));
  EXPECT_EQ(t.trackers,
            (std::vector<std::vector<std::string>>{{"http://a1", "udp://a2"}, {"http://b1"}}));
}

TEST(TorrentInfo, AnnounceListSkipsEmptyTiersAndUrls) {
  TorrentInfo t = parse_ok(
      torrent(single_info(), Dict{{"announce-list", List{List{}, List{"", "http://a"}, "not a tier",
                                                         List{1, "http://b"}}}}));
  EXPECT_EQ(t.trackers, (std::vector<std::vector<std::string>>{{"http://a"}, {"http://b"}}));
}

TEST(TorrentInfo, AnnounceUsedWhenAnnounceListIsAbsentOrUnusable) {
  TorrentInfo only = parse_ok(torrent(single_info(), Dict{{"announce", "http://only"}}));
  EXPECT_EQ(only.trackers, (std::vector<std::vector<std::string>>{{"http://only"}}));

  TorrentInfo empty_tiers = parse_ok(torrent(
      single_info(), Dict{{"announce", "http://fallback"}, {"announce-list", List{List{""}}}}));
  EXPECT_EQ(empty_tiers.trackers, (std::vector<std::vector<std::string>>{{"http://fallback"}}));

  TorrentInfo empty_announce = parse_ok(torrent(single_info(), Dict{{"announce", ""}}));
  EXPECT_TRUE(empty_announce.trackers.empty());
}

TEST(TorrentInfo, UrlListAsString) {
  TorrentInfo t = parse_ok(torrent(single_info(), Dict{{"url-list", "http://seed/"}}));
  EXPECT_EQ(t.web_seeds, std::vector<std::string>{"http://seed/"});
}

TEST(TorrentInfo, UrlListAsList) {
  TorrentInfo t =
      parse_ok(torrent(single_info(), Dict{{"url-list", List{"http://s1/", "", 7, "http://s2/"}}}));
  EXPECT_EQ(t.web_seeds, (std::vector<std::string>{"http://s1/", "http://s2/"}));
  TorrentInfo empty = parse_ok(torrent(single_info(), Dict{{"url-list", ""}}));
  EXPECT_TRUE(empty.web_seeds.empty());
}

TEST(TorrentInfo, PrivateFlag) {
  Dict info = single_info();
  info["private"] = 1;
  EXPECT_TRUE(parse_ok(torrent(info)).is_private);
  info["private"] = 0;
  EXPECT_FALSE(parse_ok(torrent(info)).is_private);
  info["private"] = "1";
  EXPECT_FALSE(parse_ok(torrent(info)).is_private);
}

TEST(TorrentInfo, Utf8VariantsArePreferred) {
  Dict entry = file_entry(10, List{"raw-dir", "raw-file"});
  entry["path.utf-8"] = List{"utf-dir", "utf-file"};
  Dict info = multi_info(List{entry, file_entry(5, List{"plain"})});
  info["name"] = "raw-name";
  info["name.utf-8"] = "utf-name";
  TorrentInfo t =
      parse_ok(torrent(info, Dict{{"comment", "raw comment"}, {"comment.utf-8", "utf comment"}}));
  EXPECT_EQ(t.name, "utf-name");
  ASSERT_EQ(t.layout.files().size(), 2u);
  EXPECT_EQ(t.layout.files()[0].path,
            (std::vector<std::string>{"utf-name", "utf-dir", "utf-file"}));
  EXPECT_EQ(t.layout.files()[1].path, (std::vector<std::string>{"utf-name", "plain"}));
  EXPECT_EQ(t.comment, "utf comment");
}

TEST(TorrentInfo, Utf8VariantOfTheWrongTypeFallsBack) {
  Dict entry = file_entry(10, List{"raw-file"});
  entry["path.utf-8"] = "not a list";
  Dict info = multi_info(List{entry});
  info["name.utf-8"] = 5;
  TorrentInfo t = parse_ok(torrent(info));
  EXPECT_EQ(t.name, "dir");
  ASSERT_EQ(t.layout.files().size(), 1u);
  EXPECT_EQ(t.layout.files()[0].path, (std::vector<std::string>{"dir", "raw-file"}));
}

TEST(TorrentInfo, WrongTypesOutsideInfoAreIgnored) {
  TorrentInfo t = parse_ok(torrent(single_info(), Dict{{"announce", 5},
                                                       {"announce-list", "x"},
                                                       {"comment", List{}},
                                                       {"created by", 3},
                                                       {"creation date", "today"},
                                                       {"url-list", 9}}));
  EXPECT_TRUE(t.trackers.empty());
  EXPECT_TRUE(t.web_seeds.empty());
  EXPECT_TRUE(t.comment.empty());
  EXPECT_TRUE(t.created_by.empty());
  EXPECT_FALSE(t.creation_date.has_value());
}

// ---------------------------------------------------------------------------------------------
// Structural rejections

TEST(TorrentInfoReject, NotADictionary) {
  EXPECT_TRUE(FailsWith("i5e", Errc::metainfo_not_a_dict, 0));
  EXPECT_TRUE(FailsWith("4:spam", Errc::metainfo_not_a_dict, 0));
  EXPECT_TRUE(FailsWith("l4:infoe", Errc::metainfo_not_a_dict, 0));
  EXPECT_TRUE(FailsWith("", Errc::bencode_truncated, 0));
  EXPECT_TRUE(FailsWith("de", Errc::metainfo_missing_field, 0));
}

TEST(TorrentInfoReject, TrailingData) {
  const std::string bytes = torrent(single_info());
  EXPECT_TRUE(FailsWith(bytes + "x", Errc::bencode_trailing_data, bytes.size()));
}

TEST(TorrentInfoReject, MissingOrBadInfo) {
  EXPECT_TRUE(
      FailsWith(bencode::encode(Dict{{"announce", "http://a"}}), Errc::metainfo_missing_field, 0));
  const std::string not_dict = bencode::encode(Dict{{"info", List{}}});
  EXPECT_TRUE(FailsWith(not_dict, Errc::metainfo_bad_field, after(not_dict, "4:info")));
}

TEST(TorrentInfoReject, MissingName) {
  Dict info = single_info();
  info.erase("name");
  const std::string bytes = torrent(info, Dict{{"announce", "http://a"}});
  EXPECT_TRUE(FailsWith(bytes, Errc::metainfo_missing_field, after(bytes, "4:info")));
}

TEST(TorrentInfoReject, NameNotAString) {
  Dict info = single_info();
  info["name"] = 42;
  const std::string bytes = torrent(info);
  EXPECT_TRUE(FailsWith(bytes, Errc::metainfo_bad_field, after(bytes, "4:name")));
}

TEST(TorrentInfoReject, MissingPieceLength) {
  Dict info = single_info();
  info.erase("piece length");
  const std::string bytes = torrent(info, Dict{{"announce", "http://a"}});
  EXPECT_TRUE(FailsWith(bytes, Errc::metainfo_missing_field, after(bytes, "4:info")));
}

TEST(TorrentInfoReject, PieceLengthOutOfRange) {
  for (std::int64_t bad : {std::int64_t{0}, std::int64_t{-1}, std::int64_t{-32}}) {
    SCOPED_TRACE(bad);
    Dict info = single_info();
    info["piece length"] = bad;
    const std::string bytes = torrent(info);
    EXPECT_TRUE(FailsWith(bytes, Errc::metainfo_bad_field, after(bytes, "12:piece length")));
  }
  Dict info = single_info();
  info["piece length"] = "32";
  std::string bytes = torrent(info);
  EXPECT_TRUE(FailsWith(bytes, Errc::metainfo_bad_field, after(bytes, "12:piece length")));

  TorrentLimits limits;
  limits.max_piece_length = 16;
  bytes = torrent(single_info(100, 32));
  EXPECT_TRUE(FailsWith(bytes, Errc::metainfo_bad_field, after(bytes, "12:piece length"), limits));
  limits.max_piece_length = 32;
  EXPECT_EQ(parse_ok(bytes, limits).piece_length(), 32);
}

TEST(TorrentInfoReject, MissingPieces) {
  Dict info = single_info();
  info.erase("pieces");
  const std::string bytes = torrent(info, Dict{{"announce", "http://a"}});
  EXPECT_TRUE(FailsWith(bytes, Errc::metainfo_missing_field, after(bytes, "4:info")));
}

TEST(TorrentInfoReject, PiecesNotAMultipleOf20) {
  for (std::size_t size : {std::size_t{79}, std::size_t{81}, std::size_t{1}, std::size_t{19}}) {
    SCOPED_TRACE(size);
    Dict info = single_info();
    info["pieces"] = std::string(size, 'h');
    const std::string bytes = torrent(info);
    EXPECT_TRUE(FailsWith(bytes, Errc::metainfo_bad_field, after(bytes, "6:pieces")));
  }
  Dict info = single_info();
  info["pieces"] = 80;
  const std::string bytes = torrent(info);
  EXPECT_TRUE(FailsWith(bytes, Errc::metainfo_bad_field, after(bytes, "6:pieces")));
}

TEST(TorrentInfoReject, PieceCountMismatch) {
  // 100 bytes in pieces of 32 need 4 hashes.
  for (std::int64_t count : {0, 3, 5}) {
    SCOPED_TRACE(count);
    Dict info = single_info();
    info["pieces"] = hashes(count);
    const std::string bytes = torrent(info);
    EXPECT_TRUE(FailsWith(bytes, Errc::metainfo_bad_field, after(bytes, "6:pieces")));
  }
  // Exactly divisible: 96 bytes need 3.
  Dict info = single_info(96, 32);
  EXPECT_EQ(parse_ok(torrent(info)).num_pieces(), 3);
  info["pieces"] = hashes(4);
  const std::string bytes = torrent(info);
  EXPECT_TRUE(FailsWith(bytes, Errc::metainfo_bad_field, after(bytes, "6:pieces")));
}

TEST(TorrentInfoReject, PieceCountThatOverflowsAnInt32) {
  // 2^32 + 1 bytes in pieces of 1 byte: the count must not wrap around to 1.
  Dict info = single_info();
  info["length"] = (std::int64_t{1} << 32) + 1;
  info["piece length"] = 1;
  info["pieces"] = hashes(1);
  const std::string bytes = torrent(info);
  EXPECT_TRUE(FailsWith(bytes, Errc::metainfo_bad_field, after(bytes, "6:pieces")));
}

TEST(TorrentInfoReject, TooManyPieces) {
  TorrentLimits limits;
  limits.max_pieces = 3;
  const std::string bytes = torrent(single_info(100, 32));
  EXPECT_TRUE(FailsWith(bytes, Errc::metainfo_bad_field, after(bytes, "6:pieces"), limits));
  limits.max_pieces = 4;
  EXPECT_EQ(parse_ok(bytes, limits).num_pieces(), 4);
}

TEST(TorrentInfoReject, SingleFileLength) {
  Dict info = single_info();
  info.erase("length");
  std::string bytes = torrent(info, Dict{{"announce", "http://a"}});
  EXPECT_TRUE(FailsWith(bytes, Errc::metainfo_missing_field, after(bytes, "4:info")));

  for (Value bad : {Value(-1), Value("100"), Value(std::numeric_limits<std::int64_t>::max()),
                    Value(std::int64_t{1} << 62)}) {
    info = single_info();
    info["length"] = bad;
    bytes = torrent(info);
    SCOPED_TRACE(printable(bytes));
    EXPECT_TRUE(FailsWith(bytes, Errc::metainfo_bad_field, after(bytes, "6:length")));
  }
}

TEST(TorrentInfoReject, TotalSizeZero) {
  Dict info = single_info(0, 32);
  std::string bytes = torrent(info, Dict{{"announce", "http://a"}});
  EXPECT_TRUE(FailsWith(bytes, Errc::metainfo_bad_field, after(bytes, "4:info")));

  info = multi_info(List{file_entry(0, List{"a"}), file_entry(0, List{"b"})});
  bytes = torrent(info);
  EXPECT_TRUE(FailsWith(bytes, Errc::metainfo_bad_field, after(bytes, "4:info")));
}

TEST(TorrentInfoReject, FilesList) {
  Dict info = multi_info(List{});
  std::string bytes = torrent(info);
  EXPECT_TRUE(FailsWith(bytes, Errc::metainfo_bad_field, after(bytes, "5:files")));

  info = single_info();
  info["files"] = "x";
  bytes = torrent(info);
  EXPECT_TRUE(FailsWith(bytes, Errc::metainfo_bad_field, after(bytes, "5:files")));

  info = multi_info(List{file_entry(10, List{"a"}), 7});
  bytes = torrent(info);
  EXPECT_TRUE(FailsWith(bytes, Errc::metainfo_bad_field, after(bytes, "4:pathl1:aee")));

  TorrentLimits limits;
  limits.max_files = 2;
  info = multi_info(
      List{file_entry(1, List{"a"}), file_entry(1, List{"b"}), file_entry(1, List{"c"})});
  bytes = torrent(info);
  EXPECT_TRUE(FailsWith(bytes, Errc::metainfo_bad_field, after(bytes, "5:files"), limits));
  limits.max_files = 3;
  EXPECT_EQ(parse_ok(bytes, limits).layout.files().size(), 3u);
}

TEST(TorrentInfoReject, FileEntryFields) {
  // Missing length: the offset of the file's dictionary.
  Dict info = multi_info(List{file_entry(10, List{"a"}), Dict{{"path", List{"b"}}}});
  std::string bytes = torrent(info);
  EXPECT_TRUE(FailsWith(bytes, Errc::metainfo_missing_field, after(bytes, "4:pathl1:aee")));

  // Missing path.
  info = multi_info(List{file_entry(10, List{"a"}), Dict{{"length", 3}}});
  bytes = torrent(info);
  EXPECT_TRUE(FailsWith(bytes, Errc::metainfo_missing_field, after(bytes, "4:pathl1:aee")));

  // Negative length: the offset of the integer.
  info = multi_info(List{file_entry(10, List{"a"}), file_entry(-5, List{"b"})});
  bytes = torrent(info);
  EXPECT_TRUE(FailsWith(bytes, Errc::metainfo_bad_field, offset_of(bytes, "i-5e")));

  // Path not a list, empty path, path element not a string.
  info = multi_info(List{file_entry(10, List{"a"})});
  info["files"].as_list()[0].as_dict()["path"] = "a";
  bytes = torrent(info);
  EXPECT_TRUE(FailsWith(bytes, Errc::metainfo_bad_field, after(bytes, "4:path")));

  info = multi_info(List{file_entry(10, List{})});
  bytes = torrent(info);
  EXPECT_TRUE(FailsWith(bytes, Errc::metainfo_bad_field, after(bytes, "4:path")));

  info = multi_info(List{file_entry(10, List{"a", 5})});
  bytes = torrent(info);
  EXPECT_TRUE(FailsWith(bytes, Errc::metainfo_bad_field, after(bytes, "4:pathl1:a")));
}

TEST(TorrentInfoReject, TotalSizeTooLarge) {
  // Up to 2^53 bytes are accepted; one byte more is refused at the file that crosses the limit.
  const std::int64_t half = std::int64_t{1} << 52;
  Dict info{{"files", List{file_entry(half, List{"a"}), file_entry(half, List{"b"}),
                           file_entry(1, List{"c"})}},
            {"name", "dir"},
            {"piece length", std::int64_t{1} << 30},
            {"pieces", ""}};
  const std::string bytes = torrent(info);
  EXPECT_TRUE(FailsWith(bytes, Errc::metainfo_bad_field, after(bytes, "4:pathl1:bee")));
}

// ---------------------------------------------------------------------------------------------
// Canonical form inside 'info'

TEST(TorrentInfoReject, UnsortedKeysInsideInfo) {
  const std::string pieces = "6:pieces20:" + std::string(20, 'x');
  const std::string info = "d4:name1:a6:lengthi5e12:piece lengthi16e" + pieces + "e";
  const std::string bytes = torrent_raw_info(info);
  EXPECT_TRUE(FailsWith(bytes, Errc::metainfo_not_canonical, offset_of(bytes, "6:length")));
}

TEST(TorrentInfoReject, DuplicateKeysInsideInfo) {
  const std::string pieces = "6:pieces20:" + std::string(20, 'x');
  const std::string info = "d6:lengthi5e6:lengthi5e4:name1:a12:piece lengthi16e" + pieces + "e";
  const std::string bytes = torrent_raw_info(info);
  EXPECT_TRUE(FailsWith(bytes, Errc::metainfo_not_canonical, 7 + 12));
}

TEST(TorrentInfoReject, UnsortedKeysInsideAFileEntry) {
  const std::string pieces = "6:pieces20:" + std::string(20, 'x');
  const std::string info =
      "d5:filesld6:lengthi3e4:pathl1:aeed4:pathl1:be6:lengthi2eee4:name1:d12:piece lengthi16e" +
      pieces + "e";
  const std::string bytes = torrent_raw_info(info);
  EXPECT_TRUE(FailsWith(bytes, Errc::metainfo_not_canonical, after(bytes, "4:pathl1:be")));
}

TEST(TorrentInfoReject, EarliestNonCanonicalKeyIsReported) {
  // The inner dict's bad key comes first in the input, though its dict starts later.
  const std::string pieces = "6:pieces20:" + std::string(20, 'x');
  const std::string info =
      "d6:lengthi5e4:name1:a1:xd1:b0:1:a0:e1:a0:12:piece lengthi16e" + pieces + "e";
  const std::string bytes = torrent_raw_info(info);
  EXPECT_TRUE(FailsWith(bytes, Errc::metainfo_not_canonical, offset_of(bytes, "1:a0:e")));
}

TEST(TorrentInfoReject, LeadingZeroIntegerAnywhere) {
  std::string bytes = torrent(single_info(100, 32), Dict{{"creation date", 12}});
  std::string inside = bytes;
  inside.replace(offset_of(inside, "i32e"), 4, "i032e");
  EXPECT_TRUE(FailsWith(inside, Errc::bencode_leading_zero, after(inside, "12:piece lengthi")));

  std::string outside = bytes;
  outside.replace(offset_of(outside, "i12e"), 4, "i012e");
  EXPECT_TRUE(FailsWith(outside, Errc::bencode_leading_zero, after(outside, "13:creation datei")));

  std::string zero = bytes;
  zero.replace(offset_of(zero, "i12e"), 4, "i00e");
  EXPECT_TRUE(FailsWith(zero, Errc::bencode_leading_zero, after(zero, "13:creation datei")));

  std::string string_length = bytes;
  string_length.replace(offset_of(string_length, "4:name"), 6, "04:name");
  EXPECT_TRUE(
      FailsWith(string_length, Errc::bencode_leading_zero, offset_of(string_length, "04:name")));
}

TEST(TorrentInfoReject, TruncatedAtEveryLength) {
  const std::string bytes =
      torrent(single_info(100, 32), Dict{{"announce", "http://a"}, {"creation date", 1234}});
  ASSERT_TRUE(parse_torrent(bytes));
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    auto t = parse_torrent(std::string_view(bytes).substr(0, n));
    ASSERT_FALSE(t) << n;
    const auto code = t.error().code;
    EXPECT_TRUE(code == make_error_code(Errc::bencode_truncated) ||
                code == make_error_code(Errc::bencode_length_overflow))
        << n << ": " << t.error().message();
    EXPECT_LE(t.error().offset, n);
  }
}

TEST(TorrentInfoReject, TruncatedAtChosenPoints) {
  const std::string bytes =
      torrent(single_info(100, 32), Dict{{"announce", "http://a"}, {"creation date", 1234}});
  const std::string_view b = bytes;
  EXPECT_TRUE(FailsWith(b.substr(0, 0), Errc::bencode_truncated, 0));
  EXPECT_TRUE(FailsWith(b.substr(0, 1), Errc::bencode_truncated, 1));  // "d"
  // After the first key's length (longer than what is left), then inside its bytes.
  EXPECT_TRUE(FailsWith(b.substr(0, 2), Errc::bencode_length_overflow, 1));
  EXPECT_TRUE(FailsWith(b.substr(0, 5), Errc::bencode_length_overflow, 1));
  // Inside the length digits of a key that would fit.
  const std::size_t key = offset_of(b, "13:creation date");
  EXPECT_TRUE(FailsWith(b.substr(0, key + 1), Errc::bencode_truncated, key));
  // Right after a complete key: its value is missing.
  EXPECT_TRUE(FailsWith(b.substr(0, key + 16), Errc::bencode_truncated, key + 16));
  // Inside an integer.
  const std::size_t date = after(b, "13:creation date");
  EXPECT_TRUE(FailsWith(b.substr(0, date + 3), Errc::bencode_truncated, date));
  // Inside the piece hashes.
  const std::size_t pieces = after(b, "6:pieces");
  EXPECT_TRUE(FailsWith(b.substr(0, pieces + 10), Errc::bencode_length_overflow, pieces));
  // Everything but the final 'e' of the info dict, then of the outer dict.
  EXPECT_TRUE(FailsWith(b.substr(0, b.size() - 2), Errc::bencode_truncated, b.size() - 2));
  EXPECT_TRUE(FailsWith(b.substr(0, b.size() - 1), Errc::bencode_truncated, b.size() - 1));
}

// ---------------------------------------------------------------------------------------------
// Unsafe paths

const std::string kUnsafeComponents[] = {
    "..",
    ".",
    "",
    "a/b",
    "/etc/passwd",
    "\\",
    "a\\b",
    "..\\..",
    std::string("a\0b", 3),
    std::string(1, '\0'),
    "/",
};

TEST(TorrentInfoReject, UnsafePathComponents) {
  for (const std::string& bad : kUnsafeComponents) {
    SCOPED_TRACE(printable(bad));
    EXPECT_FALSE(check_path_component(bad));
    EXPECT_EQ(check_path_component(bad).error().code, make_error_code(Errc::metainfo_unsafe_path));
    Dict info = multi_info(List{file_entry(3, List{"fine"}), file_entry(10, List{"ok", bad})});
    const std::string bytes = torrent(info);
    EXPECT_TRUE(FailsWith(bytes, Errc::metainfo_unsafe_path, after(bytes, "4:pathl2:ok")));

    // First component too.
    info = multi_info(List{file_entry(10, List{bad, "x"})});
    const std::string first = torrent(info);
    EXPECT_TRUE(FailsWith(first, Errc::metainfo_unsafe_path, after(first, "4:pathl")));
  }
}

TEST(TorrentInfoReject, UnsafePathInUtf8Variant) {
  Dict entry = file_entry(10, List{"safe"});
  entry["path.utf-8"] = List{".."};
  const std::string bytes = torrent(multi_info(List{entry}));
  EXPECT_TRUE(FailsWith(bytes, Errc::metainfo_unsafe_path, after(bytes, "10:path.utf-8l")));
}

TEST(TorrentInfoReject, UnsafeName) {
  for (const std::string& bad : kUnsafeComponents) {
    SCOPED_TRACE(printable(bad));
    Dict info = single_info();
    info["name"] = bad;
    std::string bytes = torrent(info);
    EXPECT_TRUE(FailsWith(bytes, Errc::metainfo_unsafe_path, after(bytes, "4:name")));

    info = multi_info(List{file_entry(10, List{"a"})});
    info["name"] = bad;
    bytes = torrent(info);
    EXPECT_TRUE(FailsWith(bytes, Errc::metainfo_unsafe_path, after(bytes, "4:name")));

    info = single_info();
    info["name.utf-8"] = bad;
    bytes = torrent(info);
    EXPECT_TRUE(FailsWith(bytes, Errc::metainfo_unsafe_path, after(bytes, "10:name.utf-8")));
  }
}

TEST(TorrentInfoReject, DuplicateFilePaths) {
  const Dict first = file_entry(5, List{"a", "b"});
  Dict info = multi_info(List{first, file_entry(7, List{"c"}), file_entry(5, List{"a", "b"})});
  std::string bytes = torrent(info);
  const std::size_t third = after(bytes, "5:filesl") + bencode::encode(first).size() +
                            bencode::encode(file_entry(7, List{"c"})).size();
  EXPECT_TRUE(FailsWith(bytes, Errc::metainfo_unsafe_path, third));

  // The same path reached through path.utf-8.
  Dict renamed = file_entry(5, List{"other"});
  renamed["path.utf-8"] = List{"a", "b"};
  info = multi_info(List{first, renamed});
  bytes = torrent(info);
  EXPECT_TRUE(FailsWith(bytes, Errc::metainfo_unsafe_path,
                        after(bytes, "5:filesl") + bencode::encode(first).size()));

  // Same bytes in different components are not duplicates.
  info = multi_info(List{file_entry(5, List{"a", "b"}), file_entry(5, List{"ab"})});
  EXPECT_EQ(parse_ok(torrent(info)).layout.files().size(), 2u);
}

TEST(TorrentInfo, SafeComponentsAreAccepted) {
  for (std::string_view ok : {"a", "...", ".hidden", "a.b", "with space", "\xc3\xa9t\xc3\xa9"}) {
    EXPECT_TRUE(check_path_component(ok)) << ok;
  }
}

// ---------------------------------------------------------------------------------------------
// Size limit and loading from disk

class TempFile {
 public:
  explicit TempFile(std::string_view contents) {
    static int counter = 0;
    path_ =
        fs::temp_directory_path() / ("starling-torrent-info-test-" + std::to_string(::getpid()) +
                                     "-" + std::to_string(counter++) + ".torrent");
    std::ofstream out(path_, std::ios::binary);
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  }
  ~TempFile() {
    std::error_code ec;
    fs::remove(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

TEST(TorrentInfo, ParseRefusesInputLargerThanTheLimit) {
  const std::string bytes = torrent(single_info());
  TorrentLimits limits;
  limits.max_torrent_bytes = bytes.size() - 1;
  auto t = parse_torrent(bytes, limits);
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().code, make_error_code(Errc::metainfo_bad_field));
  limits.max_torrent_bytes = bytes.size();
  EXPECT_TRUE(parse_torrent(bytes, limits));
}

TEST(LoadTorrent, ReadsAFile) {
  const Dict info = single_info();
  TempFile file(torrent(info, Dict{{"announce", "http://a"}}));
  auto t = load_torrent(file.path());
  ASSERT_TRUE(t) << t.error().message();
  EXPECT_EQ(t->info_hash, sha1(bencode::encode(info)));
  EXPECT_EQ(t->trackers, (std::vector<std::vector<std::string>>{{"http://a"}}));
}

TEST(LoadTorrent, MissingFile) {
  auto t = load_torrent(fs::temp_directory_path() / "starling-no-such-file-9f8e7d.torrent");
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().code, std::errc::no_such_file_or_directory);
}

TEST(LoadTorrent, FileLargerThanTheLimit) {
  const std::string bytes = torrent(single_info());
  TempFile file(bytes);
  TorrentLimits limits;
  limits.max_torrent_bytes = 64;
  ASSERT_GT(bytes.size(), 64u);
  auto t = load_torrent(file.path(), limits);
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().code, make_error_code(Errc::metainfo_bad_field));
  EXPECT_FALSE(t.error().has_offset());
  limits.max_torrent_bytes = bytes.size();
  EXPECT_TRUE(load_torrent(file.path(), limits));
}

TEST(LoadTorrent, InvalidContentsKeepTheOffset) {
  TempFile file("d4:infoi1ee");
  auto t = load_torrent(file.path());
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().code, make_error_code(Errc::metainfo_bad_field));
  EXPECT_EQ(t.error().offset, 7u);
}

}  // namespace
}  // namespace starling
