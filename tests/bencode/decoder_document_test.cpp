// The bencode decoder on whole documents: key order, error offsets, truncation, raw bytes,
// round trips.
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
// Key order

TEST(DecoderKeyOrder, SortedKeysAccepted) {
  EXPECT_TRUE(decode("d0:i0e1:ai1e2:aai2e2:abi3e1:bi4ee"));  // "" < a < aa < ab < b
  EXPECT_TRUE(decode("d1:Ai1e1:ai2ee"));                     // uppercase before lowercase
  EXPECT_TRUE(decode("d1:zi1e1:\x80i2e1:\xffi3ee"));         // high bytes after ASCII
  EXPECT_TRUE(decode("d1:\x7fi1e1:\x80i2ee"));
}

TEST(DecoderKeyOrder, UnsortedKeysRejected) {
  EXPECT_TRUE(FailsWith("d1:bi1e1:ai2ee", Errc::bencode_unsorted_keys, 7));
  EXPECT_TRUE(FailsWith("d2:aai1e1:ai2ee", Errc::bencode_unsorted_keys, 8));
  EXPECT_TRUE(FailsWith("d1:ai1e0:i2ee", Errc::bencode_unsorted_keys, 7));
  EXPECT_TRUE(FailsWith("d1:\x80i1e1:zi2ee", Errc::bencode_unsorted_keys, 7));
  EXPECT_TRUE(FailsWith("d1:ai1e1:ci2e1:bi3ee", Errc::bencode_unsorted_keys, 13));
  // Nested: the inner dict's key offset is reported.
  EXPECT_TRUE(FailsWith("d1:ad1:bi1e1:ai2eee", Errc::bencode_unsorted_keys, 11));
  EXPECT_TRUE(FailsWith("ld1:bi1e1:ai2eee", Errc::bencode_unsorted_keys, 8));
}

TEST(DecoderKeyOrder, DuplicateKeysRejected) {
  EXPECT_TRUE(FailsWith("d1:ai1e1:ai2ee", Errc::bencode_duplicate_key, 7));
  EXPECT_TRUE(FailsWith("d0:i1e0:i2ee", Errc::bencode_duplicate_key, 6));
  EXPECT_TRUE(FailsWith("d1:ai1e1:bi2e1:bi3ee", Errc::bencode_duplicate_key, 13));
  auto doc = decode("d3:keyi1e3:keyi2ee");
  ASSERT_FALSE(doc);
  EXPECT_NE(doc.error().detail.find("'key'"), std::string::npos) << doc.error().detail;
}

TEST(DecoderKeyOrder, SameKeyInDifferentDictsIsFine) {
  EXPECT_TRUE(decode("d1:ad1:ai1ee1:bd1:ai1eee"));
  EXPECT_TRUE(decode("ld1:ai1eed1:ai1eee"));
}

DecodeLimits lenient() {
  DecodeLimits limits;
  limits.require_sorted_keys = false;
  return limits;
}

TEST(DecoderKeyOrder, LenientModeAcceptsAndRecordsUnsortedKeys) {
  const std::string input = "d1:bi1e1:ai2ee";
  auto doc = decode(input, lenient());
  ASSERT_TRUE(doc) << doc.error().message();
  Node root = doc->root();
  EXPECT_EQ(root.find_int("a"), 2);
  EXPECT_EQ(root.find_int("b"), 1);
  auto entries = root.entries();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].first, "b");  // input order, not sorted order
  EXPECT_EQ(entries[1].first, "a");
  Status canonical = root.check_canonical();
  ASSERT_FALSE(canonical);
  EXPECT_EQ(canonical.error().code, make_error_code(Errc::bencode_unsorted_keys));
  EXPECT_EQ(canonical.error().offset, 7u);
  EXPECT_NE(canonical.error().message().find("at byte 7"), std::string::npos);
}

