#include "wire/message_decoder.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <limits>
#include <string>

#include "core/bitfield.hpp"

namespace starling::wire {
namespace {

// An emptied buffer larger than this (and than twice the read) is given back, so one big
// extended message does not pin its memory for the life of the connection.
constexpr std::size_t kRetainedCapacity = std::size_t{256} * 1024;

std::uint32_t get_u32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return (std::uint32_t{u[0]} << 24) | (std::uint32_t{u[1]} << 16) | (std::uint32_t{u[2]} << 8) |
         std::uint32_t{u[3]};
}

std::uint16_t get_u16(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<std::uint16_t>((u[0] << 8) | u[1]);
}

// Payload bytes (after the id) of messages whose size never varies; -1 for the others.
int fixed_payload_size(std::uint8_t id) {
  switch (static_cast<MessageId>(id)) {
    case MessageId::choke:
    case MessageId::unchoke:
    case MessageId::interested:
    case MessageId::not_interested:
    case MessageId::have_all:
    case MessageId::have_none:
      return 0;
    case MessageId::port:
      return 2;
    case MessageId::have:
    case MessageId::suggest:
    case MessageId::allowed_fast:
      return 4;
    case MessageId::request:
    case MessageId::cancel:
    case MessageId::reject:
      return 12;
    default:
      return -1;
  }
}

std::string_view id_name(std::uint8_t id) {
  switch (static_cast<MessageId>(id)) {
    case MessageId::choke:
      return "choke";
    case MessageId::unchoke:
      return "unchoke";
    case MessageId::interested:
      return "interested";
    case MessageId::not_interested:
      return "not interested";
    case MessageId::have:
      return "have";
    case MessageId::bitfield:
      return "bitfield";
    case MessageId::request:
      return "request";
    case MessageId::piece:
      return "piece";
    case MessageId::cancel:
      return "cancel";
    case MessageId::port:
      return "port";
    case MessageId::suggest:
      return "suggest";
    case MessageId::have_all:
      return "have all";
    case MessageId::have_none:
      return "have none";
    case MessageId::reject:
      return "reject";
    case MessageId::allowed_fast:
      return "allowed fast";
    case MessageId::extended:
      return "extended";
  }
  return "unknown";
}

std::string num(std::uint64_t v) {
  return std::to_string(v);
}

}  // namespace

MessageDecoder::MessageDecoder(const WireLimits& limits) : limits_(limits) {
  update_max_length();
}

Status MessageDecoder::set_geometry(const PieceGeometry& geometry) {
  if (!geometry.valid()) {
    return Error(Errc::invalid_argument, std::to_string(geometry.num_pieces) + " pieces of " +
                                             std::to_string(geometry.piece_length) +
                                             " bytes cannot hold " +
                                             std::to_string(geometry.total_size) + " bytes");
  }
  geometry_ = geometry;
  update_max_length();
  return ok();
}

void MessageDecoder::update_max_length() {
  const std::uint64_t bitfield =
      geometry_ ? geometry_->bitfield_bytes() : std::uint64_t{limits_.max_bitfield_length};
  const std::uint64_t longest = std::max({
      std::uint64_t{1} + 12,                               // request, cancel, reject
      std::uint64_t{1} + 8 + limits_.max_block_length,     // piece
      std::uint64_t{1} + 1 + limits_.max_extended_length,  // extended
      std::uint64_t{1} + bitfield,
      std::uint64_t{1} + limits_.max_unknown_length,
  });
  // Leaves room for the prefix so a frame's size always fits a uint32 and a size_t.
  max_length_ = static_cast<std::uint32_t>(
      std::min<std::uint64_t>(longest, std::numeric_limits<std::uint32_t>::max() - 8));
}

