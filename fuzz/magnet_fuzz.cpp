// parse_magnet must never crash, and whatever it accepts must survive format_magnet and parse
// again unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "metainfo/magnet.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto magnet = starling::parse_magnet(input);
  if (!magnet) return 0;
  auto again = starling::parse_magnet(starling::format_magnet(*magnet));
  if (!again || !(*again == *magnet)) std::abort();
  return 0;
}
