#include "wire/handshake.hpp"

#include <algorithm>

namespace starling::wire {
namespace {

constexpr std::size_t kReservedAt = 1 + kProtocolName.size();
constexpr std::size_t kInfoHashAt = kReservedAt + 8;
constexpr std::size_t kPeerIdAt = kInfoHashAt + Sha1Digest::size;
static_assert(kPeerIdAt == kHandshakePrefixSize && kPeerIdAt + 20 == kHandshakeSize);

// Untrusted bytes made printable for an error message.
std::string shown(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') {
      out.push_back(static_cast<char>(c));
    } else {
      out += "\\x";
      out.push_back(kDigits[c >> 4]);
      out.push_back(kDigits[c & 0xf]);
    }
  }
  return out;
}

template <std::size_t N>
void copy_bytes(std::array<std::uint8_t, N>& to, std::string_view from) {
  std::transform(from.begin(), from.begin() + N, to.begin(),
                 [](char c) { return static_cast<std::uint8_t>(c); });
}

// Checks the protocol name and reads the reserved bytes and info-hash of bytes[0, 48).
Expected<Handshake> parse_prefix(std::string_view bytes) {
  const auto name_length = static_cast<std::uint8_t>(bytes[0]);
  if (name_length != kProtocolName.size()) {
    return Error(Errc::wire_bad_handshake,
                 "protocol name length " + std::to_string(name_length) + ", expected 19", 0);
  }
  const std::string_view name = bytes.substr(1, kProtocolName.size());
  if (name != kProtocolName) {
    return Error(Errc::wire_bad_handshake,
                 "protocol name '" + shown(name) + "', expected 'BitTorrent protocol'", 1);
  }
  Handshake h;
  copy_bytes(h.reserved, bytes.substr(kReservedAt));
  copy_bytes(h.info_hash.bytes, bytes.substr(kInfoHashAt));
  return h;
}

}  // namespace

void encode_handshake(std::string& out, const Handshake& handshake) {
  out.push_back(static_cast<char>(kProtocolName.size()));
  out.append(kProtocolName);
  out.append(reinterpret_cast<const char*>(handshake.reserved.data()), handshake.reserved.size());
  out.append(handshake.info_hash.view());
  out.append(handshake.peer_id_view());
}

std::string encode_handshake(const Handshake& handshake) {
  std::string out;
  out.reserve(kHandshakeSize);
  encode_handshake(out, handshake);
  return out;
}

Expected<Handshake> parse_handshake(std::string_view bytes) {
  if (bytes.size() != kHandshakeSize) {
    return Error(Errc::wire_bad_handshake,
                 "handshake of " + std::to_string(bytes.size()) + " bytes, expected 68");
  }
  auto h = parse_prefix(bytes);
  if (h) copy_bytes(h->peer_id, bytes.substr(kPeerIdAt));
  return h;
}

Expected<Handshake> parse_handshake_prefix(std::string_view bytes) {
  if (bytes.size() < kHandshakePrefixSize) {
    return Error(Errc::wire_bad_handshake, "handshake prefix of " + std::to_string(bytes.size()) +
                                               " bytes, expected at least 48");
  }
  return parse_prefix(bytes);
}

}  // namespace starling::wire
