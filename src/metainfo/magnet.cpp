#include "metainfo/magnet.hpp"

#include <cstddef>
#include <optional>
#include <unordered_set>

#include "core/encoding.hpp"

namespace starling {
namespace {

constexpr std::string_view kScheme = "magnet:";
constexpr std::string_view kBtih = "urn:btih:";
constexpr std::string_view kBtmh = "urn:btmh:";
constexpr std::size_t kMaxShown = 48;  // longest piece of user input quoted in an error

char to_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (to_lower(a[i]) != to_lower(b[i])) return false;
  }
  return true;
}

bool istarts_with(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && iequals(text.substr(0, prefix.size()), prefix);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = to_lower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

bool is_base32(char c) {
  c = to_lower(c);
  return (c >= 'a' && c <= 'z') || (c >= '2' && c <= '7');
}

// Untrusted text made safe to print: control and non-ASCII bytes as \xNN, long text cut short.
std::string shown(std::string_view text) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (std::size_t i = 0; i < text.size() && i < kMaxShown; ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      out += "\\x";
      out.push_back(kDigits[c >> 4]);
      out.push_back(kDigits[c & 0xf]);
    }
  }
  if (text.size() > kMaxShown) out += "...";
  return out;
}

// One key=value pair of the query, as written in the URI.
struct Param {
  std::string_view key;
  std::string_view value;
  std::size_t offset;  // of the key in the URI

  Error error(const std::string& what) const {
    return Error(Errc::magnet_bad_uri, shown(key) + ": " + what, offset);
  }
};

// "xt" matches "xt", "XT" and numbered forms such as "xt.1".
bool key_is(std::string_view key, std::string_view name) {
  if (!istarts_with(key, name)) return false;
  std::string_view rest = key.substr(name.size());
  if (rest.empty()) return true;
  if (rest.size() < 2 || rest[0] != '.') return false;
  for (char c : rest.substr(1)) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

Expected<std::string> percent_decode(const Param& p, bool plus_is_space) {
  std::string out;
  out.reserve(p.value.size());
  for (std::size_t i = 0; i < p.value.size(); ++i) {
    char c = p.value[i];
    if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else if (c != '%') {
      out.push_back(c);
    } else if (p.value.size() - i < 3) {
      return p.error("truncated percent-escape '" + shown(p.value.substr(i)) + "'");
    } else {
      int hi = hex_value(p.value[i + 1]);
      int lo = hex_value(p.value[i + 2]);
      if (hi < 0 || lo < 0) {
        return p.error("bad percent-escape '" + shown(p.value.substr(i, 3)) + "'");
      }
      out.push_back(static_cast<char>((hi << 4) | lo));
      i += 2;
    }
  }
  return out;
}

// `text` is what follows "urn:btih:" in the decoded value.
Expected<Sha1Digest> parse_info_hash(const Param& p, std::string_view text) {
  std::optional<Sha1Digest> digest;
  if (text.size() == 2 * Sha1Digest::size) {
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (hex_value(text[i]) < 0) {
        return p.error("bad hex character '" + shown(text.substr(i, 1)) + "' at position " +
                       std::to_string(i) + " of the info-hash");
      }
    }
    digest = Sha1Digest::from_hex(text);
  } else if (text.size() == 32) {
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (!is_base32(text[i])) {
        return p.error("bad base32 character '" + shown(text.substr(i, 1)) + "' at position " +
                       std::to_string(i) + " of the info-hash");
      }
    }
    if (auto raw = base32_decode(text)) digest = Sha1Digest::from_bytes(*raw);
  } else {
    return p.error("info-hash must be 40 hex or 32 base32 characters, got " +
                   std::to_string(text.size()));
  }
  if (!digest) return p.error("invalid info-hash '" + shown(text) + "'");
  return *digest;
}

