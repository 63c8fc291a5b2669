#include "bencode/decoder.hpp"

#include <algorithm>
#include <limits>
#include <string>

namespace starling::bencode {
namespace {

using detail::Token;

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

struct Frame {
  std::uint32_t token;
  bool is_dict;
  bool want_key;              // dicts: the next value is a key
  std::string_view last_key;  // dicts: the previous key, for the order check
  bool has_last_key;
};

class Parser {
 public:
  Parser(std::string_view input, const DecodeLimits& limits, std::vector<Token>& tokens)
      : in_(input), limits_(limits), tokens_(tokens) {}

  Status run() {
    if (in_.size() >= std::numeric_limits<std::uint32_t>::max()) {
      return Error(Errc::bencode_length_overflow, "input larger than 4 GiB", 0);
    }
    for (;;) {
      if (pos_ >= in_.size()) {
        return Error(Errc::bencode_truncated,
                     stack_.empty() ? "expected a value" : "unterminated list or dictionary", pos_);
      }
      const char c = in_[pos_];
      if (!stack_.empty() && c == 'e') {
        if (auto s = close_container(); !s) return s;
        if (stack_.empty()) return ok();
        continue;
      }
      const bool as_key = !stack_.empty() && stack_.back().is_dict && stack_.back().want_key;
      if (as_key && !is_digit(c)) {
        return Error(Errc::bencode_unexpected_byte, "dictionary key must be a string", pos_);
      }
      if (tokens_.size() >= limits_.max_elements) {
        return Error(Errc::bencode_too_many_elements,
                     "more than " + std::to_string(limits_.max_elements) + " values", pos_);
      }
      if (c == 'l' || c == 'd') {
        if (limits_.max_depth <= 0 ||
            stack_.size() >= static_cast<std::size_t>(limits_.max_depth)) {
          return Error(Errc::bencode_too_deep,
                       "more than " + std::to_string(std::max(limits_.max_depth, 0)) + " levels",
                       pos_);
        }
        const auto index = static_cast<std::uint32_t>(tokens_.size());
        tokens_.push_back(Token{c == 'l' ? Type::list : Type::dict, pos32(), 0, 0, 0, 0});
        stack_.push_back(Frame{index, c == 'd', true, {}, false});
        ++pos_;
        continue;
      }
      Status scalar = c == 'i' ? parse_integer() : is_digit(c) ? parse_string() : unexpected(c);
      if (!scalar) return scalar;
      if (as_key) {
        if (auto s = check_key_order(); !s) return s;
      }
      complete_element();
      if (stack_.empty()) return ok();
    }
  }

  std::size_t position() const { return pos_; }

 private:
  std::uint32_t pos32() const { return static_cast<std::uint32_t>(pos_); }

  Status unexpected(char c) const {
    std::string what = "byte 0x" + std::string(1, "0123456789abcdef"[(c >> 4) & 0xf]) +
                       std::string(1, "0123456789abcdef"[c & 0xf]) + " cannot start a value";
    return Error(Errc::bencode_unexpected_byte, what, pos_);
  }

  Status parse_integer() {
    const std::size_t start = pos_;
    std::size_t p = pos_ + 1;
    const bool negative = p < in_.size() && in_[p] == '-';
    if (negative) ++p;
    const std::size_t digits = p;
    std::uint64_t magnitude = 0;
    const std::uint64_t max_magnitude =
        negative ? std::uint64_t{1} << 63 : (std::uint64_t{1} << 63) - 1;
    while (p < in_.size() && is_digit(in_[p])) {
      const auto d = static_cast<std::uint64_t>(in_[p] - '0');
      if (magnitude > (max_magnitude - d) / 10) {
        return Error(Errc::bencode_integer_overflow, "integer does not fit in 64 bits", start);
      }
      magnitude = magnitude * 10 + d;
      ++p;
    }
    if (p >= in_.size()) return Error(Errc::bencode_truncated, "unterminated integer", start);
    if (p == digits) return Error(Errc::bencode_unexpected_byte, "integer without digits", p);
    if (in_[p] != 'e') return Error(Errc::bencode_unexpected_byte, "integer not ended by 'e'", p);
    if (p - digits > 1 && in_[digits] == '0') {
      return Error(Errc::bencode_leading_zero, "integer", digits);
    }
    if (negative && in_[digits] == '0') return Error(Errc::bencode_negative_zero, "i-0e", start);
    const std::int64_t value =
        negative ? static_cast<std::int64_t>(0 - magnitude) : static_cast<std::int64_t>(magnitude);
    const auto index = static_cast<std::uint32_t>(tokens_.size());
    tokens_.push_back(Token{Type::integer, static_cast<std::uint32_t>(start),
                            static_cast<std::uint32_t>(p + 1), index + 1, 0, value});
    pos_ = p + 1;
    return ok();
  }