TEST(DecoderKeyOrder, LenientModeAcceptsAndRecordsDuplicateKeys) {
  auto doc = decode("d1:ai1e1:ai2ee", lenient());
  ASSERT_TRUE(doc) << doc.error().message();
  EXPECT_EQ(doc->root().size(), 2u);
  EXPECT_EQ(doc->root().find_int("a"), 1);  // first match
  Status canonical = doc->root().check_canonical();
  ASSERT_FALSE(canonical);
  EXPECT_EQ(canonical.error().code, make_error_code(Errc::bencode_duplicate_key));
  EXPECT_EQ(canonical.error().offset, 7u);
}

TEST(DecoderKeyOrder, CheckCanonicalReportsTheFirstProblemOfEachDict) {
  // Unsorted first, then a duplicate: the first problem wins.
  auto doc = decode("d1:bi1e1:ai2e1:ai3ee", lenient());
  ASSERT_TRUE(doc);
  Status s = doc->root().check_canonical();
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, make_error_code(Errc::bencode_unsorted_keys));
  EXPECT_EQ(s.error().offset, 7u);

  // Duplicate first, then unsorted.
  auto dup = decode("d1:bi1e1:bi2e1:ai3ee", lenient());
  ASSERT_TRUE(dup);
  Status d = dup->root().check_canonical();
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, make_error_code(Errc::bencode_duplicate_key));
  EXPECT_EQ(d.error().offset, 7u);
}

TEST(DecoderKeyOrder, CheckCanonicalOnAncestorsAndSiblings) {
  const std::string input = "d3:badd1:zi1e1:yi2ee4:goodd1:ai1ee4:listli1eee";
  auto doc = decode(input, lenient());
  ASSERT_TRUE(doc) << doc.error().message();
  Node root = doc->root();

  // The offending key "1:y" inside "bad".
  const std::size_t bad_key = input.find("1:y");
  ASSERT_EQ(bad_key, 13u);

  Status from_root = root.check_canonical();
  ASSERT_FALSE(from_root);
  EXPECT_EQ(from_root.error().code, make_error_code(Errc::bencode_unsorted_keys));
  EXPECT_EQ(from_root.error().offset, bad_key);

  auto bad = root.find_dict("bad");
  ASSERT_TRUE(bad);
  Status from_bad = bad->check_canonical();
  ASSERT_FALSE(from_bad);
  EXPECT_EQ(from_bad.error().offset, bad_key);

  // Siblings of the bad dict are canonical, and so are scalars.
  EXPECT_TRUE(root.find_dict("good")->check_canonical());
  EXPECT_TRUE(root.find_list("list")->check_canonical());
  EXPECT_TRUE(bad->find("z")->check_canonical());

  // The strict decoder rejects the same document at the same key.
  EXPECT_TRUE(FailsWith(input, Errc::bencode_unsorted_keys, bad_key));
}

TEST(DecoderKeyOrder, CheckCanonicalIsConsistentWithStrictDecoding) {
  // The outer dict's bad key comes after the inner dict's: strict decoding stops at the inner
  // one, and check_canonical() on the root reports the same (earliest) key.
  //                         0         1         2
  //                         012345678901234567890123456
  const std::string input = "d1:bd1:di1e1:ci2ee1:ai3ee";
  auto strict = decode(input);
  ASSERT_FALSE(strict);
  EXPECT_EQ(strict.error().code, make_error_code(Errc::bencode_unsorted_keys));
  EXPECT_EQ(strict.error().offset, 11u);

  auto doc = decode(input, lenient());
  ASSERT_TRUE(doc) << doc.error().message();
  Status s = doc->root().check_canonical();
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, strict.error().code);
  EXPECT_EQ(s.error().offset, strict.error().offset);

  // The inner dict alone reports its own key; the outer one, reached through its value, too.
  EXPECT_EQ(doc->root().find("b")->check_canonical().error().offset, 11u);

  // Only the outer dict is out of order: its key is reported.
  auto outer_only = decode("d1:bd1:ci1e1:di2ee1:ai3ee", lenient());
  ASSERT_TRUE(outer_only);
  Status o = outer_only->root().check_canonical();
  ASSERT_FALSE(o);
  EXPECT_EQ(o.error().offset, 18u);
  EXPECT_TRUE(outer_only->root().find("b")->check_canonical());
}

