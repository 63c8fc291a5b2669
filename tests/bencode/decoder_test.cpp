// The bencode decoder, value by value: integers, strings, containers, trailing bytes, limits.
#include "bencode/decoder.hpp"

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "bencode/encoder.hpp"
#include "core/digest.hpp"
#include "decoder_test_support.hpp"
#include "support/expect_error.hpp"

namespace starling::bencode {
namespace {

using namespace std::string_view_literals;
using test::FailsWith;
using test::S;
using testing::printable;

// ---------------------------------------------------------------------------------------------
// Integers

TEST(DecoderInteger, AcceptsCanonicalValues) {
  struct Case {
    std::string_view input;
    std::int64_t value;
  };
  const Case cases[] = {
      {"i0e", 0},
      {"i1e", 1},
      {"i-1e", -1},
      {"i42e", 42},
      {"i-42e", -42},
      {"i10e", 10},
      {"i-10e", -10},
      {"i1000000e", 1000000},
      {"i4294967296e", 4294967296},
      {"i9223372036854775807e", std::numeric_limits<std::int64_t>::max()},
      {"i-9223372036854775808e", std::numeric_limits<std::int64_t>::min()},
      {"i9223372036854775806e", std::numeric_limits<std::int64_t>::max() - 1},
      {"i-9223372036854775807e", std::numeric_limits<std::int64_t>::min() + 1},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.input);
    auto doc = decode(c.input);
    ASSERT_TRUE(doc) << doc.error().message();
    Node n = doc->root();
    EXPECT_EQ(n.type(), Type::integer);
    EXPECT_TRUE(n.is_int());
    EXPECT_FALSE(n.is_string());
    EXPECT_FALSE(n.is_list());
    EXPECT_FALSE(n.is_dict());
    EXPECT_EQ(n.as_int(), c.value);
    EXPECT_EQ(n.raw(), c.input);
    EXPECT_EQ(n.offset(), 0u);
    EXPECT_EQ(doc->consumed(), c.input.size());
  }
}

TEST(DecoderInteger, RejectsOverflowBeyondInt64) {
  EXPECT_TRUE(FailsWith("i9223372036854775808e", Errc::bencode_integer_overflow, 0));
  EXPECT_TRUE(FailsWith("i-9223372036854775809e", Errc::bencode_integer_overflow, 0));
  EXPECT_TRUE(FailsWith("i9223372036854775810e", Errc::bencode_integer_overflow, 0));
  EXPECT_TRUE(FailsWith("i18446744073709551616e", Errc::bencode_integer_overflow, 0));
  EXPECT_TRUE(FailsWith("i99999999999999999999999999999e", Errc::bencode_integer_overflow, 0));
  EXPECT_TRUE(FailsWith("i-99999999999999999999999999999e", Errc::bencode_integer_overflow, 0));
  // Inside a container the offset is the integer's 'i'.
  EXPECT_TRUE(FailsWith("li1ei9223372036854775808ee", Errc::bencode_integer_overflow, 4));
  // Overflow is found while reading digits, before the terminator is seen.
  EXPECT_TRUE(FailsWith("i92233720368547758070", Errc::bencode_integer_overflow, 0));
}

TEST(DecoderInteger, RejectsLeadingZeros) {
  EXPECT_TRUE(FailsWith("i03e", Errc::bencode_leading_zero, 1));
  EXPECT_TRUE(FailsWith("i00e", Errc::bencode_leading_zero, 1));
  EXPECT_TRUE(FailsWith("i000e", Errc::bencode_leading_zero, 1));
  EXPECT_TRUE(FailsWith("i-03e", Errc::bencode_leading_zero, 2));
  EXPECT_TRUE(FailsWith("i-00e", Errc::bencode_leading_zero, 2));
  EXPECT_TRUE(FailsWith("l0:i007ee", Errc::bencode_leading_zero, 4));
}

TEST(DecoderInteger, RejectsNegativeZero) {
  EXPECT_TRUE(FailsWith("i-0e", Errc::bencode_negative_zero, 0));
  EXPECT_TRUE(FailsWith("d1:ai-0ee", Errc::bencode_negative_zero, 4));
}

TEST(DecoderInteger, RejectsMissingDigits) {
  EXPECT_TRUE(FailsWith("ie", Errc::bencode_unexpected_byte, 1));
  EXPECT_TRUE(FailsWith("i-e", Errc::bencode_unexpected_byte, 2));
  EXPECT_TRUE(FailsWith("lie", Errc::bencode_unexpected_byte, 2));
}

TEST(DecoderInteger, RejectsMalformedBytes) {
  EXPECT_TRUE(FailsWith("i+1e", Errc::bencode_unexpected_byte, 1));
  EXPECT_TRUE(FailsWith("i--1e", Errc::bencode_unexpected_byte, 2));
  EXPECT_TRUE(FailsWith("i1.5e", Errc::bencode_unexpected_byte, 2));
  EXPECT_TRUE(FailsWith("i12x", Errc::bencode_unexpected_byte, 3));
  EXPECT_TRUE(FailsWith("i 1e", Errc::bencode_unexpected_byte, 1));
  EXPECT_TRUE(FailsWith("i1 e", Errc::bencode_unexpected_byte, 2));
  EXPECT_TRUE(FailsWith("i1-e", Errc::bencode_unexpected_byte, 2));
  EXPECT_TRUE(FailsWith("iae", Errc::bencode_unexpected_byte, 1));
}

TEST(DecoderInteger, RejectsTruncation) {
  EXPECT_TRUE(FailsWith("i", Errc::bencode_truncated, 0));
  EXPECT_TRUE(FailsWith("i-", Errc::bencode_truncated, 0));
  EXPECT_TRUE(FailsWith("i12", Errc::bencode_truncated, 0));
  EXPECT_TRUE(FailsWith("i-12", Errc::bencode_truncated, 0));
  EXPECT_TRUE(FailsWith("li1ei2", Errc::bencode_truncated, 4));
}

// ---------------------------------------------------------------------------------------------
// Strings

TEST(DecoderString, AcceptsStrings) {
  auto doc = decode("4:spam");
  ASSERT_TRUE(doc);
  EXPECT_EQ(doc->root().type(), Type::string);
  EXPECT_TRUE(doc->root().is_string());
  EXPECT_EQ(doc->root().as_string(), "spam");
  EXPECT_EQ(doc->root().raw(), "4:spam");
  EXPECT_EQ(doc->root().size(), 0u);

  auto empty = decode("0:");
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->root().as_string(), "");
  EXPECT_EQ(empty->root().raw(), "0:");

