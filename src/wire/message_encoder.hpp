// Writes peer wire messages, appending to a caller-owned string so one send buffer can collect
// many messages. A piece message is usually sent as encode_piece_header() followed by the block
// straight from the disk buffer (scatter/gather), so the block is never copied here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "wire/message.hpp"

namespace starling::wire {

// Bytes encode() appends for this message, length prefix included.
std::size_t encoded_size(const Message& message);

void encode(std::string& out, const Message& message);
std::string encode(const Message& message);

// The 13-byte header of a piece message carrying `length` bytes of block data.
void encode_piece_header(std::string& out, PieceIndex piece, std::uint32_t offset,
                         std::uint32_t length);

}  // namespace starling::wire