  Status parse_string() {
    const std::size_t start = pos_;
    std::size_t p = pos_;
    std::uint64_t length = 0;
    while (p < in_.size() && is_digit(in_[p])) {
      length = length * 10 + static_cast<std::uint64_t>(in_[p] - '0');
      if (length > in_.size()) {
        return Error(Errc::bencode_length_overflow, "string length larger than the input", start);
      }
      ++p;
    }
    if (p >= in_.size()) return Error(Errc::bencode_truncated, "unterminated string length", start);
    if (in_[p] != ':') {
      return Error(Errc::bencode_unexpected_byte, "string length not followed by ':'", p);
    }
    if (p - start > 1 && in_[start] == '0') {
      return Error(Errc::bencode_leading_zero, "string length", start);
    }
    const std::size_t payload = p + 1;
    if (length > in_.size() - payload) {
      return Error(Errc::bencode_length_overflow,
                   "string of " + std::to_string(length) + " bytes but only " +
                       std::to_string(in_.size() - payload) + " left",
                   start);
    }
    const auto index = static_cast<std::uint32_t>(tokens_.size());
    tokens_.push_back(Token{Type::string, static_cast<std::uint32_t>(start),
                            static_cast<std::uint32_t>(payload + length), index + 1, 0,
                            static_cast<std::int64_t>(payload - start)});
    pos_ = payload + length;
    return ok();
  }

  Status check_key_order() {
    Frame& frame = stack_.back();
    const Token& key_token = tokens_.back();
    const std::string_view key = in_.substr(key_token.begin + key_token.aux,
                                            key_token.end - key_token.begin - key_token.aux);
    if (frame.has_last_key && key <= frame.last_key) {
      const bool duplicate = key == frame.last_key;
      if (limits_.require_sorted_keys) {
        return Error(duplicate ? Errc::bencode_duplicate_key : Errc::bencode_unsorted_keys,
                     "key '" + std::string(key.substr(0, 64)) + "'", key_token.begin);
      }
      Token& dict = tokens_[frame.token];
      if (dict.aux == 0) {
        dict.aux = duplicate ? -static_cast<std::int64_t>(key_token.begin) : key_token.begin;
      }
    }
    frame.last_key = key;
    frame.has_last_key = true;
    return ok();
  }

  Status close_container() {
    Frame& frame = stack_.back();
    if (frame.is_dict && !frame.want_key) {
      return Error(Errc::bencode_unexpected_byte, "dictionary key without a value", pos_);
    }
    Token& t = tokens_[frame.token];
    t.end = pos32() + 1;
    t.next = static_cast<std::uint32_t>(tokens_.size());
    stack_.pop_back();
    ++pos_;
    complete_element();
    return ok();
  }

  // A value just ended: advance the enclosing container's state.
  void complete_element() {
    if (stack_.empty()) return;
    Frame& parent = stack_.back();
    if (parent.is_dict) {
      if (!parent.want_key) ++tokens_[parent.token].count;
      parent.want_key = !parent.want_key;
    } else {
      ++tokens_[parent.token].count;
    }
  }