  const std::string long_text(1234, 'x');
  const std::string encoded = "1234:" + long_text;
  auto long_doc = decode(encoded);
  ASSERT_TRUE(long_doc);
  EXPECT_EQ(long_doc->root().as_string(), long_text);
}

TEST(DecoderString, BinaryBytesSurviveIntact) {
  const std::string payload("\x00\x01\xff\x80:e\x00i", 8);
  const std::string input = "8:" + payload;
  auto doc = decode(input);
  ASSERT_TRUE(doc);
  EXPECT_EQ(doc->root().as_string(), payload);
  EXPECT_EQ(doc->root().as_string().size(), 8u);
}

TEST(DecoderString, ViewsPointIntoTheInput) {
  const std::string input = "d3:keyl5:helloi7eee";
  auto doc = decode(input);
  ASSERT_TRUE(doc);
  EXPECT_EQ(doc->input().data(), input.data());
  EXPECT_EQ(doc->input().size(), input.size());
  Node list = *doc->root().find_list("key");
  std::string_view hello = list.at(0).as_string();
  EXPECT_EQ(hello, "hello");
  EXPECT_EQ(hello.data(), input.data() + 9);
  auto entries = doc->root().entries();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].first.data(), input.data() + 3);
  EXPECT_EQ(doc->root().raw().data(), input.data());
  EXPECT_EQ(list.raw().data(), input.data() + 6);
}

