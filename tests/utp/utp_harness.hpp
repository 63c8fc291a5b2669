// A deterministic in-memory network for uTP connection tests: two connections, a simulated
// clock, and a link per direction with a fixed delay, scripted loss, extra delay (reordering),
// duplication and an MTU for "don't fragment" datagrams. Nothing here touches a socket or a
// real clock, so every run of a test sees exactly the same packets at the same times.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <optional>
#include <random>
#include <vector>

#include "utp/connection.hpp"

namespace starling::utp::testing {

using namespace std::chrono_literals;

// A fixed window, or (aimd = true) a simple additive-increase / multiplicative-decrease one;
// records what the connection told it.
struct TestController : CongestionControl {
  std::uint32_t window = 256 * 1024;
  bool aimd = false;
  std::uint32_t packet_size = 0;
  int losses = 0;
  int timeouts = 0;
  std::vector<TimePoint> timeout_times;
  std::uint64_t bytes_acked = 0;
  std::uint32_t last_delay_sample_us = 0;
  std::vector<std::uint32_t> packet_sizes;

  void on_ack(const AckEvent& ack) override {
    bytes_acked += ack.bytes_acked;
    if (ack.delay_sample_us != 0) last_delay_sample_us = ack.delay_sample_us;
    if (aimd) window += std::max<std::uint32_t>(1, packet_size * ack.bytes_acked / window);
  }
  void on_loss(TimePoint, Duration) override {
    ++losses;
    if (aimd) window = std::max(window / 2, packet_size);
  }
  void on_timeout(TimePoint now) override {
    ++timeouts;
    timeout_times.push_back(now);
    if (aimd) window = packet_size;
  }
  void set_packet_size(std::uint32_t bytes) override {
    packet_size = bytes;
    packet_sizes.push_back(bytes);
  }
  std::uint32_t window_bytes() const override { return window; }
};

struct Datagram {
  TimePoint deliver_at;
  std::uint64_t order = 0;  // ties keep sending order
  std::vector<std::byte> bytes;
};

// One direction. `index` counts datagrams handed to the link, from 0.
struct Link {
  Duration delay = 10ms;
  // Scripted loss: return true to drop datagram `index`.
  std::function<bool(std::uint64_t index, const PacketView&)> drop;
  // Extra delay for datagram `index` (reordering).
  std::function<Duration(std::uint64_t index)> jitter;
  // Deliver datagram `index` twice.
  std::function<bool(std::uint64_t index)> duplicate;
  // Datagrams sent with "don't fragment" and larger than this are dropped (0 = no limit).
  std::size_t mtu = 0;

  std::uint64_t sent = 0;
  std::uint64_t dropped = 0;
  std::vector<Datagram> queue;

  void send(TimePoint now, std::span<const std::byte> bytes, bool dont_fragment) {
    const std::uint64_t index = sent++;
    auto packet = parse_packet(bytes);
    EXPECT_TRUE(packet) << packet.error().message();
    if ((mtu != 0 && dont_fragment && bytes.size() > mtu) || (drop && drop(index, *packet))) {
      ++dropped;
      return;
    }
    const Duration extra = jitter ? jitter(index) : Duration::zero();
    const int copies = duplicate && duplicate(index) ? 2 : 1;
    for (int i = 0; i < copies; ++i) {
      queue.push_back({now + delay + extra + i * 1us, index, {bytes.begin(), bytes.end()}});
    }
  }
  std::optional<TimePoint> next() const {
    if (queue.empty()) return std::nullopt;
    return std::min_element(queue.begin(), queue.end(),
                            [](auto& x, auto& y) { return x.deliver_at < y.deliver_at; })
        ->deliver_at;
  }
  // Everything due at `now`, in delivery order.
  std::vector<Datagram> take_due(TimePoint now) {
    std::vector<Datagram> due;
    auto split = std::stable_partition(queue.begin(), queue.end(),
                                       [&](const Datagram& d) { return d.deliver_at > now; });
    due.assign(std::make_move_iterator(split), std::make_move_iterator(queue.end()));
    queue.erase(split, queue.end());
    std::stable_sort(due.begin(), due.end(), [](auto& x, auto& y) {
      return x.deliver_at != y.deliver_at ? x.deliver_at < y.deliver_at : x.order < y.order;
    });
    return due;
  }
};

inline std::vector<std::byte> random_bytes(std::size_t size, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::byte> out(size);
  for (auto& b : out) b = static_cast<std::byte>(rng());
  return out;
}

// Side A dials side B; B's connection appears when A's SYN arrives.
class Network {
 public:
  explicit Network(ConnectionSettings settings = {}, std::uint16_t a_seq = 1000,
                   std::uint16_t b_seq = 30000)
      : settings_a(settings), settings_b(settings), b_seq_(b_seq) {
    a.emplace(Connection::outgoing(cc_a, 0x1234, a_seq, settings_a));
  }