// Everything except the RFC 3986 unreserved characters (and, if asked, ':' and '/') as %XX.
void append_encoded(std::string& out, std::string_view text, bool keep_url_punctuation) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  for (char c : text) {
    bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '.' || c == '_' || c == '~' ||
                 (keep_url_punctuation && (c == ':' || c == '/'));
    if (plain) {
      out.push_back(c);
    } else {
      auto byte = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(kDigits[byte >> 4]);
      out.push_back(kDigits[byte & 0xf]);
    }
  }
}

}  // namespace

Expected<Magnet> parse_magnet(std::string_view uri) {
  if (uri.empty()) return Error(Errc::magnet_bad_uri, "empty URI", 0);
  if (!istarts_with(uri, kScheme)) {
    return Error(Errc::magnet_bad_uri,
                 "not a magnet URI (must start with 'magnet:'): '" + shown(uri) + "'", 0);
  }
  std::size_t pos = kScheme.size();
  if (pos == uri.size() || uri[pos] != '?') {
    return Error(Errc::magnet_bad_uri, "expected '?' after 'magnet:'", pos);
  }
  ++pos;

  Magnet m;
  bool have_hash = false;
  bool have_name = false;
  std::optional<Param> other_xt;  // first xt that is not urn:btih, for the error message
  bool other_xt_is_v2 = false;
  std::unordered_set<std::string> seen_trackers;

  while (pos <= uri.size()) {
    std::size_t end = uri.find('&', pos);
    if (end == std::string_view::npos) end = uri.size();
    std::string_view pair = uri.substr(pos, end - pos);
    Param p{pair, {}, pos};
    pos = end + 1;
    if (pair.empty()) continue;
    if (std::size_t eq = pair.find('='); eq != std::string_view::npos) {
      p.key = pair.substr(0, eq);
      p.value = pair.substr(eq + 1);
    }

    const bool is_name = key_is(p.key, "dn");
    auto value = percent_decode(p, is_name);
    if (!value) return value.error();

    if (key_is(p.key, "xt")) {
      if (istarts_with(*value, kBtih)) {
        if (have_hash) continue;
        auto hash = parse_info_hash(p, std::string_view(*value).substr(kBtih.size()));
        if (!hash) return hash.error();
        m.info_hash = *hash;
        have_hash = true;
      } else if (!other_xt) {
        other_xt = p;
        other_xt_is_v2 = istarts_with(*value, kBtmh);
      }
    } else if (is_name) {
      if (!have_name) m.display_name = std::move(*value);
      have_name = true;
    } else if (value->empty()) {
      continue;
    } else if (key_is(p.key, "tr")) {
      if (seen_trackers.insert(*value).second) m.trackers.push_back(std::move(*value));
    } else if (key_is(p.key, "ws")) {
      m.web_seeds.push_back(std::move(*value));
    } else if (key_is(p.key, "x.pe")) {
      m.peers.push_back(std::move(*value));
    }
    // Anything else (xl, as, kt, so, mt, ...) is not needed to fetch the torrent.
  }

  if (!have_hash) {
    if (!other_xt) return Error(Errc::magnet_bad_uri, "missing xt=urn:btih: parameter");
    if (other_xt_is_v2) {
      return other_xt->error(
          "only a v2 urn:btmh info-hash is given; a v1 urn:btih info-hash is required");
    }
    return other_xt->error("expected urn:btih:<info-hash>, got '" + shown(other_xt->value) + "'");
  }
  return m;
}

std::string format_magnet(const Magnet& m) {
  std::string out = "magnet:?xt=urn:btih:";
  out += m.info_hash.hex();
  if (!m.display_name.empty()) {
    out += "&dn=";
    append_encoded(out, m.display_name, false);
  }
  auto append_list = [&out](std::string_view key, const std::vector<std::string>& values,
                            bool keep_url_punctuation) {
    for (const std::string& v : values) {
      if (v.empty()) continue;
      out += '&';
      out += key;
      out += '=';
      append_encoded(out, v, keep_url_punctuation);
    }
  };
  append_list("tr", m.trackers, true);
  append_list("ws", m.web_seeds, true);
  append_list("x.pe", m.peers, false);
  return out;
}

}  // namespace starling