TEST(DecoderString, RejectsLeadingZeroInLength) {
  EXPECT_TRUE(FailsWith("03:abc", Errc::bencode_leading_zero, 0));
  EXPECT_TRUE(FailsWith("00:", Errc::bencode_leading_zero, 0));
  EXPECT_TRUE(FailsWith("01:a", Errc::bencode_leading_zero, 0));
  EXPECT_TRUE(FailsWith("l1:a03:abce", Errc::bencode_leading_zero, 4));
}

TEST(DecoderString, RejectsLengthBeyondInput) {
  EXPECT_TRUE(FailsWith("5:abc", Errc::bencode_length_overflow, 0));
  EXPECT_TRUE(FailsWith("1:", Errc::bencode_length_overflow, 0));
  // 'e' of the list counts as input but the string would swallow it and still be short.
  EXPECT_TRUE(FailsWith("l5:abce", Errc::bencode_length_overflow, 1));
  EXPECT_TRUE(FailsWith("4294967296:x", Errc::bencode_length_overflow, 0));
  EXPECT_TRUE(FailsWith("18446744073709551617:x", Errc::bencode_length_overflow, 0));
  EXPECT_TRUE(
      FailsWith("99999999999999999999999999999999999999:", Errc::bencode_length_overflow, 0));
  // A length that exactly fits is fine; one more byte is not.
  EXPECT_TRUE(decode("3:abc"));
  EXPECT_TRUE(FailsWith("4:abc", Errc::bencode_length_overflow, 0));
}

TEST(DecoderString, RejectsMalformedHeaders) {
  EXPECT_TRUE(FailsWith("1", Errc::bencode_truncated, 0));
  EXPECT_TRUE(FailsWith("3", Errc::bencode_length_overflow, 0));   // 3 > 1 byte of input
  EXPECT_TRUE(FailsWith("12", Errc::bencode_length_overflow, 0));  // 12 > 2 bytes of input
  EXPECT_TRUE(FailsWith("1x", Errc::bencode_unexpected_byte, 1));
  EXPECT_TRUE(FailsWith("3 :abc", Errc::bencode_unexpected_byte, 1));
  EXPECT_TRUE(FailsWith("-1:a", Errc::bencode_unexpected_byte, 0));
  EXPECT_TRUE(FailsWith("+1:a", Errc::bencode_unexpected_byte, 0));
  EXPECT_TRUE(FailsWith(":abc", Errc::bencode_unexpected_byte, 0));
  EXPECT_TRUE(FailsWith("l1:a3", Errc::bencode_truncated, 4));
}

// ---------------------------------------------------------------------------------------------
// Lists and dicts

TEST(DecoderContainers, EmptyListAndDict) {
  auto list = decode("le");
  ASSERT_TRUE(list);
  EXPECT_EQ(list->root().type(), Type::list);
  EXPECT_TRUE(list->root().is_list());
  EXPECT_EQ(list->root().size(), 0u);
  EXPECT_TRUE(list->root().elements().empty());

  auto dict = decode("de");
  ASSERT_TRUE(dict);
  EXPECT_EQ(dict->root().type(), Type::dict);
  EXPECT_TRUE(dict->root().is_dict());
  EXPECT_EQ(dict->root().size(), 0u);
  EXPECT_TRUE(dict->root().entries().empty());
  EXPECT_FALSE(dict->root().find(""));
  EXPECT_TRUE(dict->root().check_canonical());
}

