#include "wire/message_encoder.hpp"

#include <cassert>
#include <limits>
#include <string_view>

#include "core/overloaded.hpp"

namespace starling::wire {
namespace {

// Length prefix and id: a message without payload.
constexpr std::size_t kBare = kLengthPrefixSize + 1;

void put_u32(std::string& out, std::uint32_t v) {
  const char bytes[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                         static_cast<char>(v >> 8), static_cast<char>(v)};
  out.append(bytes, sizeof bytes);
}

void put_u16(std::string& out, std::uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}

void put_index(std::string& out, PieceIndex piece) {
  put_u32(out, static_cast<std::uint32_t>(piece.value()));
}

// Length prefix and id of a message whose payload (after the id) has `payload` bytes.
void put_header(std::string& out, MessageId id, std::size_t payload) {
  assert(payload < std::numeric_limits<std::uint32_t>::max());
  put_u32(out, static_cast<std::uint32_t>(payload + 1));
  out.push_back(static_cast<char>(id));
}

void put_block_spec(std::string& out, MessageId id, PieceIndex piece, std::uint32_t offset,
                    std::uint32_t length) {
  put_header(out, id, 12);
  put_index(out, piece);
  put_u32(out, offset);
  put_u32(out, length);
}

void put_opaque(std::string& out, std::uint8_t id, std::string_view payload) {
  assert(payload.size() < std::numeric_limits<std::uint32_t>::max());
  put_u32(out, static_cast<std::uint32_t>(payload.size() + 1));
  out.push_back(static_cast<char>(id));
  out.append(payload);
}

}  // namespace

std::size_t encoded_size(const Message& message) {
  return std::visit(
      Overloaded{
          [](const KeepAlive&) { return kLengthPrefixSize; }, [](const Have&) { return kBare + 4; },
          [](const BitfieldMessage& m) { return kBare + m.bits.size(); },
          [](const Request&) { return kBare + 12; },
          [](const Piece& m) { return kPieceHeaderSize + m.block.size(); },
          [](const Cancel&) { return kBare + 12; }, [](const Port&) { return kBare + 2; },
          [](const Suggest&) { return kBare + 4; }, [](const Reject&) { return kBare + 12; },
          [](const AllowedFast&) { return kBare + 4; },
          [](const Extended& m) { return kBare + 1 + m.payload.size(); },
          [](const Unknown& m) { return kBare + m.payload.size(); },
          [](const auto&) { return kBare; },  // choke ... have none: no payload
      },
      message);
}

void encode(std::string& out, const Message& message) {
  std::visit(Overloaded{
                 [&](const KeepAlive&) { put_u32(out, 0); },
                 [&](const Choke&) { put_header(out, MessageId::choke, 0); },
                 [&](const Unchoke&) { put_header(out, MessageId::unchoke, 0); },
                 [&](const Interested&) { put_header(out, MessageId::interested, 0); },
                 [&](const NotInterested&) { put_header(out, MessageId::not_interested, 0); },
                 [&](const Have& m) {
                   put_header(out, MessageId::have, 4);
                   put_index(out, m.piece);
                 },
                 [&](const BitfieldMessage& m) {
                   put_header(out, MessageId::bitfield, m.bits.size());
                   out.append(m.bits);
                 },
                 [&](const Request& m) {
                   put_block_spec(out, MessageId::request, m.piece, m.offset, m.length);
                 },
                 [&](const Piece& m) {
                   assert(m.block.size() <= std::numeric_limits<std::uint32_t>::max() - 9);
                   encode_piece_header(out, m.piece, m.offset,
                                       static_cast<std::uint32_t>(m.block.size()));
                   out.append(m.block);
                 },
                 [&](const Cancel& m) {
                   put_block_spec(out, MessageId::cancel, m.piece, m.offset, m.length);
                 },
                 [&](const Port& m) {
                   put_header(out, MessageId::port, 2);
                   put_u16(out, m.port);
                 },
                 [&](const Suggest& m) {
                   put_header(out, MessageId::suggest, 4);
                   put_index(out, m.piece);
                 },
                 [&](const HaveAll&) { put_header(out, MessageId::have_all, 0); },
                 [&](const HaveNone&) { put_header(out, MessageId::have_none, 0); },
                 [&](const Reject& m) {
                   put_block_spec(out, MessageId::reject, m.piece, m.offset, m.length);
                 },
                 [&](const AllowedFast& m) {
                   put_header(out, MessageId::allowed_fast, 4);
                   put_index(out, m.piece);
                 },
                 [&](const Extended& m) {
                   put_header(out, MessageId::extended, 1 + m.payload.size());
                   out.push_back(static_cast<char>(m.id));
                   out.append(m.payload);
                 },
                 [&](const Unknown& m) { put_opaque(out, m.id, m.payload); },
             },
             message);
}

std::string encode(const Message& message) {
  std::string out;
  out.reserve(encoded_size(message));
  encode(out, message);
  return out;
}

void encode_piece_header(std::string& out, PieceIndex piece, std::uint32_t offset,
                         std::uint32_t length) {
  put_header(out, MessageId::piece, std::size_t{8} + length);
  put_index(out, piece);
  put_u32(out, offset);
}

}  // namespace starling::wire
