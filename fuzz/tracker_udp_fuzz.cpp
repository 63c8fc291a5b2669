// BEP 15 packets from anyone: the request and response parsers must never crash, and whatever
// they accept must encode to bytes that parse back to the same packet.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <variant>

#include "tracker/udp_codec.hpp"

namespace {

std::span<const std::uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace starling::tracker::udp;
  const std::span<const std::uint8_t> input(data, size);
  if (auto request = parse_request(input)) {
    std::string wire;
    std::visit([&](const auto& packet) { encode(wire, packet); }, *request);
    auto again = parse_request(bytes(wire));
    if (!again || !(*again == *request)) std::abort();
  }
  for (bool v6 : {false, true}) {
    if (auto response = parse_response(input, v6)) {
      std::string wire;
      std::visit([&](const auto& packet) { encode(wire, packet); }, *response);
      auto again = parse_response(bytes(wire), v6);
      if (!again || !(*again == *response)) std::abort();
    }
  }
  return 0;
}
