// parse_pex must never crash; what it accepts must survive encode_pex and parse_pex unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "wire/ut_pex.hpp"

using namespace starling::wire;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto m = parse_pex(input);
  if (!m) return 0;
  auto again = parse_pex(encode_pex(*m));
  if (!again || again->added != m->added || again->added_flags != m->added_flags ||
      again->dropped != m->dropped) {
    std::abort();
  }
  return 0;
}
