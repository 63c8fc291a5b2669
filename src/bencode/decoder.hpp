// Zero-copy bencode decoder (BEP 3). The result is a flat array of tokens whose strings are views
// into the input, so the input must outlive the Document. Limits bound the work a hostile input
// can cause; every error carries the byte offset where decoding stopped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "core/expected.hpp"

namespace starling::bencode {

enum class Type : std::uint8_t { integer, string, list, dict };

struct DecodeLimits {
  int max_depth = 100;                   // lists/dicts nested deeper fail
  std::size_t max_elements = 8'000'000;  // total values in the document
  bool require_sorted_keys = true;       // false: record key disorder instead of failing
};

namespace detail {
struct Token {
  Type type;
  std::uint32_t begin;  // offset of the element's first byte
  std::uint32_t end;    // one past its last byte
  std::uint32_t next;   // index of the token after this element's subtree
  std::uint32_t count;  // list: elements, dict: key/value pairs
  // integer: its value; string: header length ("12:"); dict: offset of the first key that is
  // not strictly greater than the previous one (0 when keys are in order).
  std::int64_t aux;
};
}  // namespace detail

class Document;

// A read-only view of one value inside a Document. Cheap to copy.
class Node {
 public:
  Type type() const { return token().type; }
  bool is_int() const { return type() == Type::integer; }
  bool is_string() const { return type() == Type::string; }
  bool is_list() const { return type() == Type::list; }
  bool is_dict() const { return type() == Type::dict; }

  std::int64_t as_int() const;                        // precondition: is_int()
  std::string_view as_string() const;                 // precondition: is_string()
  std::size_t size() const { return token().count; }  // list elements or dict pairs

  // The element's exact bytes in the input (for the info-hash) and where it starts.
  std::string_view raw() const;
  std::size_t offset() const { return token().begin; }

  // Lists: the i-th element (O(i)); use elements() to walk a whole list.
  Node at(std::size_t i) const;
  std::vector<Node> elements() const;
  // Dicts: pairs in input order, and lookup by key (first match).
  std::vector<std::pair<std::string_view, Node>> entries() const;
  std::optional<Node> find(std::string_view key) const;
  std::optional<std::int64_t> find_int(std::string_view key) const;
  std::optional<std::string_view> find_string(std::string_view key) const;
  std::optional<Node> find_list(std::string_view key) const;
  std::optional<Node> find_dict(std::string_view key) const;

  // Ok when every dict in this subtree has strictly sorted keys; otherwise the offset of the
  // earliest offending key (the one a strict decode stops at) and whether it is a duplicate.
  Status check_canonical() const;

 private:
  friend class Document;
  // Pointers into the Document's token array and input: stable when the Document is moved.
  Node(const detail::Token* tokens, const char* input, std::uint32_t index)
      : tokens_(tokens), input_(input), index_(index) {}
  const detail::Token& token() const { return tokens_[index_]; }
  Node first_child() const { return Node(tokens_, input_, index_ + 1); }
  Node next_sibling() const { return Node(tokens_, input_, token().next); }
  std::string_view bytes(std::size_t begin, std::size_t end) const {
    return {input_ + begin, end - begin};
  }

  const detail::Token* tokens_;
  const char* input_;
  std::uint32_t index_;
};

class Document {
 public:
  Node root() const { return Node(tokens_.data(), input_.data(), 0); }
  std::string_view input() const { return input_; }
  std::size_t consumed() const { return tokens_.front().end; }  // bytes of the root value

 private:
  friend Expected<Document> decode_prefix(std::string_view, const DecodeLimits&);
  std::string_view input_;
  std::vector<detail::Token> tokens_;
};

// Decodes exactly one value that spans the whole input.
Expected<Document> decode(std::string_view input, const DecodeLimits& limits = {});
// Decodes one value at the start of the input; bytes after it are left alone (see consumed()).
Expected<Document> decode_prefix(std::string_view input, const DecodeLimits& limits = {});

}  // namespace starling::bencode
