// Fuzzes the peer wire codec. The first byte picks the setup:
//   bit 0     the input starts with a 68-byte handshake, parsed whole and as a 48-byte prefix
//   bits 1-3  how the stream is cut into reads (1, 2, 3, 7, 64, 1500 bytes, all, or varying)
//   bits 4-5  the piece geometry: none or one of three torrents
//   bit 6     tiny limits, so that length errors are reachable with short inputs
//   bit 7     reads go through prepare()/commit() instead of feed()
// Every decoded message must re-encode to exactly the bytes it came from and decode again to
// itself; extension handshakes must survive encode/parse; errors must point at the message.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "core/bitfield.hpp"
#include "wire/extension_handshake.hpp"
#include "wire/handshake.hpp"
#include "wire/message_decoder.hpp"
#include "wire/message_encoder.hpp"

namespace {

using namespace starling;
using namespace starling::wire;

#define FUZZ_CHECK(cond)                                                                \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "wire_fuzz: check failed: %s (line %d)\n", #cond, __LINE__); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)

void check_handshake(std::string_view bytes) {
  const auto full = parse_handshake(bytes);
  const auto prefix = parse_handshake_prefix(bytes.substr(0, kHandshakePrefixSize));
  FUZZ_CHECK(full.has_value() == prefix.has_value());
  if (full) {
    FUZZ_CHECK(encode_handshake(*full) == bytes);
    FUZZ_CHECK(prefix->reserved == full->reserved && prefix->info_hash == full->info_hash);
    FUZZ_CHECK(full->supports_fast() == ((bytes[27] & 0x04) != 0));
    FUZZ_CHECK(full->supports_extensions() == ((bytes[25] & 0x10) != 0));
  } else {
    FUZZ_CHECK(full.error().code == make_error_code(Errc::wire_bad_handshake));
    FUZZ_CHECK(full.error().code == prefix.error().code);
    FUZZ_CHECK(full.error().offset == prefix.error().offset);
  }
}

void check_extension_handshake(std::string_view payload) {
  const auto h = parse_extension_handshake(payload);
  if (!h) {
    FUZZ_CHECK(h.error().code == make_error_code(Errc::wire_bad_extension_handshake));
    return;
  }
  const std::string encoded = encode_extension_handshake(*h);
  const auto again = parse_extension_handshake(encoded);
  FUZZ_CHECK(again && *again == *h);
  FUZZ_CHECK(encode_extension_handshake(*again) == encoded);
}

bool is_wire_error(const Error& e) {
  for (Errc code : {Errc::wire_message_too_long, Errc::wire_bad_message, Errc::wire_out_of_range}) {
    if (e.code == make_error_code(code)) return true;
  }
  return false;
}

struct Setup {
  WireLimits limits;
  std::optional<PieceGeometry> geometry;
};

MessageDecoder make_decoder(const Setup& setup) {
  MessageDecoder d(setup.limits);
  if (setup.geometry) FUZZ_CHECK(d.set_geometry(*setup.geometry));
  return d;
}

// `frame` is exactly the bytes `m` was decoded from.
void check_message(const Message& m, std::string_view frame, const Setup& setup) {
  const std::string encoded = encode(m);
  FUZZ_CHECK(encoded == frame);
  FUZZ_CHECK(encoded_size(m) == encoded.size());

  MessageDecoder fresh = make_decoder(setup);
  fresh.feed(encoded);
  const auto again = fresh.next();
  FUZZ_CHECK(again && again->has_value() && **again == m);
  const auto end = fresh.next();
  FUZZ_CHECK(end && !end->has_value());

  if (const auto* piece = std::get_if<Piece>(&m)) {
    FUZZ_CHECK(!piece->block.empty() && piece->block.size() <= setup.limits.max_block_length);
    if (setup.geometry) {
      FUZZ_CHECK(piece->offset + piece->block.size() <=
                 static_cast<std::uint64_t>(setup.geometry->piece_size(piece->piece)));
    }
    std::string header;
    encode_piece_header(header, piece->piece, piece->offset,
                        static_cast<std::uint32_t>(piece->block.size()));
    FUZZ_CHECK(header == frame.substr(0, kPieceHeaderSize));
  } else if (const auto* bits = std::get_if<BitfieldMessage>(&m); bits && setup.geometry) {
    FUZZ_CHECK(
        Bitfield::from_bytes(bits->bits, static_cast<std::size_t>(setup.geometry->num_pieces)));
  } else if (const auto* ext = std::get_if<Extended>(&m); ext && ext->id == kExtensionHandshakeId) {
    check_extension_handshake(ext->payload);
  } else if (const auto* request = std::get_if<Request>(&m)) {
    FUZZ_CHECK(request->length > 0 && request->length <= setup.limits.max_block_length);
  }
}

std::size_t chunk_size(unsigned mode, std::size_t round, std::size_t left) {
  static constexpr std::size_t kSizes[] = {1, 2, 3, 7, 64, 1500, static_cast<std::size_t>(-1)};
  std::size_t n = mode < 7 ? kSizes[mode] : 1 + (round * 2654435761u) % 97;
  return std::min(n, left);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t setup_byte = data[0];
  std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);

  if ((setup_byte & 0x01) != 0) {
    if (stream.size() < kHandshakeSize) return 0;
    check_handshake(stream.substr(0, kHandshakeSize));
    stream.remove_prefix(kHandshakeSize);
  }

  Setup setup;
  switch ((setup_byte >> 4) & 0x03) {
    case 1:
      setup.geometry = PieceGeometry{10, 65536, std::int64_t{9} * 65536 + 1000};
      break;
    case 2:
      setup.geometry = PieceGeometry{1, 16384, 1};
      break;
    case 3:
      setup.geometry = PieceGeometry{1000, 16384, std::int64_t{1000} * 16384};
      break;
    default:
      break;
  }
  if ((setup_byte & 0x40) != 0) {
    setup.limits.max_block_length = 64;
    setup.limits.max_extended_length = 256;
    setup.limits.max_bitfield_length = 16;
    setup.limits.max_unknown_length = 32;
  }
  const unsigned chunking = (setup_byte >> 1) & 0x07;
  const bool in_place = (setup_byte & 0x80) != 0;

  MessageDecoder decoder = make_decoder(setup);
  std::size_t largest_read = 0;
  std::size_t at = 0;
  for (std::size_t round = 0; at < stream.size(); ++round) {
    const std::size_t n = chunk_size(chunking, round, stream.size() - at);
    if (in_place) {
      const auto space = decoder.prepare(n);
      FUZZ_CHECK(space.size() == n);
      std::memcpy(space.data(), stream.data() + at, n);
      decoder.commit(n);
    } else {
      decoder.feed(stream.substr(at, n));
    }
    at += n;
    largest_read = std::max(largest_read, n);
    FUZZ_CHECK(decoder.capacity() <= decoder.max_frame_size() + largest_read);

    for (;;) {
      const std::uint64_t start = decoder.consumed();
      const auto m = decoder.next();
      if (!m) {
        FUZZ_CHECK(is_wire_error(m.error()));
        FUZZ_CHECK(m.error().offset == start);
        const auto again = decoder.next();  // errors are final
        FUZZ_CHECK(!again && again.error().detail == m.error().detail);
        return 0;
      }
      if (!*m) break;
      const std::uint64_t end = decoder.consumed();
      FUZZ_CHECK(end > start && end <= at);
      check_message(**m, stream.substr(start, end - start), setup);
    }
    FUZZ_CHECK(decoder.consumed() + decoder.buffered() == at);
  }
  return 0;
}
