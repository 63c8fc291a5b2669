#include "net/udp_socket.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "net/path_mtu.hpp"
#include "net/send_queue.hpp"

namespace starling::net {
namespace {

namespace asio = boost::asio;
using udp = asio::ip::udp;
using namespace std::chrono_literals;
using Bytes = std::vector<std::uint8_t>;

const udp::endpoint kLoopback4{asio::ip::make_address("127.0.0.1"), 0};
const udp::endpoint kLoopback6{asio::ip::make_address("::1"), 0};

// Datagram `seq` of a stream: its number in the first 4 bytes, then a pattern of both.
Bytes make_payload(std::uint32_t seq, std::size_t size, std::uint8_t stream = 0) {
  Bytes bytes(size);
  for (std::size_t i = 0; i < size; ++i) {
    bytes[i] = static_cast<std::uint8_t>(seq * 31 + i * 7 + stream);
  }
  for (std::size_t i = 0; i < 4 && i < size; ++i)
    bytes[i] = static_cast<std::uint8_t>(seq >> (8 * i));
  return bytes;
}

std::uint32_t seq_of(std::span<const std::uint8_t> bytes) {
  std::uint32_t seq = 0;
  for (std::size_t i = 0; i < 4 && i < bytes.size(); ++i) seq |= std::uint32_t{bytes[i]} << (8 * i);
  return seq;
}

// Runs the io_context until `done` or the deadline; false on the deadline. Every test is
// bounded in time this way, so a lost datagram fails the test instead of hanging it.
bool run_until(asio::io_context& io, const std::function<bool()>& done,
               std::chrono::steady_clock::duration limit = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    if (io.stopped()) io.restart();
    io.run_one_for(10ms);
  }
  // Let posted work (flushes) finish, without blocking.
  if (io.stopped()) io.restart();
  io.poll();
  return true;
}

// Records what it is offered; takes what `accept` says.
struct Recorder : DatagramReceiver {
  std::function<bool(const Datagram&)> accept = [](const Datagram&) { return true; };
  std::function<void()> batch_end;
  std::vector<Bytes> taken;
  std::vector<udp::endpoint> senders;
  std::string events;  // 'o' offered and declined, 't' taken, 'b' batch end
  int batch_ends = 0;
  std::vector<std::pair<udp::endpoint, std::error_code>> unreachable;

  bool on_datagram(const Datagram& datagram) override {
    if (!accept(datagram)) {
      events += 'o';
      return false;
    }
    events += 't';
    taken.emplace_back(datagram.bytes.begin(), datagram.bytes.end());
    senders.push_back(datagram.from);
    return true;
  }
  void on_batch_end() override {
    events += 'b';
    ++batch_ends;
    if (batch_end) batch_end();
  }
  void on_unreachable(const udp::endpoint& destination, std::error_code why) override {
    unreachable.emplace_back(destination, why);
  }
};

struct Peer {
  explicit Peer(asio::io_context& io, const UdpSocketSettings& settings = {},
                const udp::endpoint& at = kLoopback4)
      : socket(io, settings) {
    opened = socket.open(at).has_value();
    socket.add_receiver(recorder);
  }
  ~Peer() { socket.remove_receiver(recorder); }
  udp::endpoint endpoint() const { return socket.local_endpoint(); }