TEST(DecoderKeyOrder, LenientModeStillEnforcesEverythingElse) {
  EXPECT_TRUE(FailsWith("di1ei2ee", Errc::bencode_unexpected_byte, 1, lenient()));
  EXPECT_TRUE(FailsWith("d1:bi03e1:ai2ee", Errc::bencode_leading_zero, 5, lenient()));
  EXPECT_TRUE(FailsWith("d1:bi1e1:ai2eeX", Errc::bencode_trailing_data, 14, lenient()));
  auto sorted = decode("d1:ai1e1:bi2ee", lenient());
  ASSERT_TRUE(sorted);
  EXPECT_TRUE(sorted->root().check_canonical());
}

// ---------------------------------------------------------------------------------------------
// Errors and messages

TEST(DecoderErrors, MessageNamesTheByte) {
  auto doc = decode("li1ei03ee");
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.error().offset, 5u);
  EXPECT_TRUE(doc.error().has_offset());
  const std::string message = doc.error().message();
  EXPECT_NE(message.find("at byte 5"), std::string::npos) << message;
  EXPECT_NE(message.find("leading zero"), std::string::npos) << message;
}

TEST(DecoderErrors, EveryErrorHasAnOffsetWithinTheInput) {
  const std::string_view bad[] = {"",
                                  "i",
                                  "ie",
                                  "i-0e",
                                  "i03e",
                                  "03:a",
                                  "5:ab",
                                  "l",
                                  "d",
                                  "di1ei1ee",
                                  "d1:bi1e1:ai1ee",
                                  "d1:ai1e1:ai1ee",
                                  "e",
                                  "lee",
                                  "x",
                                  "d1:ae",
                                  "i99999999999999999999e"};
  for (auto input : bad) {
    auto doc = decode(input);
    ASSERT_FALSE(doc) << printable(input);
    EXPECT_TRUE(doc.error().has_offset()) << printable(input);
    EXPECT_LE(doc.error().offset, input.size()) << printable(input);
    EXPECT_TRUE(doc.error().code.category() == error_category());
    EXPECT_NE(doc.error().message().find("at byte " + std::to_string(doc.error().offset)),
              std::string::npos);
  }
}

// ---------------------------------------------------------------------------------------------
// Truncation at every prefix, with exact-size heap buffers so sanitizers catch over-reads

std::string sample_document() {
  std::string pieces;
  for (int i = 0; i < 40; ++i) pieces.push_back(static_cast<char>(i * 37));
  return "d" + S("announce") + S("http://tracker.example/announce") + S("comment") +
         S(std::string("\x00\xff\x10 binary", 10)) + S("info") + "d" + S("files") + "l" + "d" +
         S("length") + "i12345e" + S("path") + "l" + S("dir") + S("a.bin") + "e" + "e" + "d" +
         S("length") + "i-1e" + S("path") + "l" + S("b") + "e" + "e" + "e" + S("name") + S("x") +
         S("piece length") + "i16384e" + S("pieces") + S(pieces) + "e" + S("list") + "lli0eeldeee" +
         "e";
}

TEST(DecoderTruncation, EveryPrefixFails) {
  const std::string doc = sample_document();
  ASSERT_TRUE(decode(doc)) << decode(doc).error().message();
  for (std::size_t n = 0; n < doc.size(); ++n) {
    std::vector<char> prefix(doc.begin(), doc.begin() + static_cast<std::ptrdiff_t>(n));
    const std::string_view view(prefix.data(), prefix.size());
    for (bool strict : {true, false}) {
      DecodeLimits limits;
      limits.require_sorted_keys = strict;
      auto full = decode(view, limits);
      ASSERT_FALSE(full) << "prefix of " << n << " bytes decoded";
      const auto code = full.error().code;
      EXPECT_TRUE(code == make_error_code(Errc::bencode_truncated) ||
                  code == make_error_code(Errc::bencode_length_overflow))
          << n << ": " << full.error().message();
      EXPECT_LE(full.error().offset, n);
      // decode_prefix cannot succeed either: the root value ends at the very last byte.
      auto prefix_doc = decode_prefix(view, limits);
      ASSERT_FALSE(prefix_doc) << n;
      EXPECT_EQ(prefix_doc.error().code, code);
      EXPECT_EQ(prefix_doc.error().offset, full.error().offset);
    }
  }
}

