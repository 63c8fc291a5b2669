// Bencode output: a streaming Encoder for hot paths, and an owned Value tree whose dicts are
// always written with sorted keys (canonical form) for building .torrent files and replies.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace starling::bencode {

// Appends to a string. The caller writes dict keys in sorted order.
class Encoder {
 public:
  explicit Encoder(std::string& out) : out_(out) {}
  void integer(std::int64_t value);
  void string(std::string_view bytes);
  void begin_list() { out_.push_back('l'); }
  void begin_dict() { out_.push_back('d'); }
  void end() { out_.push_back('e'); }
  void raw(std::string_view encoded) { out_.append(encoded); }  // already-bencoded bytes

 private:
  std::string& out_;
};

class Value;
using List = std::vector<Value>;
using Dict = std::map<std::string, Value, std::less<>>;

class Value {
 public:
  Value() : v_(std::int64_t{0}) {}
  Value(std::int64_t i) : v_(i) {}                   // NOLINT: implicit by design, like a literal
  Value(int i) : v_(std::int64_t{i}) {}              // NOLINT
  Value(std::string s) : v_(std::move(s)) {}         // NOLINT
  Value(std::string_view s) : v_(std::string(s)) {}  // NOLINT
  Value(const char* s) : v_(std::string(s)) {}       // NOLINT
  Value(List l) : v_(std::move(l)) {}                // NOLINT
  Value(Dict d) : v_(std::move(d)) {}                // NOLINT

  bool is_int() const { return std::holds_alternative<std::int64_t>(v_); }
  bool is_string() const { return std::holds_alternative<std::string>(v_); }
  bool is_list() const { return std::holds_alternative<List>(v_); }
  bool is_dict() const { return std::holds_alternative<Dict>(v_); }
  std::int64_t as_int() const { return std::get<std::int64_t>(v_); }
  const std::string& as_string() const { return std::get<std::string>(v_); }
  const List& as_list() const { return std::get<List>(v_); }
  List& as_list() { return std::get<List>(v_); }
  const Dict& as_dict() const { return std::get<Dict>(v_); }
  Dict& as_dict() { return std::get<Dict>(v_); }

  void encode_to(Encoder& e) const;

 private:
  std::variant<std::int64_t, std::string, List, Dict> v_;
};

std::string encode(const Value& value);

}  // namespace starling::bencode
