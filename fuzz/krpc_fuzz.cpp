// decode_krpc must never crash; what it accepts must encode and decode again to the same
// message; and a DHT node fed the datagram must neither crash nor answer with more than one
// datagram.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "dht/dht_node.hpp"
#include "dht/krpc.hpp"

using namespace starling::dht;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  static const auto now = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  static DhtNode node(NodeId{}, now, 1);
  const PeerAddress from{*starling::tracker::IpAddress::parse("10.0.0.1"), 4000};
  node.on_datagram(from, input, now);
  if (node.take_outgoing().size() > 1) std::abort();
  (void)node.take_found();

  auto m = decode_krpc(input);
  if (!m) return 0;
  auto again = decode_krpc(encode_krpc(*m));
  if (!again) std::abort();
  const bool same = again->transaction == m->transaction && again->kind == m->kind &&
                    again->id == m->id && again->nodes == m->nodes && again->values == m->values &&
                    again->error_code == m->error_code &&
                    again->error_message == m->error_message &&
                    (m->kind != MessageKind::query || again->method_name == m->method_name) &&
                    (m->kind != MessageKind::response || again->token == m->token);
  if (!same) std::abort();
  return 0;
}
