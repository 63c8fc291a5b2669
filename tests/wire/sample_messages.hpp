// Shared by the wire tests: one or more messages of every kind, and hex helpers.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/encoding.hpp"
#include "wire/message.hpp"

namespace starling::wire::test {

// "00 00 00 0d 06" -> bytes; spaces are ignored.
inline std::string from_hex(std::string_view spaced) {
  std::string digits;
  for (char c : spaced) {
    if (c != ' ') digits.push_back(c);
  }
  return hex_decode(digits).value();
}

// A torrent of 10 pieces of 64 KiB, the last one 1000 bytes.
inline PieceGeometry sample_geometry() {
  return PieceGeometry{10, 65536, 9 * 65536 + 1000};
}

// Every message kind, all within sample_geometry(). The views point at static storage.
inline std::vector<Message> sample_messages() {
  static const std::string block(16384, 'x');
  static const std::string short_block(1000, 'y');
  return {
      KeepAlive{},
      Choke{},
      Unchoke{},
      Interested{},
      NotInterested{},
      Have{PieceIndex(0)},
      Have{PieceIndex(9)},
      BitfieldMessage{std::string_view("\xff\xc0", 2)},
      Request{PieceIndex(1), 16384, 16384},
      Request{PieceIndex(9), 0, 1000},
      Piece{PieceIndex(2), 49152, block},
      Piece{PieceIndex(9), 0, short_block},
      Cancel{PieceIndex(3), 0, 16384},
      Port{6881},
      Port{65535},
      Suggest{PieceIndex(4)},
      HaveAll{},
      HaveNone{},
      Reject{PieceIndex(5), 32768, 16384},
      AllowedFast{PieceIndex(6)},
      Extended{0, "d1:md11:ut_metadatai2eee"},
      Extended{3, ""},
      Unknown{21, "hash request"},
      Unknown{255, ""},
  };
}

}  // namespace starling::wire::test
