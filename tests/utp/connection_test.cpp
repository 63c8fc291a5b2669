#include "utp/connection.hpp"

#include <gtest/gtest.h>

#include <array>

#include "utp/error.hpp"
#include "utp_harness.hpp"

namespace starling::utp {
namespace {

using namespace std::chrono_literals;
using testing::Network;
using testing::random_bytes;
using testing::Transfer;

bool both_connected(Network& net) {
  return net.b && net.a->state() == ConnectionState::connected &&
         net.b->state() == ConnectionState::connected;
}

TEST(UtpConnection, HandshakeSetsIdsAndStates) {
  Network net;
  EXPECT_EQ(net.a->state(), ConnectionState::syn_sent);
  net.connect();
  ASSERT_TRUE(net.run_until([&] { return net.b.has_value(); }));
  EXPECT_EQ(net.b->state(), ConnectionState::syn_received);
  EXPECT_EQ(net.a->recv_id(), 0x1234);
  EXPECT_EQ(net.a->send_id(), 0x1235);
  EXPECT_EQ(net.b->send_id(), 0x1234);
  EXPECT_EQ(net.b->recv_id(), 0x1235);
  ASSERT_TRUE(net.run_until([&] { return net.a->state() == ConnectionState::connected; }));
  // The initiator has an RTT sample from its SYN: the link's round trip.
  EXPECT_EQ(net.a->rtt(), 20ms);
  net.a->write("hello");
  ASSERT_TRUE(net.run_until([&] { return net.b->readable() == 5; }));
  EXPECT_EQ(net.b->state(), ConnectionState::connected);
  char text[5];
  EXPECT_EQ(net.b->read(std::as_writable_bytes(std::span(text))), 5u);
  EXPECT_EQ(std::string_view(text, 5), "hello");
}

TEST(UtpConnection, IncomingRequiresSyn) {
  testing::TestController cc;
  PacketView not_syn;
  not_syn.header.type = PacketType::state;
  auto conn = Connection::incoming(TimePoint{}, not_syn, cc, 1);
  ASSERT_FALSE(conn);
  EXPECT_EQ(conn.error().code, make_error_code(Errc::bad_syn));
}

TEST(UtpConnection, ResponderCanSpeakFirst) {
  Network net;
  net.connect();
  ASSERT_TRUE(net.run_until([&] { return net.b.has_value(); }));
  Transfer t{net, {}, random_bytes(200'000, 7)};
  net.app = [&] { t.pump(); };
  ASSERT_TRUE(net.run_until([&] { return t.done(); }));
  EXPECT_EQ(t.received_a, t.back);
}

TEST(UtpConnection, LostSynAnswerIsRecovered) {
  Network net;
  // B's SYN-ACK and its first retransmission are lost.
  net.ba.drop = [](std::uint64_t index, const PacketView&) { return index < 2; };
  net.connect();
  Transfer t{net, random_bytes(10'000, 1), random_bytes(10'000, 2)};
  net.app = [&] { t.pump(); };
  ASSERT_TRUE(net.run_until([&] { return t.done(); }));
  EXPECT_EQ(t.received_b, t.data);
  EXPECT_EQ(t.received_a, t.back);
}

TEST(UtpConnection, SynIsRetriedThenTimesOut) {
  Network net;
  net.ab.drop = [](std::uint64_t, const PacketView&) { return true; };
  net.connect();
  ASSERT_TRUE(net.run_until([&] { return net.a->state() == ConnectionState::error; }));
  ASSERT_TRUE(net.a->error());
  EXPECT_EQ(net.a->error()->code, make_error_code(Errc::timed_out));
  EXPECT_EQ(net.ab.sent, 1u + ConnectionSettings{}.max_syn_timeouts);
  EXPECT_FALSE(net.a->next_deadline());
}

TEST(UtpConnection, ResponderGivesUpOnASilentInitiator) {
  Network net;
  net.ba.drop = [](std::uint64_t, const PacketView&) { return true; };
  net.connect();
  ASSERT_TRUE(net.run_until([&] { return net.b && net.b->state() == ConnectionState::error; }));
  EXPECT_EQ(net.b->error()->code, make_error_code(Errc::timed_out));
  EXPECT_GE(net.b->stats().timeouts,
            static_cast<std::uint64_t>(ConnectionSettings{}.max_syn_timeouts));
}

TEST(UtpConnection, TransfersMegabytesBothWays) {
  Network net;
  net.connect();
  Transfer t{net, random_bytes(4'000'000, 11), random_bytes(1'000'000, 12)};
  net.app = [&] { t.pump(); };
  ASSERT_TRUE(net.run_until([&] { return t.done(); }));
  EXPECT_EQ(t.received_b, t.data);
  EXPECT_EQ(t.received_a, t.back);
  EXPECT_EQ(net.a->stats().retransmissions, 0u);
  EXPECT_EQ(net.cc_a.losses, 0);
  EXPECT_EQ(net.cc_a.timeouts, 0);
}

TEST(UtpConnection, SurvivesLossReorderingAndDuplication) {
  Network net;
  std::mt19937 rng(2024);
  auto chance = [&rng](double p) { return std::uniform_real_distribution<>(0, 1)(rng) < p; };
  for (testing::Link* link : {&net.ab, &net.ba}) {
    link->drop = [&](std::uint64_t index, const PacketView&) { return index > 2 && chance(0.03); };
    link->jitter = [&](std::uint64_t) {
      return chance(0.1) ? Duration(std::chrono::microseconds(rng() % 15000)) : Duration::zero();
    };
    link->duplicate = [&](std::uint64_t) { return chance(0.02); };
  }
  net.connect();
  Transfer t{net, random_bytes(3'000'000, 21), random_bytes(500'000, 22)};
  net.app = [&] { t.pump(); };
  ASSERT_TRUE(net.run_until([&] { return t.done(); }, 3600s));
  EXPECT_EQ(t.received_b, t.data);
  EXPECT_EQ(t.received_a, t.back);
  EXPECT_GT(net.a->stats().fast_retransmissions, 0u);
  EXPECT_GT(net.b->stats().duplicate_packets, 0u);
}

TEST(UtpConnection, AimdControllerUnderLossKeepsTheWindow) {
  Network net;
  for (auto* cc : {&net.cc_a, &net.cc_b}) {
    cc->aimd = true;
    cc->window = 4 * 1180;
  }
  std::mt19937 rng(99);
  net.ab.drop = [&](std::uint64_t index, const PacketView&) {
    return index > 2 && rng() % 100 < 2;
  };
  std::size_t violations = 0;
  net.after_a_sends = [&](std::size_t payload) {
    const std::size_t in_flight = net.a->bytes_in_flight();
    const std::size_t limit = std::min<std::size_t>(net.cc_a.window, net.a->peer_window());
    if (payload > 0 && in_flight > limit && in_flight != payload) ++violations;
  };
  net.connect();
  Transfer t{net, random_bytes(2'000'000, 35), {}};
  net.app = [&] { t.pump(); };
  ASSERT_TRUE(net.run_until([&] { return t.done(); }, 3600s));
  EXPECT_EQ(t.received_b, t.data);
  EXPECT_EQ(violations, 0u);
  EXPECT_GT(net.cc_a.losses, 0);
}

TEST(UtpConnection, FastRetransmitAfterThreeDuplicateAcks) {
  Network net;
  std::optional<std::uint16_t> victim;
  int data_packets = 0;
  net.ab.drop = [&](std::uint64_t, const PacketView& p) {
    // Drop the 10th data packet, once.
    if (p.header.type != PacketType::data || victim) return false;
    if (++data_packets < 10) return false;
    victim = p.header.seq_nr;
    return true;
  };
  net.connect();
  Transfer t{net, random_bytes(300'000, 31), {}};
  net.app = [&] { t.pump(); };
  ASSERT_TRUE(net.run_until([&] { return t.done(); }));
  EXPECT_TRUE(victim);
  EXPECT_EQ(t.received_b, t.data);
  EXPECT_EQ(net.cc_a.losses, 1);
  EXPECT_EQ(net.cc_a.timeouts, 0);
  EXPECT_EQ(net.a->stats().fast_retransmissions, 1u);
  EXPECT_EQ(net.a->stats().retransmissions, 1u);
}

TEST(UtpConnection, RetransmissionTimeoutBacksOffThenFails) {
  Network net;
  net.connect();
  ASSERT_TRUE(net.run_until([&] { return net.a->state() == ConnectionState::connected; }));
  bool link_down = false;
  net.ab.drop = [&](std::uint64_t, const PacketView&) { return link_down; };
  net.a->write("some data");
  link_down = true;
  ASSERT_TRUE(net.run_until([&] { return net.a->state() == ConnectionState::error; }, 3600s));
  EXPECT_EQ(net.a->error()->code, make_error_code(Errc::timed_out));
  const auto& times = net.cc_a.timeout_times;
  ASSERT_EQ(times.size(), static_cast<std::size_t>(ConnectionSettings{}.max_timeouts));
  for (std::size_t i = 2; i < times.size(); ++i) {
    const auto previous = times[i - 1] - times[i - 2];
    const auto gap = times[i] - times[i - 1];
    EXPECT_EQ(gap, std::min<Duration>(previous * 2, ConnectionSettings{}.max_rto)) << i;
  }
}

TEST(UtpConnection, SequenceNumbersWrapAround) {
  Network net({}, 65500, 65530);
  net.connect();
  Transfer t{net, random_bytes(1'000'000, 41), random_bytes(300'000, 42)};
  // A little loss right around the wrap.
  net.ab.drop = [](std::uint64_t index, const PacketView&) { return index == 40 || index == 41; };
  net.app = [&] { t.pump(); };
  ASSERT_TRUE(net.run_until([&] { return t.done(); }));
  EXPECT_EQ(t.received_b, t.data);
  EXPECT_EQ(t.received_a, t.back);
}

TEST(UtpConnection, InFlightNeverExceedsTheCongestionWindow) {
  Network net;
  net.cc_a.window = 20'000;
  std::size_t violations = 0, max_in_flight = 0;
  net.after_a_sends = [&](std::size_t payload) {
    const std::size_t in_flight = net.a->bytes_in_flight();
    max_in_flight = std::max(max_in_flight, in_flight);
    const std::size_t limit = std::min<std::size_t>(net.cc_a.window, net.a->peer_window());
    if (payload > 0 && in_flight > limit && in_flight != payload) ++violations;
  };
  net.connect();
  Transfer t{net, random_bytes(500'000, 51), {}};
  net.app = [&] { t.pump(); };
  ASSERT_TRUE(net.run_until([&] { return t.done(); }));
  EXPECT_EQ(t.received_b, t.data);
  EXPECT_EQ(violations, 0u);
  EXPECT_LE(max_in_flight, 20'000u);
  EXPECT_GT(max_in_flight, 15'000u);
}

TEST(UtpConnection, SlowReaderClosesThePeersWindow) {
  ConnectionSettings settings;
  settings.receive_buffer_bytes = 24'000;
  Network net(settings);
  std::size_t violations = 0;
  net.after_a_sends = [&](std::size_t payload) {
    const std::size_t in_flight = net.a->bytes_in_flight();
    if (payload > 0 && in_flight > net.a->peer_window() && in_flight != payload) ++violations;
  };
  net.connect();
  const auto data = random_bytes(400'000, 61);
  std::size_t written = 0;
  std::vector<std::byte> received;
  int tick = 0;
  net.app = [&] {
    written += net.a->write(std::span(data).subspan(written));
    if (!net.b) return;
    // Reads 1000 bytes every fourth step only.
    if (++tick % 4 == 0) {
      std::byte chunk[1000];
      const std::size_t n = net.b->read(chunk);
      received.insert(received.end(), chunk, chunk + n);
    }
    EXPECT_LE(net.b->readable(), 24'000u);
  };
  ASSERT_TRUE(net.run_until([&] { return received.size() == data.size(); }, 36000s));
  EXPECT_EQ(received, data);
  EXPECT_EQ(violations, 0u);
}

TEST(UtpConnection, ReaderThatPausesIsNotCongestion) {
  ConnectionSettings settings;
  settings.receive_buffer_bytes = 30'000;
  Network net(settings);
  net.connect();
  Transfer t{net, random_bytes(300'000, 65), {}};
  bool reading = false;
  net.app = [&] {
    if (reading) return t.pump();
    t.written_a += net.a->write(std::span(t.data).subspan(t.written_a));
  };
  ASSERT_TRUE(net.run_until([&] { return net.b && net.b->readable() == 30'000; }));
  ASSERT_TRUE(net.run_until([&] { return net.a->peer_window() == 0; }));
  EXPECT_EQ(net.b->readable(), 30'000u);
  // The reader sleeps for a minute: A probes the shut window without calling it congestion.
  net.run_until([] { return false; }, 60s);
  EXPECT_EQ(net.a->state(), ConnectionState::connected);
  EXPECT_EQ(net.cc_a.timeouts, 0);
  EXPECT_EQ(net.cc_a.losses, 0);
  EXPECT_LT(net.ab.sent, 300u);  // probes back off instead of flooding
  reading = true;
  ASSERT_TRUE(net.run_until([&] { return t.done(); }));
  EXPECT_EQ(t.received_b, t.data);
  EXPECT_EQ(net.cc_a.timeouts, 0);
}

TEST(UtpConnection, MtuProbingClimbsToTheCeiling) {
  Network net;
  net.cc_a.window = 128 * 1024;
  net.a->set_max_packet_size(65507);
  net.connect();
  Transfer t{net, random_bytes(8'000'000, 71), {}};
  net.app = [&] { t.pump(); };
  ASSERT_TRUE(net.run_until([&] { return t.done(); }));
  EXPECT_EQ(t.received_b, t.data);
  EXPECT_EQ(net.a->packet_size(), 65507u);
  EXPECT_EQ(net.cc_a.packet_size, 65507u - kHeaderSize);
  EXPECT_EQ(net.a->stats().mtu_probes_lost, 0u);
}

TEST(UtpConnection, MtuProbingStaysAtTheFloorWhenBigPacketsDie) {
  Network net;
  net.a->set_max_packet_size(65507);
  net.cc_a.window = 64 * 1024;
  net.ab.mtu = 1200;  // the path takes no more than the floor
  net.connect();
  Transfer t{net, random_bytes(2'000'000, 81), {}};
  net.app = [&] { t.pump(); };
  ASSERT_TRUE(net.run_until([&] { return t.done(); }));
  EXPECT_EQ(t.received_b, t.data);
  EXPECT_EQ(net.a->packet_size(), 1200u);
  EXPECT_EQ(net.a->max_packet_size(), 1200u);
  EXPECT_GT(net.a->stats().mtu_probes_lost, 10u);
  // Lost probes are not congestion.
  EXPECT_EQ(net.cc_a.losses, 0);
  EXPECT_EQ(net.cc_a.timeouts, 0);
}

TEST(UtpConnection, MtuProbingFindsAMiddleSize) {
  Network net;
  net.a->set_max_packet_size(65507);
  net.cc_a.window = 64 * 1024;
  net.ab.mtu = 9000;
  net.connect();
  Transfer t{net, random_bytes(2'000'000, 91), {}};
  net.app = [&] { t.pump(); };
  ASSERT_TRUE(net.run_until([&] { return t.done(); }));
  EXPECT_EQ(t.received_b, t.data);
  EXPECT_EQ(net.a->packet_size(), 9000u);
}

TEST(UtpConnection, CleanCloseBothWays) {
  Network net;
  net.connect();
  Transfer t{net, random_bytes(100'000, 101), random_bytes(50'000, 102)};
  t.close_when_done = true;
  net.app = [&] {
    t.pump();
    if (net.b && net.b->eof() && t.written_b == t.back.size()) net.b->close();
  };
  ASSERT_TRUE(net.run_until([&] {
    return net.b && net.a->state() == ConnectionState::closed &&
           net.b->state() == ConnectionState::closed;
  }));
  EXPECT_EQ(t.received_b, t.data);
  EXPECT_EQ(t.received_a, t.back);
  EXPECT_TRUE(net.a->eof());
  EXPECT_TRUE(net.b->eof());
  EXPECT_EQ(net.a->write("late"), 0u);
}

TEST(UtpConnection, AcksAfterOurFinCarryTheFinsSequenceNumber) {
  // libtorrent drops any packet numbered past the FIN it received, and a FIN numbers nothing
  // after it: our STATEs after our FIN must repeat its seq_nr, or the peer never sees its own
  // FIN acknowledged (and reports a timeout instead of end of file).
  Network net;
  std::optional<std::uint16_t> fin_seq;
  int states_after_fin = 0;
  net.ab.drop = [&](std::uint64_t, const PacketView& packet) {
    if (packet.header.type == PacketType::fin) fin_seq = packet.header.seq_nr;
    if (fin_seq && packet.header.type == PacketType::state) {
      EXPECT_EQ(packet.header.seq_nr, *fin_seq);
      ++states_after_fin;
    }
    return false;
  };
  net.connect();
  Transfer t{net, random_bytes(10'000, 111), random_bytes(30'000, 112)};
  t.close_when_done = true;
  net.app = [&] {
    t.pump();
    if (net.b && net.b->eof() && t.written_b == t.back.size()) net.b->close();
  };
  ASSERT_TRUE(net.run_until([&] {
    return net.b && net.a->state() == ConnectionState::closed &&
           net.b->state() == ConnectionState::closed;
  }));
  ASSERT_TRUE(fin_seq.has_value());
  EXPECT_GT(states_after_fin, 0) << "A acknowledged B's data and FIN after its own FIN";
  EXPECT_EQ(t.received_a, t.back);
}

TEST(UtpConnection, CloseSurvivesALostFin) {
  Network net;
  int fins = 0;
  net.ab.drop = [&](std::uint64_t, const PacketView& p) {
    return p.header.type == PacketType::fin && fins++ == 0;
  };
  net.connect();
  Transfer t{net, random_bytes(10'000, 111), {}};
  t.close_when_done = true;
  net.app = [&] {
    t.pump();
    if (net.b && net.b->eof()) net.b->close();
  };
  ASSERT_TRUE(net.run_until([&] {
    return net.b && net.a->state() == ConnectionState::closed &&
           net.b->state() == ConnectionState::closed;
  }));
  EXPECT_EQ(t.received_b, t.data);
}

TEST(UtpConnection, FinLingerEndsAHalfClose) {
  Network net;
  net.connect();
  ASSERT_TRUE(net.run_until([&] { return net.b.has_value(); }));
  net.a->close();
  ASSERT_TRUE(net.run_until([&] { return net.a->state() == ConnectionState::closed; }, 60s));
  EXPECT_TRUE(net.b->eof());
  EXPECT_EQ(net.b->state(), ConnectionState::connected);
}

TEST(UtpConnection, ResetFailsThePeer) {
  Network net;
  net.connect();
  ASSERT_TRUE(net.run_until([&] { return net.b.has_value(); }));
  ASSERT_TRUE(net.run_until([&] { return net.a->state() == ConnectionState::connected; }));
  net.a->abort();
  net.flush();
  EXPECT_EQ(net.a->state(), ConnectionState::error);
  EXPECT_EQ(net.a->error()->code, make_error_code(Errc::aborted));
  ASSERT_TRUE(net.run_until([&] { return net.b->state() == ConnectionState::error; }));
  EXPECT_EQ(net.b->error()->code, make_error_code(Errc::connection_reset));
  EXPECT_EQ(net.b->write("x"), 0u);
  EXPECT_FALSE(net.b->next_deadline());
}

TEST(UtpConnection, StrayPacketResetReachesTheSender) {
  // B's side has forgotten the connection: its socket manager answers A's data with a RESET.
  Network net;
  net.connect();
  ASSERT_TRUE(net.run_until([&] { return net.a->state() == ConnectionState::connected; }));
  net.a->write("anyone there?");
  std::array<std::byte, 64> out{};
  net.ab.drop = [&](std::uint64_t, const PacketView& p) {
    const std::size_t n = encode_reset_reply(out, p.header, 42);
    auto reset = parse_packet(std::span<const std::byte>(out.data(), n));
    EXPECT_TRUE(reset);
    EXPECT_EQ(reset->header.type, PacketType::reset);
    EXPECT_EQ(reset->header.ack_nr, p.header.seq_nr);
    net.a->handle_packet(net.now, *reset);
    return true;
  };
  net.flush();
  EXPECT_EQ(net.a->state(), ConnectionState::error);
  EXPECT_EQ(net.a->error()->code, make_error_code(Errc::connection_reset));
}

TEST(UtpConnection, KeepAliveWhileIdle) {
  Network net;
  net.connect();
  ASSERT_TRUE(net.run_until([&] { return net.b.has_value(); }));
  net.a->write("x");
  ASSERT_TRUE(net.run_until([&] { return both_connected(net); }));
  const auto sent_a = net.ab.sent;
  const auto sent_b = net.ba.sent;
  const TimePoint start = net.now;
  net.run_until([] { return false; }, 100s);
  EXPECT_GE(net.now - start, 100s);
  EXPECT_EQ(net.ab.sent - sent_a, 3u);  // at 29, 58 and 87 s
  EXPECT_EQ(net.ba.sent - sent_b, 3u);
  EXPECT_TRUE(both_connected(net));
  EXPECT_EQ(net.cc_a.timeouts, 0);
}

TEST(UtpConnection, DelaySamplesReachTheController) {
  Network net;
  net.ab.delay = 30ms;
  net.ba.delay = 5ms;
  net.connect();
  Transfer t{net, random_bytes(100'000, 121), {}};
  net.app = [&] { t.pump(); };
  ASSERT_TRUE(net.run_until([&] { return t.done() && net.a->unacknowledged() == 0; }));
  EXPECT_EQ(net.cc_a.bytes_acked, 100'000u);
  // One clock for both sides: the difference B reports is exactly the A-to-B delay.
  EXPECT_EQ(net.cc_a.last_delay_sample_us, 30'000u);
}

TEST(UtpConnection, ABatchOfDatagramsCostsOneAck) {
  Network net;
  net.connect();
  ASSERT_TRUE(net.run_until([&] { return both_connected(net) || net.b.has_value(); }));
  ASSERT_TRUE(net.run_until([&] { return net.a->state() == ConnectionState::connected; }));
  // Ten full packets leave A at the same instant and arrive at B in one batch.
  const auto acks_before = net.acks_from_b;
  const auto data = random_bytes(11'000, 131);
  net.a->write(data);
  net.flush();
  ASSERT_TRUE(net.run_until([&] { return net.b->readable() == 11'000; }));
  EXPECT_EQ(net.acks_from_b - acks_before, 1u);
}

TEST(UtpConnection, DelayedAckWaitsForTheTimer) {
  ConnectionSettings settings;
  settings.ack_delay = 50ms;
  settings.ack_every_packets = 100;
  Network net(settings);
  net.connect();
  ASSERT_TRUE(net.run_until([&] { return net.a->state() == ConnectionState::connected; }));
  net.a->write("ping");
  net.flush();
  const TimePoint sent = net.now;
  ASSERT_TRUE(net.run_until([&] { return net.a->bytes_in_flight() == 0; }));
  // 10 ms there, 50 ms ACK delay, 10 ms back.
  EXPECT_EQ(net.now - sent, 70ms);
}

}  // namespace
}  // namespace starling::utp
