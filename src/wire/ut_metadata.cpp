#include "wire/ut_metadata.hpp"

#include "bencode/decoder.hpp"
#include "bencode/encoder.hpp"

namespace starling::wire {
namespace {

Error bad(std::string detail, std::size_t at) {
  return Error(Errc::wire_bad_metadata_message, std::move(detail), at);
}

std::string encode_header(MetadataMessageType type, std::int32_t piece, std::int64_t total_size) {
  std::string out;
  bencode::Encoder e(out);
  e.begin_dict();
  e.string("msg_type");
  e.integer(static_cast<std::int64_t>(type));
  e.string("piece");
  e.integer(piece);
  if (type == MetadataMessageType::data) {
    e.string("total_size");
    e.integer(total_size);
  }
  e.end();
  return out;
}

}  // namespace

Expected<MetadataMessage> parse_metadata_message(std::string_view payload) {
  bencode::DecodeLimits limits;
  limits.max_depth = 4;
  limits.max_elements = 64;
  limits.require_sorted_keys = false;
  const auto doc = bencode::decode_prefix(payload, limits);
  if (!doc) return bad("not bencode: " + doc.error().code.message(), doc.error().offset);
  const bencode::Node root = doc->root();
  if (!root.is_dict()) return bad("not a dictionary", 0);
  const auto type = root.find_int("msg_type");
  if (!type) return bad("missing integer 'msg_type'", 0);
  if (*type < 0 || *type > 2) return bad("unknown msg_type " + std::to_string(*type), 0);
  const auto piece = root.find_int("piece");
  // 2^31 pieces of 16 KiB is far beyond any size we accept; callers check the real range.
  if (!piece || *piece < 0 || *piece > INT32_MAX) return bad("missing or bad 'piece'", 0);
  MetadataMessage m;
  m.type = static_cast<MetadataMessageType>(*type);
  m.piece = static_cast<std::int32_t>(*piece);
  if (m.type == MetadataMessageType::data) {
    const auto total = root.find_int("total_size");
    if (!total || *total <= 0) return bad("data without a positive 'total_size'", 0);
    m.total_size = *total;
    m.data = payload.substr(doc->consumed());
  }
  return m;
}

std::string encode_metadata_request(std::int32_t piece) {
  return encode_header(MetadataMessageType::request, piece, 0);
}

std::string encode_metadata_reject(std::int32_t piece) {
  return encode_header(MetadataMessageType::reject, piece, 0);
}

std::string encode_metadata_data(std::int32_t piece, std::int64_t total_size,
                                 std::string_view data) {
  std::string out = encode_header(MetadataMessageType::data, piece, total_size);
  out.append(data);
  return out;
}

}  // namespace starling::wire
