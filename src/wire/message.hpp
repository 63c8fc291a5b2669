// Peer wire messages after the handshake: BEP 3 core, BEP 5 port, BEP 6 fast extension and the
// BEP 10 extension envelope. Each message is a small struct; a decoded message's byte payloads
// (bitfield, block, extended payload) are views into the MessageDecoder's buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>

#include "core/piece_geometry.hpp"
#include "core/strong_index.hpp"

namespace starling::wire {

enum class MessageId : std::uint8_t {
  choke = 0,
  unchoke = 1,
  interested = 2,
  not_interested = 3,
  have = 4,
  bitfield = 5,
  request = 6,
  piece = 7,
  cancel = 8,
  port = 9,      // BEP 5
  suggest = 13,  // BEP 6 from here to allowed_fast
  have_all = 14,
  have_none = 15,
  reject = 16,
  allowed_fast = 17,
  extended = 20,  // BEP 10
};

// Every message is framed as <4-byte big-endian length><id><payload>; a length of 0 is a
// keep-alive. The header of a piece message is the length, the id, the index and the offset.
inline constexpr std::size_t kLengthPrefixSize = 4;
inline constexpr std::size_t kPieceHeaderSize = 13;
// Extended message id 0 is the BEP 10 handshake; other ids are the ones its "m" dict assigns.
inline constexpr std::uint8_t kExtensionHandshakeId = 0;

struct KeepAlive {
  friend bool operator==(const KeepAlive&, const KeepAlive&) = default;
};
struct Choke {
  friend bool operator==(const Choke&, const Choke&) = default;
};
struct Unchoke {
  friend bool operator==(const Unchoke&, const Unchoke&) = default;
};
struct Interested {
  friend bool operator==(const Interested&, const Interested&) = default;
};
struct NotInterested {
  friend bool operator==(const NotInterested&, const NotInterested&) = default;
};
struct Have {
  PieceIndex piece;
  friend bool operator==(const Have&, const Have&) = default;
};
// Raw wire bytes, bit 0 = high bit of byte 0; see Bitfield::from_bytes.
struct BitfieldMessage {
  std::string_view bits;
  friend bool operator==(const BitfieldMessage&, const BitfieldMessage&) = default;
};
struct Request {
  PieceIndex piece;
  std::uint32_t offset = 0;
  std::uint32_t length = 0;
  friend bool operator==(const Request&, const Request&) = default;
};
struct Piece {
  PieceIndex piece;
  std::uint32_t offset = 0;
  std::string_view block;
  friend bool operator==(const Piece&, const Piece&) = default;
};
struct Cancel {
  PieceIndex piece;
  std::uint32_t offset = 0;
  std::uint32_t length = 0;
  friend bool operator==(const Cancel&, const Cancel&) = default;
};
struct Port {
  std::uint16_t port = 0;
  friend bool operator==(const Port&, const Port&) = default;
};
struct Suggest {
  PieceIndex piece;
  friend bool operator==(const Suggest&, const Suggest&) = default;
};
struct HaveAll {
  friend bool operator==(const HaveAll&, const HaveAll&) = default;
};
struct HaveNone {
  friend bool operator==(const HaveNone&, const HaveNone&) = default;
};
struct Reject {
  PieceIndex piece;
  std::uint32_t offset = 0;
  std::uint32_t length = 0;
  friend bool operator==(const Reject&, const Reject&) = default;
};
struct AllowedFast {
  PieceIndex piece;
  friend bool operator==(const AllowedFast&, const AllowedFast&) = default;
};
// BEP 10: `id` is 0 for the extension handshake, else an id from the receiver's "m" dict.
struct Extended {
  std::uint8_t id = 0;
  std::string_view payload;
  friend bool operator==(const Extended&, const Extended&) = default;
};
// An id this codec does not know (e.g. BEP 52 hash messages). The decoder hands it over rather
// than failing, so the connection decides: Transmission skips such messages, libtorrent closes.
struct Unknown {
  std::uint8_t id = 0;
  std::string_view payload;
  friend bool operator==(const Unknown&, const Unknown&) = default;
};

using Message = std::variant<KeepAlive, Choke, Unchoke, Interested, NotInterested, Have,
                             BitfieldMessage, Request, Piece, Cancel, Port, Suggest, HaveAll,
                             HaveNone, Reject, AllowedFast, Extended, Unknown>;

// "have", "request", ...: for logs.
std::string_view message_name(const Message& message);

// Limits on what a peer may send, checked before the body of a message is buffered. Memory per
// connection is bounded by the longest message these allow plus one read.
struct WireLimits {
  // Largest block a request, cancel or reject may name and a piece message may carry. Every
  // current client uses 16 KiB blocks; BEP 3 notes that older ones asked for up to 128 KiB.
  std::uint32_t max_block_length = 128 * 1024;
  // Largest extended payload (after the extension id): ut_metadata pieces are 16 KiB plus a small
  // dict; ut_pex and others stay far below 1 MiB.
  std::uint32_t max_extended_length = 1024 * 1024;
  // Largest bitfield payload while the piece count is unknown (a magnet link before metadata):
  // 2 MiB covers TorrentLimits' 16 M pieces. With a known geometry the exact size is required.
  std::uint32_t max_bitfield_length = 2 * 1024 * 1024;
  // Largest payload of a message with an unknown id.
  std::uint32_t max_unknown_length = 64 * 1024;
};

}  // namespace starling::wire