TEST(DecoderContainers, ListElementsAndOffsets) {
  const std::string input = "li1e4:spamlei-7ed1:xi0eee";
  //                         0123456789...
  auto doc = decode(input);
  ASSERT_TRUE(doc) << doc.error().message();
  Node root = doc->root();
  ASSERT_EQ(root.size(), 5u);
  auto items = root.elements();
  ASSERT_EQ(items.size(), 5u);
  EXPECT_EQ(items[0].as_int(), 1);
  EXPECT_EQ(items[0].offset(), 1u);
  EXPECT_EQ(items[1].as_string(), "spam");
  EXPECT_EQ(items[1].offset(), 4u);
  EXPECT_TRUE(items[2].is_list());
  EXPECT_EQ(items[2].size(), 0u);
  EXPECT_EQ(items[2].offset(), 10u);
  EXPECT_EQ(items[2].raw(), "le");
  EXPECT_EQ(items[3].as_int(), -7);
  EXPECT_EQ(items[3].offset(), 12u);
  EXPECT_TRUE(items[4].is_dict());
  EXPECT_EQ(items[4].offset(), 16u);
  EXPECT_EQ(items[4].raw(), "d1:xi0ee");
  EXPECT_EQ(items[4].find_int("x"), 0);
  for (std::size_t i = 0; i < items.size(); ++i) {
    EXPECT_EQ(root.at(i).offset(), items[i].offset()) << i;
    EXPECT_EQ(root.at(i).raw(), items[i].raw()) << i;
  }
  EXPECT_EQ(root.offset(), 0u);
  EXPECT_EQ(root.raw(), input);
}

TEST(DecoderContainers, NestedLists) {
  auto doc = decode("llllei1eeee");
  ASSERT_TRUE(doc);
  Node outer = doc->root();
  ASSERT_EQ(outer.size(), 1u);
  Node mid = outer.at(0);
  ASSERT_EQ(mid.size(), 1u);
  Node inner = mid.at(0);
  ASSERT_EQ(inner.size(), 2u);
  EXPECT_TRUE(inner.at(0).is_list());
  EXPECT_EQ(inner.at(0).size(), 0u);
  EXPECT_EQ(inner.at(1).as_int(), 1);
  EXPECT_EQ(inner.raw(), "llei1ee");
  EXPECT_EQ(inner.offset(), 2u);
}

TEST(DecoderContainers, DictEntriesInInputOrder) {
  const std::string input = "d1:ai1e1:b4:spam1:cli2ee1:dd1:ei3eee";
  auto doc = decode(input);
  ASSERT_TRUE(doc) << doc.error().message();
  Node root = doc->root();
  ASSERT_EQ(root.size(), 4u);
  auto entries = root.entries();
  ASSERT_EQ(entries.size(), 4u);
  EXPECT_EQ(entries[0].first, "a");
  EXPECT_EQ(entries[0].second.as_int(), 1);
  EXPECT_EQ(entries[0].second.offset(), 4u);
  EXPECT_EQ(entries[1].first, "b");
  EXPECT_EQ(entries[1].second.as_string(), "spam");
  EXPECT_EQ(entries[2].first, "c");
  EXPECT_EQ(entries[2].second.raw(), "li2ee");
  EXPECT_EQ(entries[3].first, "d");
  EXPECT_EQ(entries[3].second.raw(), "d1:ei3ee");
  EXPECT_EQ(entries[3].second.offset(), input.find("d1:e"));
}

TEST(DecoderContainers, FindHelpersCheckTypes) {
  auto doc = decode("d4:dictd1:x0:e3:inti5e4:listli1ee3:str3:abce");
  ASSERT_TRUE(doc) << doc.error().message();
  Node root = doc->root();

  ASSERT_TRUE(root.find("int"));
  EXPECT_EQ(root.find("int")->as_int(), 5);
  EXPECT_EQ(root.find_int("int"), 5);
  EXPECT_FALSE(root.find_string("int"));
  EXPECT_FALSE(root.find_list("int"));
  EXPECT_FALSE(root.find_dict("int"));

  EXPECT_EQ(root.find_string("str"), "abc");
  EXPECT_FALSE(root.find_int("str"));

  auto list = root.find_list("list");
  ASSERT_TRUE(list);
  EXPECT_EQ(list->size(), 1u);
  EXPECT_EQ(list->at(0).as_int(), 1);
  EXPECT_FALSE(root.find_dict("list"));
  EXPECT_FALSE(root.find_string("list"));

  auto dict = root.find_dict("dict");
  ASSERT_TRUE(dict);
  EXPECT_EQ(dict->find_string("x"), "");
  EXPECT_FALSE(root.find_list("dict"));
  EXPECT_FALSE(root.find_int("dict"));

  // Missing keys, keys that exist only as values, prefixes of keys.
  EXPECT_FALSE(root.find("missing"));
  EXPECT_FALSE(root.find("abc"));
  EXPECT_FALSE(root.find("in"));
  EXPECT_FALSE(root.find("intx"));
  EXPECT_FALSE(root.find(""));
  EXPECT_FALSE(root.find_int("missing"));
  EXPECT_FALSE(root.find_string("missing"));
  EXPECT_FALSE(root.find_list("missing"));
  EXPECT_FALSE(root.find_dict("missing"));

  // find() on something that is not a dict finds nothing.
  EXPECT_FALSE(list->find("1"));
  EXPECT_FALSE(root.find("int")->find("int"));
  EXPECT_FALSE(root.find("str")->find("abc"));
}

