#include "metainfo/metadata_file.hpp"

#include <gtest/gtest.h>

#include "metainfo/torrent_info.hpp"

namespace starling {
namespace {

const std::string kInfo =
    "d6:lengthi5e4:name5:a.txt12:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaae";

TEST(MetadataFile, WrapsTheInfoBytesUnchangedSoTheHashMatches) {
  const std::string file = make_torrent_file(kInfo, {});
  EXPECT_EQ(file, "d4:info" + kInfo + "e");
  auto t = parse_torrent(file);
  ASSERT_TRUE(t) << t.error().message();
  EXPECT_EQ(t->info_hash, sha1(kInfo));
  EXPECT_EQ(t->name, "a.txt");
}

TEST(MetadataFile, PutsEachTrackerInItsOwnTier) {
  auto t = parse_torrent(make_torrent_file(kInfo, {"http://a/announce", "udp://b:1"}));
  ASSERT_TRUE(t) << t.error().message();
  ASSERT_EQ(t->trackers.size(), 2u);
  EXPECT_EQ(t->trackers[0], std::vector<std::string>{"http://a/announce"});
  EXPECT_EQ(t->trackers[1], std::vector<std::string>{"udp://b:1"});
  EXPECT_EQ(t->info_hash, sha1(kInfo));
}

}  // namespace
}  // namespace starling
