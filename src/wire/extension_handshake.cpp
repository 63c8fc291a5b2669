#include "wire/extension_handshake.hpp"

#include <limits>

#include "bencode/decoder.hpp"
#include "bencode/encoder.hpp"

namespace starling::wire {
namespace {

// A real handshake is a flat dict of a few dozen values; these bound what a hostile one costs.
constexpr int kMaxDepth = 16;
constexpr std::size_t kMaxElements = 10'000;

template <class Int>
std::optional<Int> int_in_range(const bencode::Node& dict, std::string_view key, std::int64_t low,
                                std::int64_t high) {
  const auto value = dict.find_int(key);
  if (!value || *value < low || *value > high) return std::nullopt;
  return static_cast<Int>(*value);
}

}  // namespace

std::optional<std::uint8_t> ExtensionHandshake::id_of(std::string_view name) const {
  const auto it = m.find(name);
  if (it == m.end() || it->second == 0) return std::nullopt;
  return it->second;
}

Expected<ExtensionHandshake> parse_extension_handshake(std::string_view payload) {
  bencode::DecodeLimits limits;
  limits.max_depth = kMaxDepth;
  limits.max_elements = kMaxElements;
  limits.require_sorted_keys = false;
  // Trailing bytes are ignored, as libtorrent does.
  const auto doc = bencode::decode_prefix(payload, limits);
  if (!doc) {
    const Error& e = doc.error();
    std::string detail = "not bencode: " + e.code.message();
    if (!e.detail.empty()) detail += ": " + e.detail;
    return Error(Errc::wire_bad_extension_handshake, std::move(detail), e.offset);
  }
  const bencode::Node root = doc->root();
  if (!root.is_dict()) {
    return Error(Errc::wire_bad_extension_handshake, "not a dictionary", 0);
  }

  ExtensionHandshake h;
  if (const auto m = root.find_dict("m")) {
    for (const auto& [name, id] : m->entries()) {
      if (!id.is_int() || id.as_int() < 0 || id.as_int() > 255) continue;
      h.m.emplace(name, static_cast<std::uint8_t>(id.as_int()));  // the first of duplicates wins
    }
  }
  if (const auto v = root.find_string("v")) h.v = *v;
  h.p = int_in_range<std::uint16_t>(root, "p", 1, std::numeric_limits<std::uint16_t>::max());
  h.reqq = int_in_range<int>(root, "reqq", 1, std::numeric_limits<int>::max());
  h.metadata_size = int_in_range<std::int64_t>(root, "metadata_size", 1,
                                               std::numeric_limits<std::int64_t>::max());
  if (const auto ip = root.find_string("yourip"); ip && (ip->size() == 4 || ip->size() == 16)) {
    h.yourip = *ip;
  }
  return h;
}

std::string encode_extension_handshake(const ExtensionHandshake& handshake) {
  bencode::Dict m;
  for (const auto& [name, id] : handshake.m) m.emplace(name, std::int64_t{id});
  bencode::Dict root;
  root.emplace("m", std::move(m));
  if (!handshake.v.empty()) root.emplace("v", handshake.v);
  if (handshake.p) root.emplace("p", std::int64_t{*handshake.p});
  if (handshake.reqq) root.emplace("reqq", std::int64_t{*handshake.reqq});
  if (handshake.metadata_size) root.emplace("metadata_size", *handshake.metadata_size);
  if (!handshake.yourip.empty()) root.emplace("yourip", handshake.yourip);
  return bencode::encode(root);
}

}  // namespace starling::wire
