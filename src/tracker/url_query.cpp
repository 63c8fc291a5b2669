#include "tracker/url_query.hpp"

namespace starling::tracker {
namespace {

constexpr char kHex[] = "0123456789ABCDEF";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

}  // namespace

void append_percent_encoded(std::string& out, std::string_view raw) {
  for (unsigned char c : raw) {
    if (unreserved(c)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
}

std::ptrdiff_t percent_decode(std::string_view text, std::span<std::uint8_t> out) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (n == out.size()) return -2;
    if (text[i] != '%') {
      out[n++] = static_cast<std::uint8_t>(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) return -1;
    const int hi = hex_value(text[i + 1]);
    const int lo = hex_value(text[i + 2]);
    if (hi < 0 || lo < 0) return -1;
    out[n++] = static_cast<std::uint8_t>((hi << 4) | lo);
    i += 2;
  }
  return static_cast<std::ptrdiff_t>(n);
}

}  // namespace starling::tracker
