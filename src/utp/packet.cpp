#include "utp/packet.hpp"

#include <algorithm>
#include <cassert>
#include <string>

#include "utp/error.hpp"

namespace starling::utp {
namespace {

std::uint16_t load16(const std::byte* p) {
  return static_cast<std::uint16_t>((std::to_integer<unsigned>(p[0]) << 8) |
                                    std::to_integer<unsigned>(p[1]));
}

std::uint32_t load32(const std::byte* p) {
  return (std::to_integer<std::uint32_t>(p[0]) << 24) |
         (std::to_integer<std::uint32_t>(p[1]) << 16) |
         (std::to_integer<std::uint32_t>(p[2]) << 8) | std::to_integer<std::uint32_t>(p[3]);
}

void store16(std::byte* p, std::uint16_t v) {
  p[0] = static_cast<std::byte>(v >> 8);
  p[1] = static_cast<std::byte>(v);
}

void store32(std::byte* p, std::uint32_t v) {
  p[0] = static_cast<std::byte>(v >> 24);
  p[1] = static_cast<std::byte>(v >> 16);
  p[2] = static_cast<std::byte>(v >> 8);
  p[3] = static_cast<std::byte>(v);
}

}  // namespace

Expected<PacketView> parse_packet(std::span<const std::byte> datagram) {
  const std::byte* p = datagram.data();
  const std::size_t size = datagram.size();
  if (size < kHeaderSize) {
    return make_error(Errc::short_packet, std::to_string(size) + " bytes", size);
  }
  const unsigned type_version = std::to_integer<unsigned>(p[0]);
  if ((type_version & 0x0F) != kVersion) {
    return make_error(Errc::bad_version, "version " + std::to_string(type_version & 0x0F), 0);
  }
  if ((type_version >> 4) > static_cast<unsigned>(PacketType::syn)) {
    return make_error(Errc::bad_type, "type " + std::to_string(type_version >> 4), 0);
  }
  PacketView view;
  view.header.type = static_cast<PacketType>(type_version >> 4);
  view.header.connection_id = load16(p + 2);
  view.header.timestamp_us = load32(p + 4);
  view.header.timestamp_difference_us = load32(p + 8);
  view.header.wnd_size = load32(p + 12);
  view.header.seq_nr = load16(p + 16);
  view.header.ack_nr = load16(p + 18);

  unsigned extension = std::to_integer<unsigned>(p[1]);
  std::size_t at = kHeaderSize;
  for (int count = 0; extension != kExtensionNone; ++count) {
    if (count == kMaxExtensions) {
      return make_error(Errc::bad_extension, "more than " + std::to_string(kMaxExtensions), at);
    }
    if (size - at < 2) return make_error(Errc::bad_extension, "truncated extension header", at);
    const unsigned next = std::to_integer<unsigned>(p[at]);
    const std::size_t length = std::to_integer<std::size_t>(p[at + 1]);
    if (size - at - 2 < length) {
      return make_error(Errc::bad_extension,
                        "extension " + std::to_string(extension) + " longer than the packet", at);
    }
    if (extension == kExtensionSack) {
      if (length == 0 || length % 4 != 0) {
        return make_error(Errc::bad_extension,
                          "selective ACK of " + std::to_string(length) + " bytes", at);
      }
      if (view.has_sack()) return make_error(Errc::bad_extension, "second selective ACK", at);
      view.sack = datagram.subspan(at + 2, length);
    }
    at += 2 + length;
    extension = next;
  }
  view.payload = datagram.subspan(at);
  return view;
}

Expected<PacketView> parse_packet(std::string_view datagram) {
  return parse_packet(std::as_bytes(std::span(datagram.data(), datagram.size())));
}

std::size_t encode_header(std::span<std::byte> out, const PacketHeader& header,
                          std::span<const std::byte> sack) {
  assert(sack.size() % 4 == 0 && sack.size() <= 255);
  assert(out.size() >= encoded_header_size(sack.size()));
  std::byte* p = out.data();
  p[0] = static_cast<std::byte>((static_cast<unsigned>(header.type) << 4) | kVersion);
  p[1] = static_cast<std::byte>(sack.empty() ? kExtensionNone : kExtensionSack);
  store16(p + 2, header.connection_id);
  store32(p + 4, header.timestamp_us);
  store32(p + 8, header.timestamp_difference_us);
  store32(p + 12, header.wnd_size);
  store16(p + 16, header.seq_nr);
  store16(p + 18, header.ack_nr);
  if (sack.empty()) return kHeaderSize;
  p[20] = static_cast<std::byte>(kExtensionNone);
  p[21] = static_cast<std::byte>(sack.size());
  std::copy(sack.begin(), sack.end(), p + 22);
  return encoded_header_size(sack.size());
}

std::size_t encode_reset_reply(std::span<std::byte> out, const PacketHeader& stray,
                               std::uint32_t timestamp_us) {
  PacketHeader reset;
  reset.type = PacketType::reset;
  reset.connection_id = stray.connection_id;
  reset.timestamp_us = timestamp_us;
  reset.timestamp_difference_us = timestamp_us - stray.timestamp_us;
  reset.ack_nr = stray.seq_nr;
  return encode_header(out, reset);
}

}  // namespace starling::utp
