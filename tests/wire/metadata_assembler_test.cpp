#include "wire/metadata_assembler.hpp"

#include <gtest/gtest.h>

#include <string>

#include "wire/ut_metadata.hpp"

namespace starling::wire {
namespace {

using Clock = std::chrono::steady_clock;
using Outcome = MetadataAssembler::Outcome;

std::string metadata(std::size_t size) {
  std::string s(size, '\0');
  for (std::size_t i = 0; i < size; ++i) s[i] = static_cast<char>('a' + i % 23);
  return s;
}

std::string_view piece_of(const std::string& all, std::int32_t piece) {
  const auto at = static_cast<std::size_t>(piece) * kMetadataPieceSize;
  return std::string_view(all).substr(at,
                                      std::min<std::size_t>(kMetadataPieceSize, all.size() - at));
}

TEST(MetadataAssembler, FetchesEveryPieceAndVerifiesTheHash) {
  const std::string info = metadata(40000);  // three pieces, the last 7232 bytes
  MetadataAssembler a(sha1(info));
  const auto now = Clock::now();
  EXPECT_FALSE(a.next_request(1, now));  // no size yet
  ASSERT_TRUE(a.on_size(1, 40000));
  std::vector<std::int32_t> asked;
  while (auto p = a.next_request(1, now)) asked.push_back(*p);
  EXPECT_EQ(asked, (std::vector<std::int32_t>{0, 1, 2}));
  EXPECT_EQ(a.on_data(1, 2, 40000, piece_of(info, 2)), Outcome::stored);
  EXPECT_EQ(a.on_data(1, 0, 40000, piece_of(info, 0)), Outcome::stored);
  EXPECT_FALSE(a.complete());
  EXPECT_EQ(a.on_data(1, 1, 40000, piece_of(info, 1)), Outcome::complete);
  EXPECT_TRUE(a.complete());
  EXPECT_EQ(a.bytes(), info);
}

TEST(MetadataAssembler, IgnoresUnrequestedWrongSizeAndForeignData) {
  const std::string info = metadata(20000);
  MetadataAssembler a(sha1(info));
  ASSERT_TRUE(a.on_size(1, 20000));
  const auto now = Clock::now();
  ASSERT_EQ(a.next_request(1, now), 0);
  // Peer 2 was not asked; peer 1 sends a wrong total and a short piece.
  EXPECT_EQ(a.on_data(2, 0, 20000, piece_of(info, 0)), Outcome::ignored);
  EXPECT_EQ(a.on_data(1, 0, 20001, piece_of(info, 0)), Outcome::ignored);
  EXPECT_EQ(a.on_data(1, 0, 20000, piece_of(info, 0).substr(1)), Outcome::ignored);
  EXPECT_EQ(a.on_data(1, 5, 20000, "x"), Outcome::ignored);
  EXPECT_EQ(a.on_data(1, 0, 20000, piece_of(info, 0)), Outcome::stored);
}

TEST(MetadataAssembler, BoundsTheSizeAndRefusesDisagreement) {
  MetadataAssembler a(Sha1Digest{}, MetadataLimits{.max_size = 1000});
  EXPECT_FALSE(a.on_size(1, 0));
  EXPECT_FALSE(a.on_size(1, 1001));
  EXPECT_FALSE(a.has_size());
  EXPECT_TRUE(a.on_size(1, 500));
  EXPECT_FALSE(a.on_size(2, 501));
  EXPECT_TRUE(a.on_size(3, 500));
  EXPECT_EQ(a.size(), 500);
}

TEST(MetadataAssembler, RetriesTimedOutRejectedAndOrphanedPiecesFromOthers) {
  const std::string info = metadata(3 * kMetadataPieceSize);
  MetadataAssembler a(sha1(info), MetadataLimits{.request_timeout = std::chrono::seconds(5),
                                                 .max_requests_per_peer = 1});
  ASSERT_TRUE(a.on_size(1, static_cast<std::int64_t>(info.size())));
  const auto t0 = Clock::now();
  EXPECT_EQ(a.next_request(1, t0), 0);
  EXPECT_EQ(a.next_request(1, t0), std::nullopt);  // one at a time
  EXPECT_EQ(a.next_request(2, t0), 1);
  EXPECT_EQ(a.next_request(3, t0), 2);
  // Peer 1 is slow: after the timeout piece 0 goes to peer 4.
  a.expire(t0 + std::chrono::seconds(4));
  EXPECT_EQ(a.next_request(4, t0 + std::chrono::seconds(4)), std::nullopt);
  a.expire(t0 + std::chrono::seconds(5));
  EXPECT_EQ(a.next_request(4, t0 + std::chrono::seconds(5)), 0);
  // Peer 2 rejects: its piece is free again and it is not asked again.
  a.on_reject(2, 1);
  EXPECT_EQ(a.next_request(2, t0), std::nullopt);
  EXPECT_EQ(a.next_request(5, t0), 1);
  // Peer 3 leaves.
  a.on_peer_gone(3);
  EXPECT_EQ(a.next_request(6, t0), 2);
  EXPECT_EQ(a.on_data(4, 0, a.size(), piece_of(info, 0)), Outcome::stored);
  EXPECT_EQ(a.on_data(5, 1, a.size(), piece_of(info, 1)), Outcome::stored);
  EXPECT_EQ(a.on_data(6, 2, a.size(), piece_of(info, 2)), Outcome::complete);
}

TEST(MetadataAssembler, AMismatchDropsEverythingAndNamesTheSenders) {
  const std::string info = metadata(2 * kMetadataPieceSize);
  std::string forged = info;
  forged[5] ^= 1;
  MetadataAssembler a(sha1(info));
  ASSERT_TRUE(a.on_size(1, static_cast<std::int64_t>(info.size())));
  const auto now = Clock::now();
  ASSERT_EQ(a.next_request(1, now), 0);
  ASSERT_EQ(a.next_request(2, now), 1);
  EXPECT_EQ(a.on_data(1, 0, a.size(), piece_of(forged, 0)), Outcome::stored);
  EXPECT_EQ(a.on_data(2, 1, a.size(), piece_of(forged, 1)), Outcome::mismatch);
  EXPECT_EQ(a.culprits(), (std::set<MetadataAssembler::PeerId>{1, 2}));
  EXPECT_FALSE(a.complete());
  // Everything is asked again.
  EXPECT_EQ(a.next_request(3, now), 0);
  EXPECT_EQ(a.next_request(3, now), 1);
  EXPECT_EQ(a.on_data(3, 0, a.size(), piece_of(info, 0)), Outcome::stored);
  EXPECT_EQ(a.on_data(3, 1, a.size(), piece_of(info, 1)), Outcome::complete);
}

}  // namespace
}  // namespace starling::wire