  TimePoint now = TimePoint{} + 1000s;
  TestController cc_a, cc_b;
  ConnectionSettings settings_a, settings_b;
  std::optional<Connection> a, b;
  Link ab, ba;
  std::size_t max_packet_b = 65507;  // B's ceiling, applied when B's connection is created
  // Called after every datagram A sends, with its payload size.
  std::function<void(std::size_t payload)> after_a_sends;
  // The application: runs after every step.
  std::function<void()> app;
  std::uint64_t acks_from_b = 0;

  void connect() {
    a->connect(now);
    flush();
  }

  void flush() {
    flush_one(*a, ab, true);
    if (b) flush_one(*b, ba, false);
  }

  // Advances to the next event (if it is due by `end`) and handles it. False when nothing is
  // left to happen by then.
  bool step(TimePoint end = TimePoint::max()) {
    std::optional<TimePoint> next;
    auto take = [&](std::optional<TimePoint> t) {
      if (t && (!next || *t < *next)) next = t;
    };
    take(ab.next());
    take(ba.next());
    take(a->next_deadline());
    if (b) take(b->next_deadline());
    if (!next || *next > end) {
      if (end != TimePoint::max()) now = std::max(now, end);
      return false;
    }
    now = std::max(now, *next);
    for (Datagram& d : ab.take_due(now)) deliver_to_b(d);
    for (Datagram& d : ba.take_due(now)) {
      auto packet = parse_packet(std::span<const std::byte>(d.bytes));
      a->handle_packet(now, *packet);
    }
    for (Connection* c : {&*a, b ? &*b : nullptr}) {
      if (c && c->next_deadline() && *c->next_deadline() <= now) c->handle_timeout(now);
    }
    if (app) app();
    flush();
    return true;
  }

  // Steps until `done` or `limit` of simulated time passes; returns done().
  bool run_until(const std::function<bool()>& done, Duration limit = 600s) {
    const TimePoint end = now + limit;
    while (!done() && now < end) {
      if (!step(end)) break;
    }
    return done();
  }

 private:
  void deliver_to_b(const Datagram& d) {
    auto packet = parse_packet(std::span<const std::byte>(d.bytes));
    if (!b) {
      if (packet->header.type != PacketType::syn) return;  // the socket manager would RESET
      auto conn = Connection::incoming(now, *packet, cc_b, b_seq_, settings_b);
      ASSERT_TRUE(conn);
      b.emplace(std::move(*conn));
      b->set_max_packet_size(max_packet_b);
      return;
    }
    b->handle_packet(now, *packet);
  }

  void flush_one(Connection& c, Link& link, bool is_a) {
    while (auto n = c.poll_transmit(now, buffer_)) {
      link.send(now, std::span<const std::byte>(buffer_.data(), *n), c.transmit_is_mtu_probe());
      auto packet = parse_packet(std::span<const std::byte>(buffer_.data(), *n));
      if (is_a && after_a_sends) after_a_sends(packet->payload.size());
      if (!is_a && packet->header.type == PacketType::state) ++acks_from_b;
    }
  }

  std::uint16_t b_seq_;
  std::vector<std::byte> buffer_ = std::vector<std::byte>(65536);
};

// Streams `data` from A to B (and optionally `back` from B to A), reading everything.
struct Transfer {
  Transfer(Network& network, std::vector<std::byte> a_to_b, std::vector<std::byte> b_to_a)
      : net(network), data(std::move(a_to_b)), back(std::move(b_to_a)) {}

  Network& net;
  std::vector<std::byte> data;
  std::vector<std::byte> back;
  std::size_t written_a = 0, written_b = 0;
  std::vector<std::byte> received_b, received_a;
  bool close_when_done = false;

  void pump() {
    if (written_a < data.size()) {
      written_a += net.a->write(std::span(data).subspan(written_a));
      if (written_a == data.size() && close_when_done) net.a->close();
    }
    if (net.b && written_b < back.size()) {
      written_b += net.b->write(std::span(back).subspan(written_b));
    }
    drain(*net.a, received_a);
    if (net.b) drain(*net.b, received_b);
  }
  static void drain(Connection& c, std::vector<std::byte>& out) {
    std::byte chunk[16384];
    while (std::size_t n = c.read(chunk)) out.insert(out.end(), chunk, chunk + n);
  }
  bool done() const { return received_b.size() == data.size() && received_a.size() == back.size(); }
};

}  // namespace starling::utp::testing
