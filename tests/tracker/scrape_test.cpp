#include "tracker/scrape.hpp"

#include <gtest/gtest.h>

namespace starling::tracker {
namespace {

Sha1Digest hash_of(std::uint8_t fill) {
  Sha1Digest d;
  d.bytes.fill(fill);
  return d;
}

TEST(Scrape, QueryRoundTripsSeveralHashes) {
  ScrapeRequest request{{hash_of(0x25), hash_of(0x00), hash_of(0xff)}};
  const std::string q = build_scrape_query(request);
  EXPECT_EQ(q.substr(0, 13), "info_hash=%25");
  auto back = parse_scrape_query(q);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->info_hashes, request.info_hashes);
}

TEST(Scrape, QueryErrors) {
  EXPECT_FALSE(parse_scrape_query(""));
  EXPECT_FALSE(parse_scrape_query("foo=bar"));
  auto short_hash = parse_scrape_query("info_hash=abc");
  ASSERT_FALSE(short_hash);
  EXPECT_EQ(short_hash.error().offset, 0U);
  ScrapeRequest many;
  for (int i = 0; i < 5; ++i) many.info_hashes.push_back(hash_of(static_cast<std::uint8_t>(i)));
  EXPECT_TRUE(parse_scrape_query(build_scrape_query(many), 5));
  auto too_many = parse_scrape_query(build_scrape_query(many), 4);
  ASSERT_FALSE(too_many);
  EXPECT_NE(too_many.error().detail.find("more than 4"), std::string::npos);
}

TEST(Scrape, ReplySortsDeduplicatesAndDecodes) {
  std::vector<ScrapeEntry> entries = {
      {hash_of(9), 1, 2, 3}, {hash_of(1), 4, 5, 6}, {hash_of(9), 1, 2, 3}};
  std::string body;
  append_scrape_reply(body, entries);
  ASSERT_EQ(entries.size(), 2U);
  EXPECT_EQ(body.substr(0, 12), "d5:filesd20:");
  auto reply = decode_scrape_reply(body);
  ASSERT_TRUE(reply) << reply.error().message();
  ASSERT_EQ(reply->files.size(), 2U);
  EXPECT_EQ(reply->files[0], (ScrapeEntry{hash_of(1), 4, 5, 6}));
  EXPECT_EQ(reply->files[1], (ScrapeEntry{hash_of(9), 1, 2, 3}));

  std::vector<ScrapeEntry> none;
  std::string empty;
  append_scrape_reply(empty, none);
  EXPECT_EQ(empty, "d5:filesdee");
}

TEST(Scrape, ReplyErrors) {
  auto failure = decode_scrape_reply("d14:failure reason4:nope");
  EXPECT_FALSE(failure);
  auto failed = decode_scrape_reply("d14:failure reason4:nopee");
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->failure_reason, "nope");
  EXPECT_FALSE(decode_scrape_reply("de"));
  EXPECT_FALSE(decode_scrape_reply("d5:filesi1ee"));
  EXPECT_FALSE(decode_scrape_reply("d5:filesd3:abcdeee"));
  EXPECT_FALSE(decode_scrape_reply("d5:filesd20:aaaaaaaaaaaaaaaaaaaai1eee"));
}

}  // namespace
}  // namespace starling::tracker
