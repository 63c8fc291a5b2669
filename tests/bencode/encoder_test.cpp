#include "bencode/encoder.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "bencode/decoder.hpp"

namespace starling::bencode {
namespace {

std::string encode_int(std::int64_t v) {
  std::string out;
  Encoder e(out);
  e.integer(v);
  return out;
}

std::string encode_string(std::string_view s) {
  std::string out;
  Encoder e(out);
  e.string(s);
  return out;
}

TEST(Encoder, Integers) {
  EXPECT_EQ(encode_int(0), "i0e");
  EXPECT_EQ(encode_int(1), "i1e");
  EXPECT_EQ(encode_int(-1), "i-1e");
  EXPECT_EQ(encode_int(42), "i42e");
  EXPECT_EQ(encode_int(-42), "i-42e");
  EXPECT_EQ(encode_int(1000000), "i1000000e");
  EXPECT_EQ(encode_int(std::numeric_limits<std::int64_t>::max()), "i9223372036854775807e");
  EXPECT_EQ(encode_int(std::numeric_limits<std::int64_t>::min()), "i-9223372036854775808e");
}

TEST(Encoder, Strings) {
  EXPECT_EQ(encode_string(""), "0:");
  EXPECT_EQ(encode_string("spam"), "4:spam");
  EXPECT_EQ(encode_string("i1e"), "3:i1e");
  EXPECT_EQ(encode_string(std::string(10, 'x')), "10:xxxxxxxxxx");
  const std::string big(123456, 'q');
  EXPECT_EQ(encode_string(big), "123456:" + big);
}

TEST(Encoder, BinaryStrings) {
  const std::string binary("\x00\xff\x80\x01:e\x00", 7);
  const std::string encoded = encode_string(binary);
  EXPECT_EQ(encoded, std::string("7:") + binary);
  EXPECT_EQ(encoded.size(), 9u);
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes.push_back(static_cast<char>(i));
  EXPECT_EQ(encode_string(all_bytes), "256:" + all_bytes);
}

TEST(Encoder, StreamingContainersAndRaw) {
  std::string out = "prefix:";
  Encoder e(out);
  e.begin_dict();
  e.string("a");
  e.begin_list();
  e.integer(1);
  e.string("two");
  e.begin_list();
  e.end();
  e.end();
  e.string("b");
  e.begin_dict();
  e.end();
  e.string("c");
  e.raw("li7ee");
  e.end();
  EXPECT_EQ(out, "prefix:d1:ali1e3:twolee1:bde1:cli7eee");  // appends, never clears
}

TEST(Encoder, WritesDictKeysInTheOrderGiven) {
  // The streaming encoder trusts the caller; the decoder then catches the mistake.
  std::string out;
  Encoder e(out);
  e.begin_dict();
  e.string("b");
  e.integer(1);
  e.string("a");
  e.integer(2);
  e.end();
  EXPECT_EQ(out, "d1:bi1e1:ai2ee");
  auto doc = decode(out);
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.error().code, make_error_code(Errc::bencode_unsorted_keys));
}

TEST(Value, KindsAndAccessors) {
  EXPECT_TRUE(Value().is_int());
  EXPECT_EQ(Value().as_int(), 0);
  EXPECT_TRUE(Value(5).is_int());
  EXPECT_EQ(Value(std::int64_t{-7}).as_int(), -7);
  EXPECT_TRUE(Value("abc").is_string());
  EXPECT_EQ(Value("abc").as_string(), "abc");
  EXPECT_EQ(Value(std::string_view("xy")).as_string(), "xy");
  EXPECT_EQ(Value(std::string("a\0b", 3)).as_string().size(), 3u);
  EXPECT_TRUE(Value(List{}).is_list());
  EXPECT_TRUE(Value(Dict{}).is_dict());
  EXPECT_FALSE(Value(List{}).is_dict());
  EXPECT_FALSE(Value(Dict{}).is_string());

  Value list = List{1, "two"};
  list.as_list().push_back(List{});
  EXPECT_EQ(list.as_list().size(), 3u);
  Value dict = Dict{};
  dict.as_dict()["k"] = 3;
  EXPECT_EQ(dict.as_dict().at("k").as_int(), 3);
}

TEST(Value, EncodesScalars) {
  EXPECT_EQ(encode(Value()), "i0e");
  EXPECT_EQ(encode(Value(-3)), "i-3e");
  EXPECT_EQ(encode(Value(std::numeric_limits<std::int64_t>::min())), "i-9223372036854775808e");
  EXPECT_EQ(encode(Value("")), "0:");
  EXPECT_EQ(encode(Value(std::string("\0\xff", 2))), std::string("2:\0\xff", 4));
}

TEST(Value, EncodesNestedContainers) {
  EXPECT_EQ(encode(Value(List{})), "le");
  EXPECT_EQ(encode(Value(Dict{})), "de");
  const Value v = Dict{{"list", List{1, List{}, Dict{}, "x"}}, {"n", -1}, {"d", Dict{{"k", "v"}}}};
  EXPECT_EQ(encode(v), "d1:dd1:k1:ve4:listli1elede1:xe1:ni-1ee");
}

TEST(Value, DictKeysAreSortedBytewise) {
  Dict d;
  d["b"] = 1;
  d["a"] = 2;
  d["aa"] = 3;
  d[""] = 4;
  d["B"] = 5;
  d["\x80"] = 6;
  d["\xff"] = 7;
  d["\x7f"] = 8;
  d["z"] = 9;
  d[std::string("\0", 1)] = 10;
  const std::string encoded = encode(Value(d));
  // Unsigned byte order: high bytes sort after ASCII, the empty key first, a prefix before
  // its extensions, NUL before everything else.
  const std::string expected = std::string("d0:i4e1:\0i10e", 13) +
                               "1:Bi5e1:ai2e2:aai3e1:bi1e1:zi9e1:\x7fi8e1:\x80i6e1:\xffi7ee";
  EXPECT_EQ(encoded, expected);
  // The decoder, which enforces canonical order, agrees.
  auto doc = decode(encoded);
  ASSERT_TRUE(doc) << doc.error().message();
  EXPECT_TRUE(doc->root().check_canonical());
}

TEST(Value, ReplacingAKeyKeepsOneEntry) {
  Dict d{{"k", 1}};
  d["k"] = 2;
  EXPECT_EQ(encode(Value(d)), "d1:ki2ee");
}

TEST(Value, EncodeToAppendsThroughAnEncoder) {
  std::string out;
  Encoder e(out);
  e.begin_list();
  Value(Dict{{"a", 1}}).encode_to(e);
  Value("s").encode_to(e);
  e.end();
  EXPECT_EQ(out, "ld1:ai1ee1:se");
}

TEST(Value, RoundTripsThroughTheDecoder) {
  std::string binary;
  for (int i = 255; i >= 0; --i) binary.push_back(static_cast<char>(i));
  const Value v = Dict{
      {"announce", "http://tracker.example/announce"},
      {"info", Dict{{"length", std::int64_t{1} << 40},
                    {"name", "file.bin"},
                    {"piece length", 262144},
                    {"pieces", binary}}},
      {"min", std::numeric_limits<std::int64_t>::min()},
      {"max", std::numeric_limits<std::int64_t>::max()},
      {"nested", List{Value(List{Value(List{})}), Dict{{"x", List{0, -0, ""}}}}},
      {"\xc3\xa9t\xc3\xa9", "utf-8 key"},
  };
  const std::string encoded = encode(v);
  auto doc = decode(encoded);
  ASSERT_TRUE(doc) << doc.error().message();
  Node root = doc->root();
  EXPECT_EQ(root.size(), 6u);
  EXPECT_EQ(root.find_string("announce"), "http://tracker.example/announce");
  EXPECT_EQ(root.find_int("min"), std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(root.find_int("max"), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(root.find_string("\xc3\xa9t\xc3\xa9"), "utf-8 key");
  auto info = root.find_dict("info");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->find_int("length"), std::int64_t{1} << 40);
  EXPECT_EQ(info->find_string("pieces"), binary);
  EXPECT_EQ(info->raw(), encode(v.as_dict().at("info")));
  auto nested = root.find_list("nested");
  ASSERT_TRUE(nested);
  EXPECT_EQ(nested->raw(), "llleed1:xli0ei0e0:eee");
  EXPECT_TRUE(root.check_canonical());
}

}  // namespace
}  // namespace starling::bencode
