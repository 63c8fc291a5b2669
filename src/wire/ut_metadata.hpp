// BEP 9 ut_metadata messages: a bencoded dict ({msg_type, piece[, total_size]}) followed, for a
// data message, by up to 16 KiB of the info dictionary. Sans-IO: payloads in, payloads out.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/expected.hpp"

namespace starling::wire {

// The name in the BEP 10 "m" dict, and the id we ask peers to send it to us under.
inline constexpr std::string_view kUtMetadataName = "ut_metadata";
inline constexpr std::uint8_t kOurUtMetadataId = 2;
// Metadata travels in pieces of 16 KiB; the last one may be shorter.
inline constexpr std::int64_t kMetadataPieceSize = std::int64_t{16} * 1024;

enum class MetadataMessageType : std::uint8_t { request = 0, data = 1, reject = 2 };

struct MetadataMessage {
  MetadataMessageType type = MetadataMessageType::request;
  std::int32_t piece = 0;
  std::int64_t total_size = 0;  // data only
  std::string_view data;        // data only: the bytes after the dict (a view into the payload)
  friend bool operator==(const MetadataMessage&, const MetadataMessage&) = default;
};

// `payload` is the extended message's payload after the extension id byte. Errors
// (Errc::wire_bad_metadata_message) name the field and byte offset. An unknown msg_type is an
// error the caller may ignore (BEP 9 says to ignore such messages).
Expected<MetadataMessage> parse_metadata_message(std::string_view payload);

std::string encode_metadata_request(std::int32_t piece);
std::string encode_metadata_reject(std::int32_t piece);
std::string encode_metadata_data(std::int32_t piece, std::int64_t total_size,
                                 std::string_view data);

// Number of pieces for metadata of `size` bytes.
constexpr std::int32_t metadata_pieces(std::int64_t size) {
  return static_cast<std::int32_t>((size + kMetadataPieceSize - 1) / kMetadataPieceSize);
}

}  // namespace starling::wire
