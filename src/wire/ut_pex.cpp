#include "wire/ut_pex.hpp"

#include <algorithm>

#include "bencode/decoder.hpp"
#include "bencode/encoder.hpp"

namespace starling::wire {
namespace {

std::vector<PexPeer> compact_peers(std::string_view raw, bool v6) {
  const std::size_t size = v6 ? 18 : 6;
  std::vector<PexPeer> out;
  if (raw.size() % size != 0) return out;
  for (std::size_t at = 0; at < raw.size() && out.size() < kMaxPexPeers; at += size) {
    PexPeer p;
    p.v6 = v6;
    const std::size_t ip_size = v6 ? 16 : 4;
    for (std::size_t i = 0; i < ip_size; ++i) p.ip[i] = static_cast<std::uint8_t>(raw[at + i]);
    p.port = static_cast<std::uint16_t>((static_cast<std::uint8_t>(raw[at + ip_size]) << 8) |
                                        static_cast<std::uint8_t>(raw[at + ip_size + 1]));
    if (p.port != 0) out.push_back(p);
  }
  return out;
}

std::string compact(const std::vector<PexPeer>& peers, bool v6) {
  std::string out;
  for (const auto& p : peers) {
    if (p.v6 != v6) continue;
    const std::size_t ip_size = v6 ? 16 : 4;
    for (std::size_t i = 0; i < ip_size; ++i) out.push_back(static_cast<char>(p.ip[i]));
    out.push_back(static_cast<char>(p.port >> 8));
    out.push_back(static_cast<char>(p.port & 0xff));
  }
  return out;
}

std::string flags_of(const PexMessage& m, bool v6) {
  std::string out;
  for (std::size_t i = 0; i < m.added.size(); ++i) {
    if (m.added[i].v6 != v6) continue;
    out.push_back(static_cast<char>(i < m.added_flags.size() ? m.added_flags[i] : 0));
  }
  return out;
}

}  // namespace

Expected<PexMessage> parse_pex(std::string_view payload) {
  bencode::DecodeLimits limits;
  limits.max_depth = 4;
  limits.max_elements = 256;
  limits.require_sorted_keys = false;
  const auto doc = bencode::decode_prefix(payload, limits);
  if (!doc) return Error(Errc::wire_bad_message, "ut_pex: not bencode", doc.error().offset);
  const bencode::Node root = doc->root();
  if (!root.is_dict()) return Error(Errc::wire_bad_message, "ut_pex: not a dictionary", 0);
  PexMessage m;
  for (const bool v6 : {false, true}) {
    const auto added = root.find_string(v6 ? "added6" : "added");
    const auto flags = root.find_string(v6 ? "added6.f" : "added.f");
    const auto dropped = root.find_string(v6 ? "dropped6" : "dropped");
    if (added) {
      const auto peers = compact_peers(*added, v6);
      for (std::size_t i = 0; i < peers.size() && m.added.size() < kMaxPexPeers; ++i) {
        m.added.push_back(peers[i]);
        const bool has_flag = flags && flags->size() == added->size() / (v6 ? 18 : 6);
        m.added_flags.push_back(has_flag ? static_cast<std::uint8_t>((*flags)[i]) : 0);
      }
    }
    if (dropped) {
      for (const auto& p : compact_peers(*dropped, v6)) {
        if (m.dropped.size() < kMaxPexPeers) m.dropped.push_back(p);
      }
    }
  }
  return m;
}

std::string encode_pex(const PexMessage& m) {
  std::string out;
  bencode::Encoder e(out);
  e.begin_dict();  // sorted keys: added, added.f, added6, added6.f, dropped, dropped6
  e.string("added");
  e.string(compact(m.added, false));
  e.string("added.f");
  e.string(flags_of(m, false));
  e.string("added6");
  e.string(compact(m.added, true));
  e.string("added6.f");
  e.string(flags_of(m, true));
  e.string("dropped");
  e.string(compact(m.dropped, false));
  e.string("dropped6");
  e.string(compact(m.dropped, true));
  e.end();
  return out;
}

std::optional<PexMessage> PexDiff::next(const std::vector<PexPeer>& current, std::uint8_t flags) {
  const std::set<PexPeer> now(current.begin(), current.end());
  PexMessage m;
  for (const auto& p : now) {
    if (m.added.size() >= kMaxPexPeers) break;
    if (told_.count(p) == 0) {
      m.added.push_back(p);
      m.added_flags.push_back(flags);
    }
  }
  for (const auto& p : told_) {
    if (m.dropped.size() >= kMaxPexPeers) break;
    if (now.count(p) == 0) m.dropped.push_back(p);
  }
  if (m.added.empty() && m.dropped.empty()) return std::nullopt;
  for (const auto& p : m.added) told_.insert(p);
  for (const auto& p : m.dropped) told_.erase(p);
  return m;
}

}  // namespace starling::wire