  UdpSocket socket;
  Recorder recorder;
  bool opened = false;
};

TEST(UdpSocket, BindsToAnEphemeralPort) {
  asio::io_context io;
  Peer a(io);
  ASSERT_TRUE(a.opened);
  EXPECT_NE(a.endpoint().port(), 0);
  EXPECT_EQ(a.endpoint().address(), kLoopback4.address());
  EXPECT_GT(a.socket.receive_buffer_bytes(), 0);
}

TEST(UdpSocket, ThousandsOfDatagramsOfEverySizeArriveIntactBothWays) {
  asio::io_context io;
  Peer a(io), b(io);
  ASSERT_TRUE(a.opened && b.opened);
  constexpr std::uint32_t kCount = 3000;
  const std::size_t sizes[] = {0, 1, 20, 100, 1400, 1452, 1472, 4000, 9000, 30000, 60 * 1024};
  std::mt19937 rng(29);
  std::vector<std::size_t> size_of(kCount);
  for (auto& s : size_of) s = std::max<std::size_t>(sizes[rng() % std::size(sizes)], 4);

  // Pacing: loopback loses nothing unless the receiver's buffer overflows, so keep at most a
  // quarter of it in flight (counting the kernel's per-datagram overhead generously).
  const std::size_t budget = static_cast<std::size_t>(
      std::min(a.socket.receive_buffer_bytes(), b.socket.receive_buffer_bytes()) / 4);
  struct Direction {
    Peer* from;
    Peer* to;
    std::uint32_t sent = 0;
    std::size_t acked_bytes = 0;
    std::size_t sent_bytes = 0;
  };
  Direction directions[] = {{&a, &b}, {&b, &a}};
  const auto pump = [&] {
    for (Direction& d : directions) {
      std::size_t received_bytes = 0;
      for (const Bytes& p : d.to->recorder.taken) received_bytes += p.size() + 1024;
      while (d.sent < kCount && d.sent_bytes + size_of[d.sent] + 1024 - received_bytes <= budget) {
        ASSERT_TRUE(d.from->socket.send(d.to->endpoint(), make_payload(d.sent, size_of[d.sent])));
        d.sent_bytes += size_of[d.sent] + 1024;
        ++d.sent;
      }
    }
  };
  a.recorder.batch_end = pump;
  b.recorder.batch_end = pump;
  pump();
  ASSERT_TRUE(run_until(
      io, [&] { return a.recorder.taken.size() == kCount && b.recorder.taken.size() == kCount; },
      30s))
      << "a got " << a.recorder.taken.size() << ", b got " << b.recorder.taken.size();

  for (Peer* p : {&a, &b}) {
    std::vector<bool> seen(kCount);
    for (const Bytes& payload : p->recorder.taken) {
      const std::uint32_t seq = seq_of(payload);
      ASSERT_LT(seq, kCount);
      EXPECT_FALSE(seen[seq]) << seq;
      seen[seq] = true;
      EXPECT_EQ(payload, make_payload(seq, size_of[seq])) << seq;
    }
    EXPECT_EQ(p->socket.counters().datagrams_in, kCount);
    EXPECT_EQ(p->socket.counters().datagrams_out, kCount);
    EXPECT_EQ(p->socket.counters().truncated_in, 0u);
    EXPECT_EQ(p->socket.counters().send_errors, 0u);
  }
  EXPECT_EQ(a.recorder.senders.front(), b.endpoint());
}

TEST(UdpSocket, ReceiversAreOfferedEachDatagramInOrderUntilOneTakesIt) {
  asio::io_context io;
  Peer sender(io), receiver(io);
  ASSERT_TRUE(sender.opened && receiver.opened);
  // The first receiver wants DHT-like datagrams (a leading 'd'), the second everything else
  // but 'z', a third nothing.
  receiver.recorder.accept = [](const Datagram& d) {
    return !d.bytes.empty() && d.bytes[0] == 'd';
  };
  Recorder second, third;
  second.accept = [](const Datagram& d) { return d.bytes[0] != 'z'; };
  third.accept = [](const Datagram&) { return false; };
  receiver.socket.add_receiver(second);
  receiver.socket.add_receiver(third);

  constexpr int kEach = 50;
  for (int i = 0; i < kEach; ++i) {
    for (const char lead : {'d', 'x', 'z'}) {
      const Bytes payload{static_cast<std::uint8_t>(lead), static_cast<std::uint8_t>(i)};
      ASSERT_TRUE(sender.socket.send(receiver.endpoint(), payload));
    }
  }
  ASSERT_TRUE(run_until(io, [&] { return receiver.socket.counters().datagrams_in == 3 * kEach; }));

  ASSERT_EQ(receiver.recorder.taken.size(), std::size_t{kEach});
  ASSERT_EQ(second.taken.size(), std::size_t{kEach});
  EXPECT_TRUE(third.taken.empty());
  for (int i = 0; i < kEach; ++i) {
    EXPECT_EQ(receiver.recorder.taken[i], (Bytes{'d', static_cast<std::uint8_t>(i)}));
    EXPECT_EQ(second.taken[i], (Bytes{'x', static_cast<std::uint8_t>(i)}));
  }
  // The third was offered only what the first two declined.
  EXPECT_EQ(std::count(third.events.begin(), third.events.end(), 'o'), kEach);
  EXPECT_EQ(receiver.socket.counters().unclaimed_in, std::uint64_t{kEach});

  // Every receiver saw every batch end, each after the batch's datagrams.
  const auto batches = static_cast<int>(receiver.socket.counters().receive_batches);
  EXPECT_GE(batches, 1);
  for (const Recorder* r : {&receiver.recorder, &second, &third}) {
    EXPECT_EQ(r->batch_ends, batches);
    EXPECT_EQ(r->events.back(), 'b');
  }
  EXPECT_EQ(receiver.recorder.events.find("bb"), std::string::npos) << "an empty batch";
  receiver.socket.remove_receiver(second);
  receiver.socket.remove_receiver(third);
}

TEST(UdpSocket, SendsMadeInsideABatchLeaveAtItsEnd) {
  asio::io_context io;
  Peer client(io), echo(io);
  ASSERT_TRUE(client.opened && echo.opened);
  echo.recorder.accept = [&](const Datagram& d) {
    EXPECT_TRUE(echo.socket.send(d.from, d.bytes));
    return true;
  };
  constexpr std::uint32_t kCount = 200;
  for (std::uint32_t i = 0; i < kCount; ++i) {
    ASSERT_TRUE(client.socket.send(echo.endpoint(), make_payload(i, 200 + i)));
  }
  ASSERT_TRUE(run_until(io, [&] { return client.recorder.taken.size() == kCount; }));
  for (std::uint32_t i = 0; i < kCount; ++i)
    EXPECT_EQ(client.recorder.taken[i], make_payload(i, 200 + i));
}

TEST(UdpSocket, ReceiversMayRemoveThemselvesDuringABatch) {
  asio::io_context io;
  Peer sender(io), receiver(io);
  ASSERT_TRUE(sender.opened && receiver.opened);
  Recorder first;
  first.accept = [&](const Datagram&) {
    receiver.socket.remove_receiver(first);
    return true;
  };
  receiver.socket.remove_receiver(receiver.recorder);
  receiver.socket.add_receiver(first);
  receiver.socket.add_receiver(receiver.recorder);
  for (std::uint32_t i = 0; i < 10; ++i)
    ASSERT_TRUE(sender.socket.send(receiver.endpoint(), make_payload(i, 8)));
  ASSERT_TRUE(run_until(io, [&] { return receiver.socket.counters().datagrams_in == 10; }));
  EXPECT_EQ(first.taken.size(), 1u);
  EXPECT_EQ(receiver.recorder.taken.size(), 9u);
}

// A burst as uTP sends it: runs of full packets to one peer, each ending in a shorter one.
std::vector<Bytes> burst(std::uint8_t stream) {
  std::vector<Bytes> out;
  std::uint32_t seq = 0;
  for (int i = 0; i < 20; ++i) out.push_back(make_payload(seq++, 1200, stream));
  out.push_back(make_payload(seq++, 500, stream));
  for (int i = 0; i < 2; ++i) out.push_back(make_payload(seq++, 60000, stream));
  for (int i = 0; i < 40; ++i) out.push_back(make_payload(seq++, 1000, stream));
  out.push_back(make_payload(seq++, 1000, stream));
  out.push_back(make_payload(seq++, 7, stream));
  return out;
}

std::vector<Bytes> deliver_burst(const UdpSocketSettings& settings,
                                 const std::vector<Bytes>& datagrams,
                                 UdpSocketCounters& sender_counters, bool& gso_active) {
  asio::io_context io;
  Peer sender(io, settings), receiver(io);
  EXPECT_TRUE(sender.opened && receiver.opened);
  for (const Bytes& d : datagrams) EXPECT_TRUE(sender.socket.send(receiver.endpoint(), d));
  EXPECT_TRUE(run_until(io, [&] { return receiver.recorder.taken.size() == datagrams.size(); }))
      << receiver.recorder.taken.size();
  sender_counters = sender.socket.counters();
  gso_active = sender.socket.gso_active();
  return receiver.recorder.taken;
}

TEST(UdpSocket, GsoAndPlainSendsDeliverTheSameDatagrams) {
  const std::vector<Bytes> datagrams = burst(1);
  UdpSocketSettings gso;
  UdpSocketSettings plain;
  plain.use_gso = false;

  UdpSocketCounters gso_counters, plain_counters;
  bool gso_active = false, plain_gso_active = true;
  const auto via_gso = deliver_burst(gso, datagrams, gso_counters, gso_active);
  const auto via_plain = deliver_burst(plain, datagrams, plain_counters, plain_gso_active);

  // The receiver sees the sender's datagram boundaries either way.
  EXPECT_EQ(via_gso, datagrams);
  EXPECT_EQ(via_plain, datagrams);
  EXPECT_FALSE(plain_gso_active);
  EXPECT_EQ(plain_counters.gso_sends, 0u);
  EXPECT_EQ(plain_counters.datagrams_out, datagrams.size());
  EXPECT_EQ(gso_counters.datagrams_out, datagrams.size());
  if (!gso_active) GTEST_SKIP() << "no UDP GSO in this kernel; the plain path was checked";
  // 20 x 1200 + 500; 41 x 1000 + 7 (at most 64 segments): two GSO sends at least.
  EXPECT_GE(gso_counters.gso_sends, 2u);
}

TEST(UdpSocket, AGsoSendTheKernelRefusesIsResentOneByOne) {
  // More segments than the kernel's UDP_MAX_SEGMENTS (64, or 128 on newer kernels): EINVAL.
  UdpSocketSettings settings;
  settings.max_gso_segments = 250;
  std::vector<Bytes> datagrams;
  for (std::uint32_t i = 0; i < 250; ++i) datagrams.push_back(make_payload(i, 100, 2));
  UdpSocketCounters counters;
  bool gso_active = false;
  EXPECT_EQ(deliver_burst(settings, datagrams, counters, gso_active), datagrams);
  EXPECT_EQ(counters.send_errors, 0u);
  if (counters.gso_sends == 0 && counters.gso_fallbacks == 0) {
    GTEST_SKIP() << "no UDP GSO in this kernel";
  }
  EXPECT_GE(counters.gso_fallbacks, 1u);
}

TEST(UdpSocket, WorksOverIpv6Loopback) {
  asio::io_context io;
  UdpSocket probe(io);
  if (!probe.open(kLoopback6)) GTEST_SKIP() << "no IPv6 loopback";
  probe.close();
  Peer a(io, {}, kLoopback6), b(io, {}, kLoopback6);
  ASSERT_TRUE(a.opened && b.opened);
  const std::vector<std::size_t> sizes = {1, 1400, 60 * 1024, 1000, 1000, 1000, 12};
  for (std::uint32_t i = 0; i < sizes.size(); ++i) {
    ASSERT_TRUE(a.socket.send(b.endpoint(), make_payload(i, sizes[i])));
    ASSERT_TRUE(b.socket.send(a.endpoint(), make_payload(i, sizes[i], 3)));
  }
  ASSERT_TRUE(run_until(io, [&] {
    return a.recorder.taken.size() == sizes.size() && b.recorder.taken.size() == sizes.size();
  }));
  for (std::uint32_t i = 0; i < sizes.size(); ++i) {
    EXPECT_EQ(b.recorder.taken[i], make_payload(i, sizes[i]));
    EXPECT_EQ(a.recorder.taken[i], make_payload(i, sizes[i], 3));
  }
  EXPECT_EQ(b.recorder.senders[0], a.endpoint());
  // An IPv4 destination is refused by an IPv6 socket only if it cannot be v4-mapped: never.
  EXPECT_TRUE(a.socket.send(udp::endpoint(asio::ip::make_address("127.0.0.1"), 9), Bytes{1}));
}

TEST(UdpSocket, AFullSendQueueRefusesWithoutHarm) {
  asio::io_context io;
  UdpSocketSettings settings;
  settings.send_queue_datagrams = 8;
  settings.send_queue_bytes = 16 * 1024;
  Peer sender(io, settings), receiver(io);
  ASSERT_TRUE(sender.opened && receiver.opened);
  for (std::uint32_t i = 0; i < 8; ++i)
    ASSERT_TRUE(sender.socket.send(receiver.endpoint(), make_payload(i, 100)));
  EXPECT_FALSE(sender.socket.send(receiver.endpoint(), make_payload(8, 100)));
  EXPECT_EQ(sender.socket.counters().queue_full_drops, 1u);
  ASSERT_TRUE(run_until(io, [&] { return receiver.recorder.taken.size() == 8; }));
  EXPECT_EQ(sender.socket.queued_datagrams(), 0u);

  // The byte budget, too; and what UDP cannot carry at all.
  EXPECT_FALSE(sender.socket.send(receiver.endpoint(), make_payload(9, 20 * 1024)));
  EXPECT_TRUE(sender.socket.send(receiver.endpoint(), make_payload(10, 16 * 1024)));
  EXPECT_FALSE(sender.socket.send(receiver.endpoint(), Bytes(70000)));
  ASSERT_TRUE(run_until(io, [&] { return receiver.recorder.taken.size() == 9; }));
  EXPECT_EQ(receiver.recorder.taken.back(), make_payload(10, 16 * 1024));

  // An IPv6 destination from an IPv4 socket, and a closed socket.
  EXPECT_FALSE(sender.socket.send(udp::endpoint(asio::ip::make_address("::1"), 9), Bytes{1}));
  sender.socket.close();
  EXPECT_FALSE(sender.socket.send(receiver.endpoint(), Bytes{1}));
}

TEST(UdpSocket, AFloodIsTakenInBoundedBatchesWithOtherHandlersInBetween) {
  asio::io_context io;
  UdpSocketSettings small_batches;
  small_batches.receive_batch = 4;
  small_batches.max_batches_per_wake = 2;
  Peer sender(io), receiver(io, small_batches);
  ASSERT_TRUE(sender.opened && receiver.opened);
  for (std::uint32_t i = 0; i < 100; ++i) {
    ASSERT_TRUE(sender.socket.send(receiver.endpoint(), make_payload(i, 64)));
  }
  sender.socket.flush();  // all 100 are in the receiver's kernel buffer now
  // A handler that reposts itself: it runs between the receive wake-ups, not after all of them.
  std::size_t received_when_ticked = 0;
  std::function<void()> tick = [&] {
    if (received_when_ticked == 0 && receiver.recorder.taken.size() > 0) {
      received_when_ticked = receiver.recorder.taken.size();
    }
    if (receiver.recorder.taken.size() < 100) asio::post(io, tick);
  };
  asio::post(io, tick);
  ASSERT_TRUE(run_until(io, [&] { return receiver.recorder.taken.size() == 100; }));
  EXPECT_GE(receiver.socket.counters().receive_batches, 25u);
  EXPECT_GT(received_when_ticked, 0u);
  EXPECT_LE(received_when_ticked, 8u);  // one wake-up: 2 batches of 4
  for (std::uint32_t i = 0; i < 100; ++i)
    EXPECT_EQ(receiver.recorder.taken[i], make_payload(i, 64));
}

TEST(UdpSocket, DatagramsLongerThanTheBufferAreDroppedAndCounted) {
  asio::io_context io;
  UdpSocketSettings small;
  small.max_datagram_size = 1000;
  Peer sender(io), receiver(io, small);
  ASSERT_TRUE(sender.opened && receiver.opened);
  ASSERT_TRUE(sender.socket.send(receiver.endpoint(), make_payload(0, 2000)));
  ASSERT_TRUE(sender.socket.send(receiver.endpoint(), make_payload(1, 1000)));
  ASSERT_TRUE(run_until(io, [&] { return receiver.recorder.taken.size() == 1; }));
  EXPECT_EQ(receiver.recorder.taken[0], make_payload(1, 1000));
  EXPECT_EQ(receiver.socket.counters().truncated_in, 1u);
}

TEST(UdpSocket, OutlivedHandlersDoNothing) {
  asio::io_context io;
  {
    Peer a(io), b(io);
    ASSERT_TRUE(a.opened && b.opened);
    ASSERT_TRUE(a.socket.send(b.endpoint(), Bytes{1, 2, 3}));  // posts a flush
  }
  io.run_for(50ms);  // the posted flush and the aborted waits run after the sockets are gone
}

// ---- ICMP errors -----------------------------------------------------------------------------

// A UDP port nobody listens on (bound for a moment to find a free one).
udp::endpoint closed_port(const udp::endpoint& at) {
  asio::io_context io;
  udp::socket socket(io, at);
  return socket.local_endpoint();
}

TEST(UdpSocket, AClosedPortIsReportedUnreachableToEveryReceiverAndDatagramsStillFlow) {
  asio::io_context io;
  Peer a(io), b(io);
  ASSERT_TRUE(a.opened && b.opened);
  Recorder second;
  second.accept = [](const Datagram&) { return false; };
  a.socket.add_receiver(second);
  const udp::endpoint nobody = closed_port(kLoopback4);

  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(a.socket.send(nobody, Bytes{1, 2, 3}));
  ASSERT_TRUE(run_until(
      io, [&] { return !a.recorder.unreachable.empty(); }, 2s))
      << "no ICMP error reported";
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  EXPECT_EQ(a.recorder.unreachable.front().first, nobody);
  EXPECT_EQ(a.recorder.unreachable.front().second, std::errc::connection_refused);
  ASSERT_EQ(second.unreachable.size(), a.recorder.unreachable.size());
  EXPECT_EQ(second.unreachable.front().first, nobody);
  EXPECT_GE(a.socket.counters().unreachable_reports, 1u);
  EXPECT_GE(a.socket.counters().queued_errors, 1u);

  // Both directions still carry datagrams afterwards.
  constexpr std::uint32_t kCount = 100;
  for (std::uint32_t i = 0; i < kCount; ++i) {
    ASSERT_TRUE(a.socket.send(b.endpoint(), make_payload(i, 500)));
    ASSERT_TRUE(b.socket.send(a.endpoint(), make_payload(i, 500, 1)));
  }
  ASSERT_TRUE(run_until(
      io, [&] { return a.recorder.taken.size() == kCount && b.recorder.taken.size() == kCount; }));
  for (std::uint32_t i = 0; i < kCount; ++i) {
    EXPECT_EQ(b.recorder.taken[i], make_payload(i, 500));
    EXPECT_EQ(a.recorder.taken[i], make_payload(i, 500, 1));
  }
  EXPECT_EQ(a.socket.counters().send_errors, 0u);
  // Nothing is left to wake the socket: an idle io_context runs (next to) no handlers.
  EXPECT_LT(io.run_for(200ms), 5u);
  a.socket.remove_receiver(second);
}

TEST(UdpSocket, ASendThatMeetsAPendingIcmpErrorIsNotBlamedForIt) {
  asio::io_context io;
  Peer a(io), b(io);
  ASSERT_TRUE(a.opened && b.opened);
  const udp::endpoint nobody = closed_port(kLoopback4);
  ASSERT_TRUE(a.socket.send(nobody, Bytes{1}));
  a.socket.flush();
  // The port unreachable comes back (on loopback, at once) before a's receive loop runs: the
  // next send is the first to hear of it.
  std::this_thread::sleep_for(20ms);
  ASSERT_TRUE(a.socket.send(b.endpoint(), Bytes{2}));
  a.socket.flush();
  EXPECT_EQ(a.socket.counters().send_retries, 1u);
  ASSERT_TRUE(run_until(
      io, [&] { return b.recorder.taken.size() == 1 && !a.recorder.unreachable.empty(); }));
  EXPECT_EQ(b.recorder.taken[0], Bytes{2});
  EXPECT_EQ(a.recorder.unreachable.front().first, nobody);
  EXPECT_EQ(a.socket.counters().send_errors, 0u);
  EXPECT_LT(io.run_for(200ms), 5u);
}

TEST(UdpSocket, ErrorsAmidAFloodNeitherStallNorSpinTheReceiveLoop) {
  asio::io_context io;
  Peer a(io), b(io);
  ASSERT_TRUE(a.opened && b.opened);
  const udp::endpoint nobody = closed_port(kLoopback4);
  // a sends to b and, every tenth datagram, to the closed port; b answers each datagram, so a
  // receives while ICMP errors queue up on its socket.
  constexpr std::uint32_t kCount = 2000;
  std::uint32_t sent = 0;
  b.recorder.accept = [&](const Datagram& d) {
    b.socket.send(d.from, d.bytes);
    return true;
  };
  const auto pump = [&] {
    while (sent < kCount && sent - a.recorder.taken.size() < 64) {
      ASSERT_TRUE(a.socket.send(b.endpoint(), make_payload(sent, 300)));
      if (sent % 10 == 0) {
        ASSERT_TRUE(a.socket.send(nobody, make_payload(sent, 30)));
      }
      ++sent;
    }
  };
  a.recorder.batch_end = pump;
  pump();
  ASSERT_TRUE(run_until(
      io, [&] { return a.recorder.taken.size() == kCount; }, 20s))
      << "a got " << a.recorder.taken.size() << " of " << kCount;
  for (std::uint32_t i = 0; i < kCount; ++i) EXPECT_EQ(a.recorder.taken[i], make_payload(i, 300));
  ASSERT_TRUE(run_until(
      io, [&] { return !a.recorder.unreachable.empty(); }, 2s));
  for (const auto& [destination, why] : a.recorder.unreachable) EXPECT_EQ(destination, nobody);
  EXPECT_TRUE(b.recorder.unreachable.empty());
  // A datagram to b in the same sendmmsg as one to the dead port may meet its error (the
  // kernel then ends the call early and the rest go in the next): none may be lost for it.
  EXPECT_EQ(a.socket.counters().send_errors, 0u);
  EXPECT_LT(io.run_for(200ms), 5u);
}

TEST(UdpSocket, AClosedPortIsReportedOverIpv6AndAsV4MappedFromADualStackSocket) {
  asio::io_context io;
  UdpSocket probe(io);
  if (!probe.open(kLoopback6)) GTEST_SKIP() << "no IPv6 loopback";
  probe.close();
  Peer a(io, {}, kLoopback6);
  ASSERT_TRUE(a.opened);
  const udp::endpoint nobody = closed_port(kLoopback6);
  ASSERT_TRUE(a.socket.send(nobody, Bytes{1}));
  ASSERT_TRUE(run_until(
      io, [&] { return !a.recorder.unreachable.empty(); }, 2s));
  EXPECT_EQ(a.recorder.unreachable.front().first, nobody);
  EXPECT_EQ(a.recorder.unreachable.front().second, std::errc::connection_refused);

  // A dual-stack socket hears of IPv4 destinations (by ICMPv4) as it sent to them: v4-mapped.
  Peer dual(io, {}, udp::endpoint(asio::ip::address_v6::any(), 0));
  ASSERT_TRUE(dual.opened);
  const udp::endpoint nobody4 = closed_port(kLoopback4);
  ASSERT_TRUE(dual.socket.send(nobody4, Bytes{1}));
  ASSERT_TRUE(run_until(
      io, [&] { return !dual.recorder.unreachable.empty(); }, 2s));
  const udp::endpoint mapped(
      asio::ip::make_address_v6(asio::ip::v4_mapped, nobody4.address().to_v4()), nobody4.port());
  EXPECT_EQ(dual.recorder.unreachable.front().first, mapped);
}

// ---- SendQueue -------------------------------------------------------------------------------

TEST(UdpSendQueue, GroupsEqualSizesToOneDestinationEndingWithAShorterOne) {
  const udp::endpoint one(asio::ip::make_address("10.0.0.1"), 1);
  const udp::endpoint two(asio::ip::make_address("10.0.0.2"), 1);
  SendQueue queue(100, 1 << 20);
  const auto push = [&](const udp::endpoint& to, std::size_t size) {
    ASSERT_TRUE(queue.push(to, Bytes(size, static_cast<std::uint8_t>(queue.size()))));
  };
  push(one, 100), push(one, 100), push(one, 100), push(one, 50), push(one, 50);  // 0..4
  push(one, 100), push(one, 200);                                                // 5, 6
  push(one, 100), push(two, 100);                                                // 7, 8
  push(one, 0), push(one, 0);                                                    // 9, 10
  EXPECT_EQ(queue.run_length(0, 64, 65507), 4u);  // the shorter one ends the run
  EXPECT_EQ(queue.run_length(4, 64, 65507), 1u);  // 50 then 100: longer breaks
  EXPECT_EQ(queue.run_length(5, 64, 65507), 1u);
  EXPECT_EQ(queue.run_length(7, 64, 65507), 1u);  // another destination
  EXPECT_EQ(queue.run_length(9, 64, 65507), 1u);  // empty datagrams never group
  EXPECT_EQ(queue.run_length(0, 2, 65507), 2u);   // segment limit
  EXPECT_EQ(queue.run_length(0, 64, 250), 2u);    // byte limit
  // A run's bytes are contiguous.
  EXPECT_EQ(queue.data(1), queue.data(0) + 100);
  EXPECT_EQ(queue.bytes(), 900u);
}

TEST(UdpSendQueue, IsBoundedAndKeepsOrderAcrossPartialPops) {
  const udp::endpoint to(asio::ip::make_address("10.0.0.1"), 1);
  SendQueue queue(4, 1000);
  for (std::uint32_t i = 0; i < 4; ++i) ASSERT_TRUE(queue.push(to, make_payload(i, 200)));
  EXPECT_FALSE(queue.push(to, make_payload(4, 10)));  // datagram limit
  queue.pop(3);
  EXPECT_FALSE(queue.push(to, make_payload(4, 900)));  // byte limit (200 still queued)
  ASSERT_TRUE(queue.push(to, make_payload(4, 800)));   // fits after moving to the front
  ASSERT_EQ(queue.size(), 2u);
  EXPECT_EQ(Bytes(queue.data(0), queue.data(0) + queue.at(0).size), make_payload(3, 200));
  EXPECT_EQ(Bytes(queue.data(1), queue.data(1) + queue.at(1).size), make_payload(4, 800));
  queue.pop(2);
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.bytes(), 0u);
}

// ---- path MTU --------------------------------------------------------------------------------

TEST(UdpPayloadCeiling, LoopbackIsAsBigAsUdpAllowsElseAnEthernetFrame) {
  const auto ceiling = [](const char* address) {
    return udp_payload_ceiling(asio::ip::make_address(address));
  };
  EXPECT_EQ(ceiling("127.0.0.1"), 65507u);
  EXPECT_EQ(ceiling("::1"), 65488u);
  EXPECT_EQ(ceiling("::ffff:127.0.0.1"), 65507u);
  EXPECT_EQ(ceiling("192.0.2.7"), 1472u);
  EXPECT_EQ(ceiling("2001:db8::1"), 1452u);
  EXPECT_EQ(ceiling("::ffff:192.0.2.7"), 1472u);
}

}  // namespace
}  // namespace starling::net