TEST(DecoderContainers, KeysWithBinaryBytes) {
  const std::string input = std::string("d") + S(std::string("\x00", 1)) + "i1e" + S("\x7f") +
                            "i2e" + S("\x80") + "i3e" + S("\xff\xff") + "i4ee";
  auto doc = decode(input);
  ASSERT_TRUE(doc) << doc.error().message();
  EXPECT_EQ(doc->root().find_int(std::string_view("\x00", 1)), 1);
  EXPECT_EQ(doc->root().find_int("\x7f"), 2);
  EXPECT_EQ(doc->root().find_int("\x80"), 3);
  EXPECT_EQ(doc->root().find_int("\xff\xff"), 4);
  EXPECT_FALSE(doc->root().find("\xff"));
}

TEST(DecoderContainers, DictKeysMustBeStrings) {
  EXPECT_TRUE(FailsWith("di1ei2ee", Errc::bencode_unexpected_byte, 1));
  EXPECT_TRUE(FailsWith("dlei2ee", Errc::bencode_unexpected_byte, 1));
  EXPECT_TRUE(FailsWith("ddei2ee", Errc::bencode_unexpected_byte, 1));
  EXPECT_TRUE(FailsWith("d1:ai1ei2ei3ee", Errc::bencode_unexpected_byte, 7));
  EXPECT_TRUE(FailsWith("d1:ai1ex", Errc::bencode_unexpected_byte, 7));
}

TEST(DecoderContainers, DictKeyWithoutValue) {
  EXPECT_TRUE(FailsWith("d1:ae", Errc::bencode_unexpected_byte, 4));
  EXPECT_TRUE(FailsWith("d1:ai1e1:be", Errc::bencode_unexpected_byte, 10));
  EXPECT_TRUE(FailsWith("d1:a", Errc::bencode_truncated, 4));
}

TEST(DecoderContainers, UnexpectedBytes) {
  EXPECT_TRUE(FailsWith("e", Errc::bencode_unexpected_byte, 0));
  EXPECT_TRUE(FailsWith("x", Errc::bencode_unexpected_byte, 0));
  EXPECT_TRUE(FailsWith(" i1e", Errc::bencode_unexpected_byte, 0));
  EXPECT_TRUE(FailsWith("l?e", Errc::bencode_unexpected_byte, 1));
  EXPECT_TRUE(FailsWith("d1:a?e", Errc::bencode_unexpected_byte, 4));
  EXPECT_TRUE(FailsWith(std::string_view("\x00", 1), Errc::bencode_unexpected_byte, 0));
  EXPECT_TRUE(FailsWith("\xff", Errc::bencode_unexpected_byte, 0));
  EXPECT_TRUE(FailsWith("L", Errc::bencode_unexpected_byte, 0));
  EXPECT_TRUE(FailsWith("D", Errc::bencode_unexpected_byte, 0));
  EXPECT_TRUE(FailsWith("I1E", Errc::bencode_unexpected_byte, 0));
}

TEST(DecoderContainers, Truncation) {
  EXPECT_TRUE(FailsWith("", Errc::bencode_truncated, 0));
  EXPECT_TRUE(FailsWith("l", Errc::bencode_truncated, 1));
  EXPECT_TRUE(FailsWith("d", Errc::bencode_truncated, 1));
  EXPECT_TRUE(FailsWith("li1e", Errc::bencode_truncated, 4));
  EXPECT_TRUE(FailsWith("lli1e", Errc::bencode_truncated, 5));
  EXPECT_TRUE(FailsWith("d1:ai1e", Errc::bencode_truncated, 7));
}