TEST(DecoderTruncation, EverySingleByteCorruptionIsHandled) {
  const std::string doc = sample_document();
  const char replacements[] = {'e', 'i', 'l', 'd', '0', '9', ':', '-', 'x', '\0'};
  for (std::size_t i = 0; i < doc.size(); ++i) {
    for (char r : replacements) {
      std::vector<char> mutated(doc.begin(), doc.end());
      mutated[i] = r;
      const std::string_view view(mutated.data(), mutated.size());
      auto result = decode(view);
      if (!result) {
        EXPECT_LE(result.error().offset, view.size());
      } else {
        EXPECT_EQ(result->consumed(), view.size());
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// raw(): the info dict of a torrent

TEST(DecoderRaw, InfoDictRawBytesAreExact) {
  std::string pieces;
  for (int i = 0; i < 20; ++i) pieces.push_back(static_cast<char>(0xf0 + i % 16));
  const std::string info = "d" + S("length") + "i5e" + S("name") + S("a.txt") + S("piece length") +
                           "i16384e" + S("pieces") + S(pieces) + "e";
  const std::string torrent = "d" + S("announce") + S("http://tracker.example:6969/announce") +
                              S("creation date") + "i1700000000e" + S("info") + info + "e";
  auto doc = decode(torrent);
  ASSERT_TRUE(doc) << doc.error().message();
  auto node = doc->root().find_dict("info");
  ASSERT_TRUE(node);
  EXPECT_EQ(node->raw(), info);
  EXPECT_EQ(node->offset(), torrent.find("4:info") + 6);
  EXPECT_EQ(node->raw().data(), torrent.data() + node->offset());
  EXPECT_EQ(sha1(node->raw()), sha1(info));
  EXPECT_EQ(node->find_string("pieces"), pieces);
  EXPECT_EQ(node->find_int("piece length"), 16384);
  EXPECT_EQ(node->find_int("length"), 5);
  EXPECT_EQ(doc->root().find_int("creation date"), 1700000000);

  // Each value's raw() is a sub-range of its parent's raw().
  for (const auto& [key, value] : node->entries()) {
    EXPECT_GE(value.raw().data(), node->raw().data()) << key;
    EXPECT_LE(value.raw().data() + value.raw().size(), node->raw().data() + node->raw().size());
    EXPECT_EQ(value.raw().data(), torrent.data() + value.offset());
  }
}

TEST(DecoderRaw, StringRawIncludesTheHeader) {
  auto doc = decode("l10:0123456789e");
  ASSERT_TRUE(doc);
  Node s = doc->root().at(0);
  EXPECT_EQ(s.raw(), "10:0123456789");
  EXPECT_EQ(s.as_string(), "0123456789");
  EXPECT_EQ(s.offset(), 1u);
}

// ---------------------------------------------------------------------------------------------
// Document lifetime

TEST(DecoderDocument, NodesSurviveMovingTheDocument) {
  const std::string input = "d1:ali1ei2ee1:b3:xyze";
  auto doc = decode(input);
  ASSERT_TRUE(doc);
  Node list = *doc->root().find_list("a");
  Document moved = std::move(doc).value();
  EXPECT_EQ(list.at(1).as_int(), 2);
  EXPECT_EQ(moved.root().find_string("b"), "xyz");
  EXPECT_EQ(moved.consumed(), input.size());
  Document copy = moved;
  EXPECT_EQ(copy.root().find_list("a")->at(0).as_int(), 1);
  EXPECT_EQ(copy.root().raw().data(), input.data());
}

// ---------------------------------------------------------------------------------------------
// Round trips with the encoder over random trees

Value random_value(std::mt19937& rng, int depth) {
  std::uniform_int_distribution<int> kind(0, depth > 0 ? 3 : 1);
  switch (kind(rng)) {
    case 0: {
      std::uniform_int_distribution<int> which(0, 5);
      switch (which(rng)) {
        case 0:
          return std::numeric_limits<std::int64_t>::min();
        case 1:
          return std::numeric_limits<std::int64_t>::max();
        case 2:
          return 0;
        default: {
          std::uniform_int_distribution<std::int64_t> any(-1'000'000'000'000, 1'000'000'000'000);
          return any(rng);
        }
      }
    }
    case 1: {
      std::uniform_int_distribution<int> len(0, 24);
      std::uniform_int_distribution<int> byte(0, 255);
      std::string s;
      const int n = len(rng);
      for (int i = 0; i < n; ++i) s.push_back(static_cast<char>(byte(rng)));
      return s;
    }
    case 2: {
      std::uniform_int_distribution<int> len(0, 5);
      List l;
      const int n = len(rng);
      for (int i = 0; i < n; ++i) l.push_back(random_value(rng, depth - 1));
      return l;
    }
    default: {
      std::uniform_int_distribution<int> len(0, 5);
      std::uniform_int_distribution<int> key_len(0, 3);
      std::uniform_int_distribution<int> byte(0, 255);
      Dict d;
      const int n = len(rng);
      for (int i = 0; i < n; ++i) {
        std::string key;
        const int k = key_len(rng);
        for (int j = 0; j < k; ++j)
          key.push_back(static_cast<char>(byte(rng) % 2 ? 'a' + j : byte(rng)));
        d[key] = random_value(rng, depth - 1);
      }
      return d;
    }
  }
}

::testing::AssertionResult Same(const Node& n, const Value& v) {
  if (v.is_int()) {
    if (!n.is_int() || n.as_int() != v.as_int()) return ::testing::AssertionFailure() << "int";
  } else if (v.is_string()) {
    if (!n.is_string() || n.as_string() != v.as_string())
      return ::testing::AssertionFailure() << "string";
  } else if (v.is_list()) {
    if (!n.is_list() || n.size() != v.as_list().size())
      return ::testing::AssertionFailure() << "list";
    auto items = n.elements();
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (auto r = Same(items[i], v.as_list()[i]); !r) return r;
    }
  } else {
    if (!n.is_dict() || n.size() != v.as_dict().size())
      return ::testing::AssertionFailure() << "dict";
    auto entries = n.entries();
    std::size_t i = 0;
    for (const auto& [key, value] : v.as_dict()) {
      if (entries[i].first != key) return ::testing::AssertionFailure() << "key";
      if (auto found = n.find(key); !found || found->offset() != entries[i].second.offset())
        return ::testing::AssertionFailure() << "find";
      if (auto r = Same(entries[i].second, value); !r) return r;
      ++i;
    }
  }
  return ::testing::AssertionSuccess();
}

void reencode(const Node& n, Encoder& e) {
  switch (n.type()) {
    case Type::integer:
      e.integer(n.as_int());
      break;
    case Type::string:
      e.string(n.as_string());
      break;
    case Type::list:
      e.begin_list();
      for (const Node& item : n.elements()) reencode(item, e);
      e.end();
      break;
    case Type::dict:
      e.begin_dict();
      for (const auto& [key, value] : n.entries()) {
        e.string(key);
        reencode(value, e);
      }
      e.end();
      break;
  }
}

TEST(DecoderRoundTrip, RandomTreesDecodeToWhatWasEncoded) {
  std::mt19937 rng(20240601);
  for (int iteration = 0; iteration < 500; ++iteration) {
    const Value value = random_value(rng, 4);
    const std::string encoded = encode(value);
    auto doc = decode(encoded);
    ASSERT_TRUE(doc) << doc.error().message() << " in " << printable(encoded);
    EXPECT_TRUE(Same(doc->root(), value)) << printable(encoded);
    EXPECT_TRUE(doc->root().check_canonical());
    std::string again;
    Encoder e(again);
    reencode(doc->root(), e);
    EXPECT_EQ(again, encoded);
  }
}

}  // namespace
}  // namespace starling::bencode
