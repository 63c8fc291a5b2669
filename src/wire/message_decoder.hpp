// Incremental, sans-IO decoder for the peer wire message stream that follows the handshake.
//
// The socket reads straight into the decoder's buffer, so bytes are copied once, by the kernel:
//
//   std::span<char> space = decoder.prepare(64 * 1024);
//   decoder.commit(read(fd, space.data(), space.size()));
//   for (;;) {
//     auto message = decoder.next();
//     if (!message) return close(message.error().message());  // the stream is invalid
//     if (!*message) break;                                     // more bytes needed
//     handle(**message);
//   }
//
// feed() is the copying form for bytes that already sit elsewhere (uTP payloads, tests).
// Views inside a decoded message (bitfield, block, extended payload) point into the buffer and
// stay valid until the next prepare() or feed(); next() and commit() never move bytes. share()
// turns such a view into SharedBytes that outlive that: the buffer is reference-counted, and while
// any part of it is shared the decoder never writes over received bytes: it moves the undecoded
// tail (less than one message) to a fresh buffer instead. A received block thus reaches the disk
// with no copy in user space.
//
// Every length is checked as soon as it is known: the length prefix against the largest message
// the limits allow once its 4 bytes arrive, then against the limit of its id once the id byte
// arrives, before any of the body is buffered. Memory is therefore bounded by one longest
// message plus one read, provided next() is drained before the next read; an emptied buffer that
// grew past 256 KiB is given back. Messages with an unknown id are returned as Unknown; fast and
// extended messages are decoded whether or not the handshake negotiated them (enforcing that is
// the connection's job). After an error, next() keeps returning that error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

#include "core/expected.hpp"
#include "core/shared_bytes.hpp"
#include "wire/message.hpp"

namespace starling::wire {

class MessageDecoder {
 public:
  explicit MessageDecoder(const WireLimits& limits = {});

  // Enables range checks of piece indexes, offsets, lengths and bitfields from the next message
  // on. Errc::invalid_argument when the geometry is not valid().
  Status set_geometry(const PieceGeometry& geometry);
  const std::optional<PieceGeometry>& geometry() const { return geometry_; }
  const WireLimits& limits() const { return limits_; }

  // Writable space for exactly `size` bytes; then commit() how many were written (up to size).
  std::span<char> prepare(std::size_t size);
  void commit(std::size_t size);
  void feed(std::string_view bytes);

  // The next complete message; nullopt when more bytes are needed; an Error (whose offset is the
  // message's position in the stream) when the stream is invalid and the connection must close.
  Expected<std::optional<Message>> next();

  // `inside` must be a view from a message that next() returned since the last prepare()/feed().
  SharedBytes share(std::string_view inside) const { return {buffer_, inside}; }

  std::size_t buffered() const { return end_ - begin_; }  // received, not yet decoded
  std::size_t capacity() const { return capacity_; }
  std::uint64_t consumed() const { return consumed_; }  // stream bytes decoded so far
  // Longest frame (length prefix included) the limits and geometry accept.
  std::size_t max_frame_size() const { return kLengthPrefixSize + max_length_; }

 private:
  void update_max_length();
  Status check_frame(std::uint8_t id, std::uint32_t length) const;
  Expected<Message> parse(std::uint8_t id, std::string_view payload) const;
  Expected<PieceIndex> piece_index(std::string_view what, std::uint32_t raw) const;
  Status check_block(std::string_view what, PieceIndex piece, std::uint32_t offset,
                     std::uint64_t length) const;
  Error error(Errc code, std::string detail) const;
  Error fail(Error e);

  WireLimits limits_;
  std::optional<PieceGeometry> geometry_;
  std::uint32_t max_length_ = 0;  // largest length prefix accepted

  std::shared_ptr<char[]> buffer_;
  std::size_t capacity_ = 0;
  std::size_t begin_ = 0;     // first byte not yet decoded
  std::size_t end_ = 0;       // one past the last received byte
  std::size_t prepared_ = 0;  // bytes the last prepare() offered
  std::uint64_t consumed_ = 0;
  std::optional<Error> failed_;
};

}  // namespace starling::wire
