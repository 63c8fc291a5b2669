// One error model for the whole project: a std::error_code in the starling category, plus the
// human detail (what and where) that a user needs to fix the input.
#pragma once

#include <cstddef>
#include <string>
#include <system_error>

namespace starling {

enum class Errc {
  ok = 0,
  // bencode
  bencode_truncated,
  bencode_unexpected_byte,
  bencode_leading_zero,
  bencode_negative_zero,
  bencode_integer_overflow,
  bencode_length_overflow,
  bencode_too_deep,
  bencode_too_many_elements,
  bencode_unsorted_keys,
  bencode_duplicate_key,
  bencode_trailing_data,
  // metainfo
  metainfo_not_a_dict,
  metainfo_missing_field,
  metainfo_bad_field,
  metainfo_unsafe_path,
  metainfo_not_canonical,
  // magnet
  magnet_bad_uri,
  // files and disks
  io_error,
  // command-line and other user input
  invalid_argument,
  // peer wire
  wire_bad_handshake,
  wire_message_too_long,
  wire_bad_message,
  wire_out_of_range,
  wire_bad_extension_handshake,
  // trackers
  tracker_bad_request,
  tracker_bad_reply,
  tracker_bad_packet,
  tracker_not_allowed,
  tracker_full,
  tracker_http_status,
  // web seeds (BEP 19)
  webseed_bad_url,
  webseed_bad_reply,
  webseed_http_status,
  // BEP 9 metadata exchange and the BEP 5 DHT
  wire_bad_metadata_message,
  metadata_hash_mismatch,
  dht_bad_message,
};

const std::error_category& error_category() noexcept;
std::error_code make_error_code(Errc e) noexcept;

// A failure with enough detail to name what was wrong and where.
struct Error {
  static constexpr std::size_t no_offset = static_cast<std::size_t>(-1);

  std::error_code code;
  std::string detail;              // e.g. "key 'piece length'" or a file path
  std::size_t offset = no_offset;  // byte offset into the parsed input, when there is one

  Error() = default;
  Error(Errc e, std::string detail_text, std::size_t at = no_offset)
      : code(make_error_code(e)), detail(std::move(detail_text)), offset(at) {}
  Error(std::error_code c, std::string detail_text) : code(c), detail(std::move(detail_text)) {}

  bool has_offset() const { return offset != no_offset; }
  // "<what>: <detail> (at byte N)"
  std::string message() const;
};

}  // namespace starling

template <>
struct std::is_error_code_enum<starling::Errc> : std::true_type {};
