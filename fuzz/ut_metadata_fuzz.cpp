// parse_metadata_message must never crash; what it accepts must survive encoding and parsing
// again unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "wire/ut_metadata.hpp"

using namespace starling::wire;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto m = parse_metadata_message(input);
  if (!m) return 0;
  std::string encoded;
  switch (m->type) {
    case MetadataMessageType::request:
      encoded = encode_metadata_request(m->piece);
      break;
    case MetadataMessageType::reject:
      encoded = encode_metadata_reject(m->piece);
      break;
    case MetadataMessageType::data:
      encoded = encode_metadata_data(m->piece, m->total_size, m->data);
      break;
  }
  auto again = parse_metadata_message(encoded);
  if (!again || !(*again == *m)) std::abort();
  return 0;
}
