// BEP 29 packet codec. Every uTP datagram starts with the same 20-byte big-endian header:
//
//   0       4       8               16              24              32
//   | type  | ver   | extension     | connection_id                 |
//   | timestamp_microseconds                                        |
//   | timestamp_difference_microseconds                             |
//   | wnd_size                                                      |
//   | seq_nr                        | ack_nr                        |
//
// followed by a chain of extensions (each: next-extension type, length, that many bytes; the
// header's `extension` byte names the first) and the payload. Extension 1 is the selective ACK:
// a bitmask, a multiple of 4 bytes long, whose bit i (least significant bit of byte 0 first) says
// packet ack_nr + 2 + i has arrived. Other extensions are skipped (BEP 29 asks receivers to
// ignore what they do not know). The chain is bounded so a hostile packet cannot make us walk a
// thousand empty extensions.
//
// parse_packet() returns views into the datagram: nothing is copied, nothing allocated. The
// encoder writes into the caller's buffer for the same reason: the send path runs per packet.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "core/expected.hpp"

namespace starling::utp {

enum class PacketType : std::uint8_t { data = 0, fin = 1, state = 2, reset = 3, syn = 4 };

inline constexpr std::uint8_t kVersion = 1;
inline constexpr std::size_t kHeaderSize = 20;
inline constexpr std::uint8_t kExtensionNone = 0;
inline constexpr std::uint8_t kExtensionSack = 1;
// More extensions than any real client sends; a longer chain is rejected as malformed.
inline constexpr int kMaxExtensions = 8;
// The largest SACK bitmask we write: 64 bytes = 512 packets past the hole.
inline constexpr std::size_t kMaxSackBytes = 64;

struct PacketHeader {
  PacketType type = PacketType::data;
  std::uint16_t connection_id = 0;
  std::uint32_t timestamp_us = 0;
  std::uint32_t timestamp_difference_us = 0;
  std::uint32_t wnd_size = 0;
  std::uint16_t seq_nr = 0;
  std::uint16_t ack_nr = 0;
  friend bool operator==(const PacketHeader&, const PacketHeader&) = default;
};

struct PacketView {
  PacketHeader header;
  // The selective-ACK bitmask (empty when the packet has none).
  std::span<const std::byte> sack;
  std::span<const std::byte> payload;

  bool has_sack() const { return !sack.empty(); }
  // Whether the SACK says packet ack_nr + 2 + index arrived.
  bool sacked(std::size_t index) const {
    return index / 8 < sack.size() &&
           ((std::to_integer<unsigned>(sack[index / 8]) >> (index % 8)) & 1U) != 0;
  }
};

// Rejects: fewer than 20 bytes, version != 1, type > 4, an extension running past the end, a
// SACK whose length is 0 or not a multiple of 4, a second SACK, more than kMaxExtensions.
Expected<PacketView> parse_packet(std::span<const std::byte> datagram);
Expected<PacketView> parse_packet(std::string_view datagram);

// Bytes encode_header() writes for a SACK of `sack_bytes` (0 = no extension).
constexpr std::size_t encoded_header_size(std::size_t sack_bytes) {
  return kHeaderSize + (sack_bytes == 0 ? 0 : 2 + sack_bytes);
}

// Writes the header (and a SACK extension when `sack` is non-empty; its length must be a
// multiple of 4 and at most 255) at the start of `out`, which must hold
// encoded_header_size(sack.size()) bytes. Returns that size. The payload goes right after it.
std::size_t encode_header(std::span<std::byte> out, const PacketHeader& header,
                          std::span<const std::byte> sack = {});

// The RESET a socket manager answers with when a packet matches no connection: it echoes the
// packet's connection_id (the sender's peer is one of its two ids, so the sender finds the
// connection under either) and acknowledges its seq_nr. Writes kHeaderSize bytes.
std::size_t encode_reset_reply(std::span<std::byte> out, const PacketHeader& stray,
                               std::uint32_t timestamp_us);

}  // namespace starling::utp
