// Loss detection driven packet by packet: a hand-written peer answers an outgoing connection,
// so each ACK, duplicate ACK and SACK is exactly the one the test names.
#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "utp/connection.hpp"
#include "utp_harness.hpp"

namespace starling::utp {
namespace {

using namespace std::chrono_literals;

class UtpLossDetection : public ::testing::Test {
 protected:
  static constexpr std::uint16_t kSynSeq = 100;
  static constexpr std::uint16_t kPeerSeq = 5000;

  UtpLossDetection() : conn(Connection::outgoing(cc, 0x4000, kSynSeq)) {
    conn.connect(now);
    EXPECT_TRUE(poll());  // the SYN
    peer_says(ack(kSynSeq));
    EXPECT_EQ(conn.state(), ConnectionState::connected);
  }

  // A STATE from the peer acknowledging `ack_nr`, with an optional SACK.
  std::vector<std::byte> ack(std::uint16_t ack_nr, std::vector<std::byte> sack = {}) {
    PacketHeader h;
    h.type = PacketType::state;
    h.connection_id = 0x4000;
    h.wnd_size = 1 << 20;
    h.seq_nr = kPeerSeq;
    h.ack_nr = ack_nr;
    std::vector<std::byte> out(encoded_header_size(sack.size()));
    encode_header(out, h, sack);
    return out;
  }
  void peer_says(const std::vector<std::byte>& datagram) {
    auto packet = parse_packet(std::span<const std::byte>(datagram));
    ASSERT_TRUE(packet);
    conn.handle_packet(now, *packet);
  }
  // The next datagram's header, if any.
  std::optional<PacketHeader> poll() {
    auto n = conn.poll_transmit(now, buffer);
    if (!n) return std::nullopt;
    return parse_packet(std::span<const std::byte>(buffer.data(), *n))->header;
  }
  // Sends `count` full data packets; returns their seq_nrs.
  std::vector<std::uint16_t> send_data(int count) {
    const std::vector<std::byte> data(static_cast<std::size_t>(count) * 1180, std::byte{7});
    conn.write(data);
    std::vector<std::uint16_t> seqs;
    while (auto h = poll()) {
      EXPECT_EQ(h->type, PacketType::data);
      seqs.push_back(h->seq_nr);
    }
    EXPECT_EQ(seqs.size(), static_cast<std::size_t>(count));
    return seqs;
  }

  testing::TestController cc;
  TimePoint now = TimePoint{} + 1000s;
  Connection conn;
  std::vector<std::byte> buffer = std::vector<std::byte>(65536);
};

TEST_F(UtpLossDetection, ThreeDuplicateAcksRetransmitTheOldest) {
  const auto seqs = send_data(6);
  ASSERT_EQ(seqs.front(), kSynSeq + 1);
  now += 50ms;
  peer_says(ack(seqs[0]));  // progress: seqs[0] acknowledged
  peer_says(ack(seqs[0]));
  peer_says(ack(seqs[0]));
  EXPECT_EQ(cc.losses, 0);
  EXPECT_FALSE(poll());
  peer_says(ack(seqs[0]));  // the third duplicate
  EXPECT_EQ(cc.losses, 1);
  auto resent = poll();
  ASSERT_TRUE(resent);
  EXPECT_EQ(resent->seq_nr, seqs[1]);
  EXPECT_FALSE(poll());
  // More duplicates do not resend it again: from here only the RTO does.
  peer_says(ack(seqs[0]));
  EXPECT_FALSE(poll());
  EXPECT_EQ(cc.losses, 1);
  EXPECT_EQ(conn.stats().fast_retransmissions, 1u);
}

TEST_F(UtpLossDetection, SackWithThreePacketsPastAHole) {
  const auto seqs = send_data(8);
  now += 50ms;
  // ack_nr = seqs[0]; the mask's bit i is seqs[0] + 2 + i: seqs[2] and seqs[3] arrived.
  peer_says(ack(seqs[0], {std::byte{0b0011}, {}, {}, {}}));
  EXPECT_EQ(cc.losses, 0);
  EXPECT_FALSE(poll());
  // Now seqs[2], seqs[3], seqs[5] arrived: three past seqs[1], two past seqs[4].
  peer_says(ack(seqs[0], {std::byte{0b1011}, {}, {}, {}}));
  EXPECT_EQ(cc.losses, 1);
  auto resent = poll();
  ASSERT_TRUE(resent);
  EXPECT_EQ(resent->seq_nr, seqs[1]);
  EXPECT_FALSE(poll());
  // In flight: 8 sent - 1 acked - 3 SACKed (the resent one counts again once resent).
  EXPECT_EQ(conn.bytes_in_flight(), 4u * 1180);
}

TEST_F(UtpLossDetection, AckFromTheFutureIsIgnored) {
  const auto seqs = send_data(2);
  peer_says(ack(static_cast<std::uint16_t>(seqs.back() + 1)));
  EXPECT_EQ(conn.bytes_in_flight(), 2u * 1180);
  peer_says(ack(static_cast<std::uint16_t>(seqs.back() + 30000)));
  EXPECT_EQ(conn.bytes_in_flight(), 2u * 1180);
  peer_says(ack(seqs.back()));
  EXPECT_EQ(conn.bytes_in_flight(), 0u);
  EXPECT_EQ(conn.unacknowledged(), 0u);
}

TEST_F(UtpLossDetection, TimeoutMarksEverythingLostAndBacksOff) {
  send_data(4);
  const Duration rto = conn.rto();
  ASSERT_TRUE(conn.next_deadline());
  now = *conn.next_deadline();
  conn.handle_timeout(now);
  EXPECT_EQ(cc.timeouts, 1);
  EXPECT_EQ(conn.rto(), 2 * rto);
  EXPECT_EQ(conn.bytes_in_flight(), 0u);
  // The window (256 KiB) takes all four again.
  int resent = 0;
  while (poll()) ++resent;
  EXPECT_EQ(resent, 4);
  EXPECT_EQ(conn.stats().retransmissions, 4u);
}

}  // namespace
}  // namespace starling::utp