// ---------------------------------------------------------------------------------------------
// Trailing data and decode_prefix

TEST(DecoderTrailing, DecodeRejectsTrailingData) {
  EXPECT_TRUE(FailsWith("i1ei2e", Errc::bencode_trailing_data, 3));
  EXPECT_TRUE(FailsWith("lee", Errc::bencode_trailing_data, 2));
  EXPECT_TRUE(FailsWith("4:spamX", Errc::bencode_trailing_data, 6));
  EXPECT_TRUE(FailsWith("de\n", Errc::bencode_trailing_data, 2));
  EXPECT_TRUE(FailsWith(std::string_view("i0e\0", 4), Errc::bencode_trailing_data, 3));
  auto doc = decode("lei1e");
  ASSERT_FALSE(doc);
  EXPECT_NE(doc.error().detail.find("3 bytes"), std::string::npos) << doc.error().detail;
}

TEST(DecoderTrailing, DecodePrefixAllowsTrailingData) {
  const std::string input = "d1:ai1ee garbage that is not bencode";
  auto doc = decode_prefix(input);
  ASSERT_TRUE(doc) << doc.error().message();
  EXPECT_EQ(doc->consumed(), 8u);
  EXPECT_EQ(doc->input().size(), input.size());
  EXPECT_EQ(doc->root().raw(), "d1:ai1ee");
  EXPECT_EQ(doc->root().find_int("a"), 1);

  auto two = decode_prefix("i1ei2e");
  ASSERT_TRUE(two);
  EXPECT_EQ(two->consumed(), 3u);
  EXPECT_EQ(two->root().as_int(), 1);

  auto exact = decode_prefix("4:spam");
  ASSERT_TRUE(exact);
  EXPECT_EQ(exact->consumed(), 6u);

  // A stream of values can be walked by repeatedly decoding prefixes.
  std::string_view stream = "i1e3:abcli2eede";
  std::vector<std::string> raws;
  while (!stream.empty()) {
    auto d = decode_prefix(stream);
    ASSERT_TRUE(d) << d.error().message();
    raws.emplace_back(d->root().raw());
    stream.remove_prefix(d->consumed());
  }
  EXPECT_EQ(raws, (std::vector<std::string>{"i1e", "3:abc", "li2ee", "de"}));
}

TEST(DecoderTrailing, DecodePrefixStillValidatesTheValue) {
  auto bad = decode_prefix("i03eXYZ");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, make_error_code(Errc::bencode_leading_zero));
  EXPECT_EQ(bad.error().offset, 1u);

  auto truncated = decode_prefix("li1e");
  ASSERT_FALSE(truncated);
  EXPECT_EQ(truncated.error().code, make_error_code(Errc::bencode_truncated));
  EXPECT_EQ(truncated.error().offset, 4u);

  auto empty = decode_prefix("");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code, make_error_code(Errc::bencode_truncated));
  EXPECT_EQ(empty.error().offset, 0u);
}

// ---------------------------------------------------------------------------------------------
// Limits

std::string nested_lists(int depth) {
  return std::string(static_cast<std::size_t>(depth), 'l') +
         std::string(static_cast<std::size_t>(depth), 'e');
}

TEST(DecoderLimits, DefaultDepthIs100) {
  EXPECT_EQ(DecodeLimits{}.max_depth, 100);
  EXPECT_TRUE(decode(nested_lists(100)));
  EXPECT_TRUE(FailsWith(nested_lists(101), Errc::bencode_too_deep, 100));
  EXPECT_TRUE(FailsWith(nested_lists(100000), Errc::bencode_too_deep, 100));
}

