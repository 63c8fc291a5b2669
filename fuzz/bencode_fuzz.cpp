// Fuzzes the bencode decoder under three configurations (strict, lenient key order, prefix) and
// checks that they agree with each other, that every node's views stay inside the input, and
// that a successful decode re-encodes to exactly the input bytes.
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "bencode/decoder.hpp"
#include "bencode/encoder.hpp"

namespace {

using starling::Errc;
using starling::Error;
using starling::make_error_code;
using namespace starling::bencode;

#define FUZZ_CHECK(cond)                                                                   \
  do {                                                                                     \
    if (!(cond)) {                                                                         \
      std::fprintf(stderr, "bencode_fuzz: check failed: %s (line %d)\n", #cond, __LINE__); \
      std::abort();                                                                        \
    }                                                                                      \
  } while (0)

bool inside(std::string_view part, std::string_view whole) {
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

std::int64_t parse_int(std::string_view digits) {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  FUZZ_CHECK(ec == std::errc() && end == digits.data() + digits.size());
  return v;
}

// Checks the node's invariants and writes it back out through the Encoder.
void walk(const Node& n, std::string_view input, bool sorted, Encoder& out) {
  const std::string_view raw = n.raw();
  FUZZ_CHECK(raw.size() >= 2);
  FUZZ_CHECK(inside(raw, input));
  FUZZ_CHECK(raw.data() == input.data() + n.offset());
  switch (n.type()) {
    case Type::integer: {
      FUZZ_CHECK(n.is_int() && !n.is_string() && !n.is_list() && !n.is_dict());
      FUZZ_CHECK(raw.front() == 'i' && raw.back() == 'e');
      FUZZ_CHECK(parse_int(raw.substr(1, raw.size() - 2)) == n.as_int());
      out.integer(n.as_int());
      break;
    }
    case Type::string: {
      FUZZ_CHECK(n.is_string() && n.size() == 0);
      const std::string_view s = n.as_string();
      FUZZ_CHECK(inside(s, raw));
      FUZZ_CHECK(s.data() + s.size() == raw.data() + raw.size());
      const std::string_view header = raw.substr(0, raw.size() - s.size());
      FUZZ_CHECK(header.size() >= 2 && header.back() == ':');
      FUZZ_CHECK(parse_int(header.substr(0, header.size() - 1)) ==
                 static_cast<std::int64_t>(s.size()));
      out.string(s);
      break;
    }
    case Type::list: {
      FUZZ_CHECK(n.is_list());
      FUZZ_CHECK(raw.front() == 'l' && raw.back() == 'e');
      const auto items = n.elements();
      FUZZ_CHECK(items.size() == n.size());
      FUZZ_CHECK(!n.find(""));
      const char* cursor = raw.data() + 1;
      out.begin_list();
      for (std::size_t i = 0; i < items.size(); ++i) {
        FUZZ_CHECK(items[i].raw().data() == cursor);  // children are contiguous, in order
        cursor += items[i].raw().size();
        if (i < 4 || i + 1 == items.size()) FUZZ_CHECK(n.at(i).offset() == items[i].offset());
        walk(items[i], input, sorted, out);
      }
      FUZZ_CHECK(cursor == raw.data() + raw.size() - 1);
      out.end();
      break;
    }
    case Type::dict: {
      FUZZ_CHECK(n.is_dict());
      FUZZ_CHECK(raw.front() == 'd' && raw.back() == 'e');
      const auto entries = n.entries();
      FUZZ_CHECK(entries.size() == n.size());
      const char* cursor = raw.data() + 1;
      std::string_view previous;
      out.begin_dict();
      for (std::size_t i = 0; i < entries.size(); ++i) {
        const auto& [key, value] = entries[i];
        FUZZ_CHECK(inside(key, raw) && key.data() > cursor);
        FUZZ_CHECK(key.data() + key.size() == value.raw().data());
        cursor = value.raw().data() + value.raw().size();
        if (sorted && i > 0) FUZZ_CHECK(previous < key);
        previous = key;
        // find() returns the first entry with that key: this one when keys are sorted.
        const auto found = n.find(key);
        FUZZ_CHECK(found && found->offset() <= value.offset());
        if (sorted) FUZZ_CHECK(found->offset() == value.offset());
        FUZZ_CHECK(n.find_int(key).has_value() == found->is_int());
        FUZZ_CHECK(n.find_string(key).has_value() == found->is_string());
        FUZZ_CHECK(n.find_list(key).has_value() == found->is_list());
        FUZZ_CHECK(n.find_dict(key).has_value() == found->is_dict());
        out.string(key);
        walk(value, input, sorted, out);
      }
      FUZZ_CHECK(cursor == raw.data() + raw.size() - 1);
      out.end();
      break;
    }
  }
}

void check_error(const Error& e, std::string_view input) {
  FUZZ_CHECK(e.code.category() == starling::error_category());
  FUZZ_CHECK(e.has_offset() && e.offset <= input.size());
  FUZZ_CHECK(e.message().find("at byte " + std::to_string(e.offset)) != std::string::npos);
}

bool same_error(const Error& a, const Error& b) {
  return a.code == b.code && a.offset == b.offset;
}

bool is_key_order_error(const Error& e) {
  return e.code == make_error_code(Errc::bencode_unsorted_keys) ||
         e.code == make_error_code(Errc::bencode_duplicate_key);
}

std::string reencode(const Document& doc, bool sorted) {
  std::string out;
  Encoder e(out);
  walk(doc.root(), doc.input(), sorted, e);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  DecodeLimits lenient_limits;
  lenient_limits.require_sorted_keys = false;
  DecodeLimits small_limits;
  small_limits.max_depth = 3;
  small_limits.max_elements = 16;

  const auto strict = decode(input);
  const auto lenient = decode(input, lenient_limits);
  const auto prefix = decode_prefix(input);
  const auto small = decode(input, small_limits);

  if (strict) {
    // Canonical input: walking the nodes through the Encoder gives back the very same bytes.
    FUZZ_CHECK(strict->consumed() == size);
    FUZZ_CHECK(strict->root().raw() == input);
    FUZZ_CHECK(strict->root().check_canonical());
    FUZZ_CHECK(reencode(*strict, true) == input);
    FUZZ_CHECK(lenient && lenient->consumed() == size);
    FUZZ_CHECK(prefix && prefix->consumed() == size);
  } else {
    check_error(strict.error(), input);
  }

  if (lenient) {
    // Keys are written back in input order, so even unsorted dicts re-encode exactly.
    FUZZ_CHECK(lenient->consumed() == size);
    FUZZ_CHECK(reencode(*lenient, false) == input);
    const auto canonical = lenient->root().check_canonical();
    if (strict) {
      FUZZ_CHECK(canonical);
    } else {
      // The only thing the strict decoder may object to is key order, at the same key.
      FUZZ_CHECK(!canonical);
      FUZZ_CHECK(is_key_order_error(canonical.error()));
      FUZZ_CHECK(same_error(canonical.error(), strict.error()));
    }
  } else {
    check_error(lenient.error(), input);
    FUZZ_CHECK(!strict);
    // Strict decoding fails at the same place, or earlier on a key-order problem.
    FUZZ_CHECK(
        same_error(strict.error(), lenient.error()) ||
        (is_key_order_error(strict.error()) && strict.error().offset < lenient.error().offset));
  }

  if (prefix) {
    FUZZ_CHECK(prefix->consumed() >= 2 && prefix->consumed() <= size);
    FUZZ_CHECK(reencode(*prefix, true) == input.substr(0, prefix->consumed()));
    if (prefix->consumed() < size) {
      FUZZ_CHECK(!strict);
      FUZZ_CHECK(strict.error().code == make_error_code(Errc::bencode_trailing_data));
      FUZZ_CHECK(strict.error().offset == prefix->consumed());
    }
  } else {
    check_error(prefix.error(), input);
    FUZZ_CHECK(!strict && same_error(prefix.error(), strict.error()));
  }

  if (small) {
    // Tighter limits only ever reject more.
    FUZZ_CHECK(strict && small->consumed() == size);
  } else {
    check_error(small.error(), input);
    if (strict) {
      FUZZ_CHECK(small.error().code == make_error_code(Errc::bencode_too_deep) ||
                 small.error().code == make_error_code(Errc::bencode_too_many_elements));
    }
  }
  return 0;
}
