#include "core/error.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <system_error>

#include "core/expected.hpp"

namespace starling {
namespace {

constexpr Errc kAll[] = {
    Errc::ok,
    Errc::bencode_truncated,
    Errc::bencode_unexpected_byte,
    Errc::bencode_leading_zero,
    Errc::bencode_negative_zero,
    Errc::bencode_integer_overflow,
    Errc::bencode_length_overflow,
    Errc::bencode_too_deep,
    Errc::bencode_too_many_elements,
    Errc::bencode_unsorted_keys,
    Errc::bencode_duplicate_key,
    Errc::bencode_trailing_data,
    Errc::metainfo_not_a_dict,
    Errc::metainfo_missing_field,
    Errc::metainfo_bad_field,
    Errc::metainfo_unsafe_path,
    Errc::metainfo_not_canonical,
    Errc::magnet_bad_uri,
    Errc::io_error,
    Errc::invalid_argument,
    Errc::wire_bad_metadata_message,
    Errc::metadata_hash_mismatch,
    Errc::dht_bad_message,
};

TEST(ErrorCategory, NameAndIdentity) {
  EXPECT_STREQ(error_category().name(), "starling");
  EXPECT_EQ(&error_category(), &error_category());
  EXPECT_TRUE(make_error_code(Errc::io_error).category() == error_category());
  EXPECT_TRUE(error_category() != std::generic_category());
}

TEST(ErrorCategory, EveryCodeHasItsOwnMessage) {
  std::set<std::string> seen;
  for (Errc e : kAll) {
    const std::string message = make_error_code(e).message();
    EXPECT_FALSE(message.empty()) << static_cast<int>(e);
    EXPECT_NE(message, "unknown error") << static_cast<int>(e);
    EXPECT_TRUE(seen.insert(message).second) << "duplicate message: " << message;
  }
  EXPECT_EQ(make_error_code(Errc::ok).message(), "success");
  EXPECT_EQ(error_category().message(9999), "unknown error");
  EXPECT_NE(make_error_code(Errc::bencode_truncated).message().find("bencode"), std::string::npos);
  EXPECT_NE(make_error_code(Errc::metainfo_missing_field).message().find("torrent"),
            std::string::npos);
}

TEST(ErrorCode, ConvertsAndCompares) {
  std::error_code ec = Errc::bencode_too_deep;  // implicit, through is_error_code_enum
  EXPECT_EQ(ec, Errc::bencode_too_deep);
  EXPECT_NE(ec, Errc::bencode_truncated);
  EXPECT_EQ(ec.value(), static_cast<int>(Errc::bencode_too_deep));
  EXPECT_TRUE(ec);
  EXPECT_FALSE(make_error_code(Errc::ok));
  // Same value, different category: not equal.
  EXPECT_NE(ec, std::error_code(static_cast<int>(Errc::bencode_too_deep), std::generic_category()));
}

TEST(Error, MessageWithDetailAndOffset) {
  const Error e(Errc::bencode_leading_zero, "integer", 42);
  EXPECT_EQ(e.code, Errc::bencode_leading_zero);
  EXPECT_EQ(e.detail, "integer");
  EXPECT_EQ(e.offset, 42u);
  EXPECT_TRUE(e.has_offset());
  EXPECT_EQ(e.message(), "bencode: number with a leading zero: integer (at byte 42)");
}

TEST(Error, OffsetZeroIsAnOffset) {
  const Error e(Errc::bencode_truncated, "", 0);
  EXPECT_TRUE(e.has_offset());
  EXPECT_EQ(e.message(), "bencode: truncated input (at byte 0)");
}

TEST(Error, MessageWithoutOffset) {
  const Error e(Errc::metainfo_missing_field, "key 'piece length'");
  EXPECT_FALSE(e.has_offset());
  EXPECT_EQ(e.offset, Error::no_offset);
  EXPECT_EQ(e.message(), "torrent: missing field: key 'piece length'");
  EXPECT_EQ(e.message().find("at byte"), std::string::npos);
}

TEST(Error, MessageWithNeitherDetailNorOffset) {
  const Error e(Errc::invalid_argument, "");
  EXPECT_EQ(e.message(), "invalid argument");
}

TEST(Error, FromAForeignErrorCode) {
  const Error e(std::make_error_code(std::errc::no_such_file_or_directory), "/tmp/missing");
  EXPECT_EQ(e.code, std::errc::no_such_file_or_directory);
  EXPECT_FALSE(e.has_offset());
  EXPECT_NE(e.message().find("/tmp/missing"), std::string::npos);
  EXPECT_EQ(e.message().find("at byte"), std::string::npos);
}

TEST(Error, DefaultConstructed) {
  const Error e;
  EXPECT_FALSE(e.code);
  EXPECT_FALSE(e.has_offset());
  EXPECT_TRUE(e.detail.empty());
}

TEST(Error, LargeOffsets) {
  const Error e(Errc::bencode_trailing_data, "x", 4294967295u);
  EXPECT_NE(e.message().find("(at byte 4294967295)"), std::string::npos);
}

Expected<int> parse_positive(int v) {
  if (v <= 0) return Error(Errc::invalid_argument, "not positive");
  return v;
}

TEST(Expected, ValueAndError) {
  auto good = parse_positive(3);
  ASSERT_TRUE(good);
  EXPECT_TRUE(good.has_value());
  EXPECT_EQ(*good, 3);
  EXPECT_EQ(good.value(), 3);
  *good = 4;
  EXPECT_EQ(good.value(), 4);

  auto bad = parse_positive(0);
  EXPECT_FALSE(bad);
  EXPECT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, Errc::invalid_argument);
  EXPECT_EQ(bad.error().detail, "not positive");
}

TEST(Expected, ArrowAndMoveOut) {
  Expected<std::string> s = std::string("hello");
  EXPECT_EQ(s->size(), 5u);
  std::string taken = std::move(s).value();
  EXPECT_EQ(taken, "hello");
}

TEST(Expected, Status) {
  Status good = ok();
  EXPECT_TRUE(good);
  Status bad = Error(Errc::io_error, "disk full");
  EXPECT_FALSE(bad);
  EXPECT_EQ(bad.error().message(), "I/O error: disk full");
}

}  // namespace
}  // namespace starling
