// Hostile datagrams into uTP connections. The input is a sequence of records
//   [control byte][length, 2 bytes big-endian][datagram]
// Each datagram goes through parse_packet() and, if it parses, into an outgoing connection (which
// sent a SYN with recv id 0x1000, seq 1) or an incoming one (created by the first SYN aimed at
// it). The control byte also advances the clock, writes and reads application data, closes, and
// can wire the two connections to each other so the fuzzer reaches established states. After
// every record both connections handle their timeouts and are drained with poll_transmit();
// whatever they send must parse, and no buffer may exceed its bound.
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <span>
#include <vector>

#include "utp/connection.hpp"
#include "utp/packet.hpp"

namespace {

using namespace starling::utp;

struct Controller : CongestionControl {
  std::uint32_t window = 64 * 1024;
  std::uint32_t packet = 1000;
  void on_ack(const AckEvent&) override {}
  void on_loss(TimePoint, Duration) override { window = std::max(window / 2, packet); }
  void on_timeout(TimePoint) override { window = packet; }
  void set_packet_size(std::uint32_t bytes) override {
    if (bytes == 0) std::abort();
    packet = bytes;
  }
  std::uint32_t window_bytes() const override { return window; }
};

ConnectionSettings small_settings() {
  ConnectionSettings s;
  s.send_buffer_bytes = 32 * 1024;
  s.receive_buffer_bytes = 16 * 1024;
  s.max_reorder_packets = 64;
  s.max_packets_in_flight = 64;
  return s;
}

void check(const Connection& c, const ConnectionSettings& s) {
  if (c.readable() > s.receive_buffer_bytes) std::abort();
  if (c.unacknowledged() > s.send_buffer_bytes) std::abort();
  if (c.bytes_in_flight() > s.send_buffer_bytes) std::abort();
  if (c.receive_window() > s.receive_buffer_bytes) std::abort();
  if (c.packet_size() > c.max_packet_size()) std::abort();
}

// Drains `c`; every datagram must parse, and goes to `deliver`.
template <class Deliver>
void drain(Connection& c, TimePoint now, std::vector<std::byte>& buffer, Deliver&& deliver) {
  for (int i = 0; i < 10000; ++i) {
    auto n = c.poll_transmit(now, buffer);
    if (!n) return;
    if (*n > buffer.size()) std::abort();
    auto packet = parse_packet(std::span<const std::byte>(buffer.data(), *n));
    if (!packet) std::abort();
    deliver(*packet);
  }
  std::abort();  // poll_transmit never ran dry
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ConnectionSettings settings = small_settings();
  Controller cc_out, cc_in;
  TimePoint now = TimePoint{} + std::chrono::seconds(1000);
  Connection out = Connection::outgoing(cc_out, 0x1000, 1, settings);
  out.set_max_packet_size(9000);
  out.connect(now);
  std::optional<Connection> in;
  std::vector<std::byte> buffer(9000);
  std::array<std::byte, 4096> app{};
  for (std::size_t i = 0; i < app.size(); ++i) app[i] = static_cast<std::byte>(i * 7);

  std::span<const std::byte> input(reinterpret_cast<const std::byte*>(data), size);
  while (input.size() >= 3) {
    const unsigned control = std::to_integer<unsigned>(input[0]);
    const std::size_t length = std::min<std::size_t>(
        (std::to_integer<std::size_t>(input[1]) << 8) | std::to_integer<std::size_t>(input[2]),
        input.size() - 3);
    const auto datagram = input.subspan(3, length);
    input = input.subspan(3 + length);

    now += std::chrono::milliseconds((control & 0x07) * (control & 0x08 ? 1000 : 20));
    if (auto packet = parse_packet(datagram)) {
      if (control & 0x10) {
        if (!in) {
          auto conn = Connection::incoming(now, *packet, cc_in, 5000, settings);
          if (conn) in.emplace(std::move(*conn));
        } else {
          in->handle_packet(now, *packet);
        }
      } else {
        out.handle_packet(now, *packet);
      }
    }
    if (control & 0x20) {
      out.write(std::span(app).first(length % app.size()));
      if (in) in->write(std::span(app).first((length * 3) % app.size()));
    }
    if (control & 0x40) {
      std::array<std::byte, 2048> sink;
      out.read(sink);
      if (in) in->read(sink);
    }
    if ((control & 0xC0) == 0xC0) (length & 1 ? out : (in ? *in : out)).close();
    if (length == 0xABC) out.abort();

    for (Connection* c : {&out, in ? &*in : nullptr}) {
      if (!c) continue;
      if (auto deadline = c->next_deadline(); deadline && *deadline <= now) c->handle_timeout(now);
    }
    // Wired: the two connections talk to each other, so the fuzzer's packets meet real state.
    const bool wired = (control & 0x80) && (control & 0x40) == 0;
    drain(out, now, buffer, [&](const PacketView& packet) {
      if (!wired) return;
      if (in) {
        in->handle_packet(now, packet);
      } else if (auto conn = Connection::incoming(now, packet, cc_in, 5000, settings)) {
        in.emplace(std::move(*conn));
      }
    });
    if (in) {
      drain(*in, now, buffer, [&](const PacketView& packet) {
        if (wired) out.handle_packet(now, packet);
      });
    }
    check(out, settings);
    if (in) check(*in, settings);
  }
  return 0;
}