TEST(DecoderLimits, CustomDepth) {
  DecodeLimits limits;
  limits.max_depth = 3;
  EXPECT_TRUE(decode("llleee", limits));
  EXPECT_TRUE(decode("llli1eeee", limits));  // scalars at the deepest level are fine
  EXPECT_TRUE(FailsWith("lllleeee", Errc::bencode_too_deep, 3, limits));
  // Dicts count as levels too.
  EXPECT_TRUE(decode("d1:ad1:bdeee", limits));
  EXPECT_TRUE(FailsWith("d1:ad1:bd1:cdeeee", Errc::bencode_too_deep, 12, limits));
  EXPECT_TRUE(FailsWith("ld1:alleee", Errc::bencode_too_deep, 6, limits));
  // Depth is current nesting, not the total number of containers.
  EXPECT_TRUE(decode("llleelleelleee", limits));

  limits.max_depth = 1;
  EXPECT_TRUE(decode("li1ee", limits));
  EXPECT_TRUE(FailsWith("llee", Errc::bencode_too_deep, 1, limits));

  limits.max_depth = 0;
  EXPECT_TRUE(decode("i1e", limits));
  EXPECT_TRUE(decode("3:abc", limits));
  EXPECT_TRUE(FailsWith("le", Errc::bencode_too_deep, 0, limits));
  EXPECT_TRUE(FailsWith("de", Errc::bencode_too_deep, 0, limits));

  limits.max_depth = -1;  // nonsense limits allow nothing rather than everything
  EXPECT_TRUE(decode("i1e", limits));
  EXPECT_TRUE(FailsWith("le", Errc::bencode_too_deep, 0, limits));
}

TEST(DecoderLimits, MaxElements) {
  DecodeLimits limits;
  limits.max_elements = 3;
  EXPECT_TRUE(decode("li1ei2ee", limits));  // the list and two integers
  EXPECT_TRUE(FailsWith("li1ei2ei3ee", Errc::bencode_too_many_elements, 7, limits));
  // Dict keys are values too.
  EXPECT_TRUE(decode("d1:ai1ee", limits));
  EXPECT_TRUE(FailsWith("d1:ai1e1:bi2ee", Errc::bencode_too_many_elements, 7, limits));
  // Containers count.
  EXPECT_TRUE(FailsWith("lllleeee", Errc::bencode_too_many_elements, 3, limits));

  limits.max_elements = 1;
  EXPECT_TRUE(decode("i1e", limits));
  EXPECT_TRUE(decode("le", limits));
  EXPECT_TRUE(FailsWith("li1ee", Errc::bencode_too_many_elements, 1, limits));

  limits.max_elements = 0;
  EXPECT_TRUE(FailsWith("i1e", Errc::bencode_too_many_elements, 0, limits));

  auto doc = decode("li1ei2ei3ee", limits);
  ASSERT_FALSE(doc);
  EXPECT_NE(doc.error().message().find("more than 0 values"), std::string::npos);
}

TEST(DecoderLimits, ManyElementsWithinTheDefaultLimit) {
  std::string input = "l";
  for (int i = 0; i < 100000; ++i) input += "i" + std::to_string(i) + "e";
  input += "e";
  auto doc = decode(input);
  ASSERT_TRUE(doc) << doc.error().message();
  ASSERT_EQ(doc->root().size(), 100000u);
  auto items = doc->root().elements();
  for (int i = 0; i < 100000; i += 9973) EXPECT_EQ(items[static_cast<std::size_t>(i)].as_int(), i);
  EXPECT_EQ(items.back().as_int(), 99999);
}

TEST(DecoderLimits, InputOf4GiBIsRejectedUpFront) {
  if constexpr (sizeof(void*) < 8) {
    GTEST_SKIP() << "needs a 64-bit address space";
  } else {
    const std::size_t size = std::size_t{1} << 32;
    void* mem = mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mem == MAP_FAILED) GTEST_SKIP() << "cannot reserve 4 GiB of address space";
    auto doc = decode(std::string_view(static_cast<const char*>(mem), size));
    munmap(mem, size);
    ASSERT_FALSE(doc);
    EXPECT_EQ(doc.error().code, make_error_code(Errc::bencode_length_overflow));
    EXPECT_EQ(doc.error().offset, 0u);
  }
}

}  // namespace
}  // namespace starling::bencode
