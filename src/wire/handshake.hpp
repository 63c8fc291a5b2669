// The BEP 3 handshake: <19>"BitTorrent protocol"<8 reserved bytes><info-hash><peer id>, 68 bytes.
// The reserved bytes advertise extensions: BEP 10 (byte 5, 0x10), BEP 6 fast (byte 7, 0x04) and
// BEP 5 DHT (byte 7, 0x01). An encrypted (MSE) stream starts differently; telling the two apart
// is the connection's job.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/digest.hpp"
#include "core/expected.hpp"

namespace starling::wire {

inline constexpr std::string_view kProtocolName = "BitTorrent protocol";
inline constexpr std::size_t kHandshakeSize = 68;
// Up to and including the info-hash: a listener picks the torrent before the peer id arrives.
inline constexpr std::size_t kHandshakePrefixSize = 48;

struct Handshake {
  std::array<std::uint8_t, 8> reserved{};
  Sha1Digest info_hash;
  std::array<std::uint8_t, 20> peer_id{};

  bool supports_extensions() const { return (reserved[5] & 0x10) != 0; }
  bool supports_fast() const { return (reserved[7] & 0x04) != 0; }
  bool supports_dht() const { return (reserved[7] & 0x01) != 0; }
  void set_supports_extensions(bool on = true) { set_bit(5, 0x10, on); }
  void set_supports_fast(bool on = true) { set_bit(7, 0x04, on); }
  void set_supports_dht(bool on = true) { set_bit(7, 0x01, on); }

  std::string_view peer_id_view() const {
    return {reinterpret_cast<const char*>(peer_id.data()), peer_id.size()};
  }

  friend bool operator==(const Handshake&, const Handshake&) = default;

 private:
  void set_bit(std::size_t byte, std::uint8_t mask, bool on) {
    reserved[byte] =
        static_cast<std::uint8_t>(on ? (reserved[byte] | mask) : (reserved[byte] & ~mask));
  }
};

// Appends the 68 bytes.
void encode_handshake(std::string& out, const Handshake& handshake);
std::string encode_handshake(const Handshake& handshake);

// Exactly 68 bytes. Errors (Errc::wire_bad_handshake) name the wrong length or protocol name.
Expected<Handshake> parse_handshake(std::string_view bytes);
// The first 48 bytes (longer input is cut there): reserved bytes and info-hash; peer_id is left
// zero. Parse all 68 bytes again with parse_handshake once they are in.
Expected<Handshake> parse_handshake_prefix(std::string_view bytes);

}  // namespace starling::wire
