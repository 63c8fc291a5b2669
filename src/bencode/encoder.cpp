#include "bencode/encoder.hpp"

#include <charconv>

namespace starling::bencode {

void Encoder::integer(std::int64_t value) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out_.push_back('i');
  out_.append(buf, end);
  out_.push_back('e');
}

void Encoder::string(std::string_view bytes) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, bytes.size());
  out_.append(buf, end);
  out_.push_back(':');
  out_.append(bytes);
}

void Value::encode_to(Encoder& e) const {
  std::visit(
      [&e](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::int64_t>) {
          e.integer(v);
        } else if constexpr (std::is_same_v<T, std::string>) {
          e.string(v);
        } else if constexpr (std::is_same_v<T, List>) {
          e.begin_list();
          for (const auto& item : v) item.encode_to(e);
          e.end();
        } else {
          e.begin_dict();  // std::map keeps keys in bytewise order: canonical output
          for (const auto& [key, item] : v) {
            e.string(key);
            item.encode_to(e);
          }
          e.end();
        }
      },
      v_);
}

std::string encode(const Value& value) {
  std::string out;
  Encoder e(out);
  value.encode_to(e);
  return out;
}

}  // namespace starling::bencode
