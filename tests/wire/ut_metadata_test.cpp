#include "wire/ut_metadata.hpp"

#include <gtest/gtest.h>

#include <string>

#include "support/expect_error.hpp"

namespace starling::wire {
namespace {

using namespace std::string_literals;

TEST(UtMetadata, EncodesTheThreeMessagesAsBep9Shows) {
  EXPECT_EQ(encode_metadata_request(0), "d8:msg_typei0e5:piecei0ee");
  EXPECT_EQ(encode_metadata_reject(3), "d8:msg_typei2e5:piecei3ee");
  EXPECT_EQ(encode_metadata_data(1, 31235, "xyz"),
            "d8:msg_typei1e5:piecei1e10:total_sizei31235eexyz");
}

TEST(UtMetadata, ParsesADataMessageAndKeepsTheTrailingBytes) {
  const std::string payload =
      "d8:msg_typei1e5:piecei2e10:total_sizei40000ee" + std::string(7232, 'a');
  auto m = parse_metadata_message(payload);
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->type, MetadataMessageType::data);
  EXPECT_EQ(m->piece, 2);
  EXPECT_EQ(m->total_size, 40000);
  EXPECT_EQ(m->data.size(), 7232u);
  EXPECT_EQ(m->data.front(), 'a');
}

TEST(UtMetadata, RoundTripsRequestsAndRejects) {
  auto r = parse_metadata_message(encode_metadata_request(7));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->type, MetadataMessageType::request);
  EXPECT_EQ(r->piece, 7);
  EXPECT_TRUE(r->data.empty());
  auto j = parse_metadata_message(encode_metadata_reject(9));
  ASSERT_TRUE(j);
  EXPECT_EQ(j->type, MetadataMessageType::reject);
  EXPECT_EQ(j->piece, 9);
}

TEST(UtMetadata, AcceptsUnsortedKeysAsSomeClientsSendThem) {
  auto m = parse_metadata_message("d5:piecei4e8:msg_typei0ee");
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->piece, 4);
}

TEST(UtMetadata, RefusesMalformedMessagesWithAReason) {
  for (const std::string& bad :
       {""s, "x"s, "i3e"s, "d5:piecei0ee"s, "d8:msg_typei7e5:piecei0ee"s,
        "d8:msg_typei0e5:piecei-1ee"s, "d8:msg_typei0ee"s, "d8:msg_typei1e5:piecei0ee"s,
        "d8:msg_typei1e5:piecei0e10:total_sizei0ee"s, "d8:msg_type"s}) {
    auto m = parse_metadata_message(bad);
    ASSERT_FALSE(m) << testing::printable(bad);
    EXPECT_EQ(m.error().code, Errc::wire_bad_metadata_message) << testing::printable(bad);
  }
}

TEST(UtMetadata, CountsPieces) {
  EXPECT_EQ(metadata_pieces(1), 1);
  EXPECT_EQ(metadata_pieces(16384), 1);
  EXPECT_EQ(metadata_pieces(16385), 2);
}

}  // namespace
}  // namespace starling::wire