std::span<char> MessageDecoder::prepare(std::size_t size) {
  // Bytes below end_ of a buffer that backs shared blocks must stay as they are.
  const bool shared = buffer_.use_count() > 1;
  if (begin_ == end_ && !shared) {
    begin_ = end_ = 0;
    if (capacity_ > std::max(2 * size, kRetainedCapacity)) {
      buffer_.reset();
      capacity_ = 0;
    }
  }
  if (capacity_ - end_ < size && begin_ > 0 && !shared) {
    std::memmove(buffer_.get(), buffer_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (capacity_ - end_ < size) {
    // Doubling keeps byte-at-a-time feeding linear; the cap keeps the bound of one frame + read.
    const std::size_t live = end_ - begin_;
    const std::size_t needed = live + size;
    const std::size_t cap = std::max(max_frame_size(), live) + size;
    const std::size_t grown = std::max(needed, std::min(capacity_ * 2, cap));
    auto fresh = std::make_shared_for_overwrite<char[]>(grown);
    if (live > 0) std::memcpy(fresh.get(), buffer_.get() + begin_, live);
    buffer_ = std::move(fresh);
    capacity_ = grown;
    begin_ = 0;
    end_ = live;
  }
  prepared_ = size;
  return {buffer_.get() + end_, size};
}

void MessageDecoder::commit(std::size_t size) {
  assert(size <= prepared_);
  size = std::min(size, prepared_);
  end_ += size;
  prepared_ = 0;
}

void MessageDecoder::feed(std::string_view bytes) {
  if (bytes.empty()) return;
  std::span<char> space = prepare(bytes.size());
  std::memcpy(space.data(), bytes.data(), bytes.size());
  commit(bytes.size());
}

Error MessageDecoder::error(Errc code, std::string detail) const {
  return Error(code, std::move(detail), static_cast<std::size_t>(consumed_));
}

Error MessageDecoder::fail(Error e) {
  failed_ = e;
  return e;
}

Expected<std::optional<Message>> MessageDecoder::next() {
  using Result = Expected<std::optional<Message>>;
  if (failed_) return *failed_;
  const std::size_t available = end_ - begin_;
  if (available < kLengthPrefixSize) return Result(std::nullopt);
  const char* frame = buffer_.get() + begin_;
  const std::uint32_t length = get_u32(frame);
  if (length > max_length_) {
    return fail(
        error(Errc::wire_message_too_long,
              "length prefix " + num(length) + " exceeds the limit of " + num(max_length_)));
  }
  if (length == 0) {
    begin_ += kLengthPrefixSize;
    consumed_ += kLengthPrefixSize;
    return Result(Message(KeepAlive{}));
  }
  if (available < kLengthPrefixSize + 1) return Result(std::nullopt);
  const auto id = static_cast<std::uint8_t>(frame[kLengthPrefixSize]);
  if (auto checked = check_frame(id, length); !checked) return fail(checked.error());
  if (available - kLengthPrefixSize < length) return Result(std::nullopt);

  auto message = parse(id, std::string_view(frame + kLengthPrefixSize + 1, length - 1));
  if (!message) return fail(message.error());
  begin_ += kLengthPrefixSize + length;
  consumed_ += kLengthPrefixSize + length;
  return Result(*message);
}

// Decides from the length prefix and the id alone, before the body is buffered.
Status MessageDecoder::check_frame(std::uint8_t id, std::uint32_t length) const {
  const std::uint32_t payload = length - 1;
  const std::string_view name = id_name(id);
  const int fixed = fixed_payload_size(id);
  if (fixed >= 0) {
    if (payload == static_cast<std::uint32_t>(fixed)) return ok();
    return error(Errc::wire_bad_message, std::string(name) + " message of length " + num(length) +
                                             ", expected " + num(fixed + 1));
  }
  auto too_long = [&](std::string_view what, std::uint64_t size, std::uint64_t limit) {
    return error(Errc::wire_message_too_long, std::string(name) + " message with " +
                                                  std::string(what) + " of " + num(size) +
                                                  " bytes, limit " + num(limit));
  };
  switch (static_cast<MessageId>(id)) {
    case MessageId::bitfield:
      if (geometry_ && payload != geometry_->bitfield_bytes()) {
        return error(Errc::wire_bad_message, "bitfield of " + num(payload) + " bytes, expected " +
                                                 num(geometry_->bitfield_bytes()) + " for " +
                                                 num(geometry_->num_pieces) + " pieces");
      }
      if (!geometry_ && payload > limits_.max_bitfield_length) {
        return too_long("a payload", payload, limits_.max_bitfield_length);
      }
      return ok();
    case MessageId::piece:
      // No valid request asks for 0 bytes, so no valid answer carries none (libtorrent agrees).
      if (payload < 9) {
        return error(Errc::wire_bad_message,
                     "piece message of length " + num(length) + ", expected at least 10");
      }
      if (payload - 8 > limits_.max_block_length) {
        return too_long("a block", payload - 8, limits_.max_block_length);
      }
      return ok();
    case MessageId::extended:
      if (payload < 1) {
        return error(Errc::wire_bad_message, "extended message without an extension id");
      }
      if (payload - 1 > limits_.max_extended_length) {
        return too_long("a payload", payload - 1, limits_.max_extended_length);
      }
      return ok();
    default:
      if (payload > limits_.max_unknown_length) {
        return error(Errc::wire_message_too_long, "message with unknown id " + num(id) + " of " +
                                                      num(payload) + " bytes, limit " +
                                                      num(limits_.max_unknown_length));
      }
      return ok();
  }
}

Expected<PieceIndex> MessageDecoder::piece_index(std::string_view what, std::uint32_t raw) const {
  const bool representable = raw <= static_cast<std::uint32_t>(std::numeric_limits<int>::max());
  if (!representable || (geometry_ && static_cast<std::int64_t>(raw) >= geometry_->num_pieces)) {
    std::string detail = std::string(what) + " for piece " + num(raw);
    if (geometry_) detail += " of a torrent with " + num(geometry_->num_pieces) + " pieces";
    return error(Errc::wire_out_of_range, std::move(detail));
  }
  return PieceIndex(static_cast<std::int32_t>(raw));
}

// A block [offset, offset + length) of `piece` must lie inside that piece.
Status MessageDecoder::check_block(std::string_view what, PieceIndex piece, std::uint32_t offset,
                                   std::uint64_t length) const {
  if (!geometry_) return ok();
  const std::int64_t size = geometry_->piece_size(piece);
  const std::uint64_t end = std::uint64_t{offset} + length;
  if (end <= static_cast<std::uint64_t>(size)) return ok();
  return error(Errc::wire_out_of_range, std::string(what) + " for bytes [" + num(offset) + ", " +
                                            num(end) + ") of piece " + num(piece.value()) +
                                            ", which has " + num(size) + " bytes");
}

Expected<Message> MessageDecoder::parse(std::uint8_t id, std::string_view payload) const {
  const std::string_view name = id_name(id);
  const char* p = payload.data();
  switch (static_cast<MessageId>(id)) {
    case MessageId::choke:
      return Message(Choke{});
    case MessageId::unchoke:
      return Message(Unchoke{});
    case MessageId::interested:
      return Message(Interested{});
    case MessageId::not_interested:
      return Message(NotInterested{});
    case MessageId::have_all:
      return Message(HaveAll{});
    case MessageId::have_none:
      return Message(HaveNone{});
    case MessageId::port:
      return Message(Port{get_u16(p)});
    case MessageId::have:
    case MessageId::suggest:
    case MessageId::allowed_fast: {
      auto piece = piece_index(name, get_u32(p));
      if (!piece) return piece.error();
      if (id == static_cast<std::uint8_t>(MessageId::have)) return Message(Have{*piece});
      if (id == static_cast<std::uint8_t>(MessageId::suggest)) return Message(Suggest{*piece});
      return Message(AllowedFast{*piece});
    }
    case MessageId::request:
    case MessageId::cancel:
    case MessageId::reject: {
      auto piece = piece_index(name, get_u32(p));
      if (!piece) return piece.error();
      const std::uint32_t offset = get_u32(p + 4);
      const std::uint32_t length = get_u32(p + 8);
      if (length == 0) return error(Errc::wire_bad_message, std::string(name) + " for 0 bytes");
      if (length > limits_.max_block_length) {
        return error(Errc::wire_out_of_range, std::string(name) + " for " + num(length) +
                                                  " bytes, limit " + num(limits_.max_block_length));
      }
      if (auto inside = check_block(name, *piece, offset, length); !inside) return inside.error();
      if (id == static_cast<std::uint8_t>(MessageId::request)) {
        return Message(Request{*piece, offset, length});
      }
      if (id == static_cast<std::uint8_t>(MessageId::cancel)) {
        return Message(Cancel{*piece, offset, length});
      }
      return Message(Reject{*piece, offset, length});
    }
    case MessageId::piece: {
      auto piece = piece_index(name, get_u32(p));
      if (!piece) return piece.error();
      const std::uint32_t offset = get_u32(p + 4);
      const std::string_view block = payload.substr(8);
      if (auto inside = check_block(name, *piece, offset, block.size()); !inside) {
        return inside.error();
      }
      return Message(Piece{*piece, offset, block});
    }
    case MessageId::bitfield:
      if (geometry_ &&
          !Bitfield::from_bytes(payload, static_cast<std::size_t>(geometry_->num_pieces))) {
        return error(Errc::wire_bad_message,
                     "bitfield sets spare bits past piece " + num(geometry_->num_pieces - 1));
      }
      return Message(BitfieldMessage{payload});
    case MessageId::extended:
      return Message(Extended{static_cast<std::uint8_t>(payload[0]), payload.substr(1)});
  }
  return Message(Unknown{id, payload});
}

}  // namespace starling::wire
