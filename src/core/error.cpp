#include "core/error.hpp"

namespace starling {
namespace {

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "starling"; }
  std::string message(int value) const override {
    switch (static_cast<Errc>(value)) {
      case Errc::ok:
        return "success";
      case Errc::bencode_truncated:
        return "bencode: truncated input";
      case Errc::bencode_unexpected_byte:
        return "bencode: unexpected byte";
      case Errc::bencode_leading_zero:
        return "bencode: number with a leading zero";
      case Errc::bencode_negative_zero:
        return "bencode: negative zero";
      case Errc::bencode_integer_overflow:
        return "bencode: integer out of range";
      case Errc::bencode_length_overflow:
        return "bencode: string length beyond the input";
      case Errc::bencode_too_deep:
        return "bencode: nesting too deep";
      case Errc::bencode_too_many_elements:
        return "bencode: too many elements";
      case Errc::bencode_unsorted_keys:
        return "bencode: dictionary keys not sorted";
      case Errc::bencode_duplicate_key:
        return "bencode: duplicate dictionary key";
      case Errc::bencode_trailing_data:
        return "bencode: trailing data after the value";
      case Errc::metainfo_not_a_dict:
        return "torrent: not a bencoded dictionary";
      case Errc::metainfo_missing_field:
        return "torrent: missing field";
      case Errc::metainfo_bad_field:
        return "torrent: invalid field";
      case Errc::metainfo_unsafe_path:
        return "torrent: unsafe file path";
      case Errc::metainfo_not_canonical:
        return "torrent: info dictionary is not canonical bencode";
      case Errc::magnet_bad_uri:
        return "magnet: invalid URI";
      case Errc::io_error:
        return "I/O error";
      case Errc::invalid_argument:
        return "invalid argument";
      case Errc::wire_bad_handshake:
        return "peer wire: invalid handshake";
      case Errc::wire_message_too_long:
        return "peer wire: message longer than the limit";
      case Errc::wire_bad_message:
        return "peer wire: malformed message";
      case Errc::wire_out_of_range:
        return "peer wire: piece, offset or length out of range";
      case Errc::wire_bad_extension_handshake:
        return "peer wire: invalid extension handshake";
      case Errc::tracker_bad_request:
        return "tracker: malformed request";
      case Errc::tracker_bad_reply:
        return "tracker: malformed reply";
      case Errc::tracker_bad_packet:
        return "tracker: malformed UDP packet";
      case Errc::tracker_not_allowed:
        return "tracker: torrent not allowed";
      case Errc::tracker_full:
        return "tracker: capacity reached";
      case Errc::tracker_http_status:
        return "HTTP error";
      case Errc::webseed_bad_url:
        return "web seed: bad URL";
      case Errc::webseed_bad_reply:
        return "web seed: bad reply";
      case Errc::webseed_http_status:
        return "web seed: HTTP error";
      case Errc::wire_bad_metadata_message:
        return "peer wire: malformed ut_metadata message";
      case Errc::metadata_hash_mismatch:
        return "metadata: does not match the info-hash";
      case Errc::dht_bad_message:
        return "dht: malformed KRPC message";
    }
    return "unknown error";
  }
};

}  // namespace

const std::error_category& error_category() noexcept {
  static const Category category;
  return category;
}

std::error_code make_error_code(Errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

std::string Error::message() const {
  std::string out = code.message();
  if (!detail.empty()) out += ": " + detail;
  if (has_offset()) out += " (at byte " + std::to_string(offset) + ")";
  return out;
}

}  // namespace starling