  std::string_view in_;
  const DecodeLimits& limits_;
  std::vector<Token>& tokens_;
  std::vector<Frame> stack_;
  std::size_t pos_ = 0;
};

}  // namespace

std::int64_t Node::as_int() const {
  return token().aux;
}

std::string_view Node::as_string() const {
  const auto& t = token();
  return bytes(t.begin + static_cast<std::size_t>(t.aux), t.end);
}

std::string_view Node::raw() const {
  const auto& t = token();
  return bytes(t.begin, t.end);
}

Node Node::at(std::size_t i) const {
  Node child = first_child();
  while (i-- > 0) child = child.next_sibling();
  return child;
}

std::vector<Node> Node::elements() const {
  std::vector<Node> out;
  out.reserve(size());
  Node child = first_child();
  for (std::size_t i = 0; i < size(); ++i, child = child.next_sibling()) out.push_back(child);
  return out;
}

std::vector<std::pair<std::string_view, Node>> Node::entries() const {
  std::vector<std::pair<std::string_view, Node>> out;
  out.reserve(size());
  Node key = first_child();
  for (std::size_t i = 0; i < size(); ++i) {
    Node value = key.next_sibling();
    out.emplace_back(key.as_string(), value);
    key = value.next_sibling();
  }
  return out;
}

std::optional<Node> Node::find(std::string_view wanted) const {
  if (!is_dict()) return std::nullopt;
  Node key = first_child();
  for (std::size_t i = 0; i < size(); ++i) {
    Node value = key.next_sibling();
    if (key.as_string() == wanted) return value;
    key = value.next_sibling();
  }
  return std::nullopt;
}

std::optional<std::int64_t> Node::find_int(std::string_view key) const {
  auto n = find(key);
  if (!n || !n->is_int()) return std::nullopt;
  return n->as_int();
}

std::optional<std::string_view> Node::find_string(std::string_view key) const {
  auto n = find(key);
  if (!n || !n->is_string()) return std::nullopt;
  return n->as_string();
}

std::optional<Node> Node::find_list(std::string_view key) const {
  auto n = find(key);
  if (!n || !n->is_list()) return std::nullopt;
  return n;
}

std::optional<Node> Node::find_dict(std::string_view key) const {
  auto n = find(key);
  if (!n || !n->is_dict()) return std::nullopt;
  return n;
}

Status Node::check_canonical() const {
  // Report the earliest offending key in the subtree (the one a strict decode stops at), not
  // the first dict in pre-order: an outer dict's bad key may come after an inner dict's.
  const detail::Token* worst = nullptr;
  std::size_t worst_at = 0;
  for (std::uint32_t i = index_; i < token().next; ++i) {
    const auto& t = tokens_[i];
    if (t.type != Type::dict || t.aux == 0) continue;
    const auto at = static_cast<std::size_t>(t.aux < 0 ? -t.aux : t.aux);
    if (worst == nullptr || at < worst_at) {
      worst = &t;
      worst_at = at;
    }
  }
  if (worst == nullptr) return ok();
  return Error(worst->aux < 0 ? Errc::bencode_duplicate_key : Errc::bencode_unsorted_keys,
               "dictionary at byte " + std::to_string(worst->begin), worst_at);
}

Expected<Document> decode_prefix(std::string_view input, const DecodeLimits& limits) {
  Document doc;
  doc.input_ = input;
  doc.tokens_.reserve(std::min<std::size_t>(input.size() / 4 + 1, 1024));
  Parser parser(input, limits, doc.tokens_);
  if (auto status = parser.run(); !status) return status.error();
  return doc;
}

Expected<Document> decode(std::string_view input, const DecodeLimits& limits) {
  auto doc = decode_prefix(input, limits);
  if (doc && doc->consumed() != input.size()) {
    return Error(Errc::bencode_trailing_data,
                 std::to_string(input.size() - doc->consumed()) + " bytes after the value",
                 doc->consumed());
  }
  return doc;
}

}  // namespace starling::bencode
