// One uTP connection (BEP 29) as a sans-IO state machine, in the style of quinn-proto: the
// socket manager parses and demultiplexes datagrams and hands each to handle_packet(); it asks
// poll_transmit() for datagrams to send until there are none; it calls handle_timeout() at
// next_deadline(). Time is always a parameter (`now`); nothing here reads a clock or a socket.
//
//   conn.handle_packet(now, packet);        // for every datagram of a recvmmsg batch
//   while (auto n = conn.poll_transmit(now, buffer)) send(buffer, *n,
//   conn.transmit_is_mtu_probe()); if (auto deadline = conn.next_deadline()) arm_timer(*deadline);
//
// ACKs are deferred: receiving only records that one is owed, and the next poll_transmit()
// produces it (or piggybacks it on data), so a whole batch of received datagrams costs one ACK.
//
// Sending: write() appends to a bounded send buffer; packets are cut from it when the congestion
// window (CongestionControl::window_bytes) and the peer's advertised window allow. Sent packets
// keep only their offset into the send buffer; retransmissions copy from there. Loss is detected
// by 3 duplicate ACKs or a SACK showing 3 packets past a hole (fast retransmit, on_loss) and by
// the retransmission timer (on_timeout, exponential back-off, error after max_timeouts).
//
// Path MTU: packets start at min_packet_size and probe upward by binary search towards the
// ceiling given by set_max_packet_size(). A probe is sent with "don't fragment" (ask
// transmit_is_mtu_probe()); when it is lost the ceiling drops below it and the loss is not
// treated as congestion. Its retransmission goes without DF, so IP fragments it if need be.
//
// Receiving: in-order bytes go to a bounded receive buffer for read(); packets past a hole wait
// in a reorder buffer (bounded in packets and, with the receive buffer, in bytes: the advertised
// wnd_size is the free space left). Duplicates are dropped and re-acknowledged.
//
// Handshake detail: the responder's STATE (SYN-ACK) carries the seq_nr its first DATA will use,
// and the initiator sets ack_nr to one before it. Until the responder hears anything from the
// initiator after the SYN, it sends at most its first DATA packet and keeps stamping that same
// seq_nr on its STATEs, so whichever arrives first gives the initiator the right numbering.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "core/expected.hpp"
#include "utp/byte_ring.hpp"
#include "utp/congestion_control.hpp"
#include "utp/error.hpp"
#include "utp/packet.hpp"
#include "utp/reorder_buffer.hpp"
#include "utp/sent_packets.hpp"

namespace starling::utp {

struct ConnectionSettings {
  std::size_t send_buffer_bytes = std::size_t{1024} * 1024;
  std::size_t receive_buffer_bytes = std::size_t{1024} * 1024;
  // Packets accepted past a hole (rounded up to a power of two).
  std::size_t max_reorder_packets = 1024;
  // Packets in flight at most (rounded up to a power of two, at most 16384).
  std::size_t max_packets_in_flight = 2048;
  // UDP payload bytes (header + extensions + data) every path carries: 1280-byte IPv6 minimum
  // MTU minus IPv6 and UDP headers, with room to spare for tunnels.
  std::size_t min_packet_size = 1200;
  // BEP 29: the timeout starts at 1000 ms and never goes below 500 ms.
  Duration initial_rto = std::chrono::milliseconds{1000};
  Duration min_rto = std::chrono::milliseconds{500};
  Duration max_rto = std::chrono::seconds{60};
  // Retransmission timeouts in a row (without progress) before the connection fails.
  int max_timeouts = 7;
  int max_syn_timeouts = 4;
  int duplicate_ack_threshold = 3;
  // An idle connection sends an ACK this often, so NAT mappings stay open.
  Duration keepalive_interval = std::chrono::seconds{29};
  // In-order data is acknowledged after this delay or after `ack_every_packets` packets,
  // whichever comes first (0 = at the next poll_transmit). Anything out of order, duplicated or
  // a window update is acknowledged at once.
  Duration ack_delay = std::chrono::milliseconds{0};
  int ack_every_packets = 2;
  // After our FIN is acknowledged, how long we wait for the peer's FIN before calling it closed.
  Duration fin_linger = std::chrono::seconds{10};
};

enum class ConnectionState { syn_sent, syn_received, connected, fin_sent, closed, error };

struct ConnectionStats {
  std::uint64_t packets_sent = 0;
  std::uint64_t retransmissions = 0;
  std::uint64_t fast_retransmissions = 0;
  std::uint64_t timeouts = 0;
  std::uint64_t duplicate_packets = 0;  // received
  std::uint64_t mtu_probes = 0;
  std::uint64_t mtu_probes_lost = 0;
};

class Connection {
 public:
  // An outgoing connection: we receive on `recv_id` (random, from the caller) and send on
  // recv_id + 1. Call connect() to queue the SYN. `initial_seq` is the SYN's seq_nr.
  static Connection outgoing(CongestionControl& cc, std::uint16_t recv_id,
                             std::uint16_t initial_seq, const ConnectionSettings& settings = {});
  // An incoming connection from its SYN: we send on the SYN's connection_id and receive on one
  // more. A STATE answering the SYN is owed at once. `initial_seq` (random) numbers our packets.
  static Expected<Connection> incoming(TimePoint now, const PacketView& syn, CongestionControl& cc,
                                       std::uint16_t initial_seq,
                                       const ConnectionSettings& settings = {});

  void connect(TimePoint now);

  // A datagram the socket manager routed here (its connection_id is ours).
  void handle_packet(TimePoint now, const PacketView& packet);
  // The next datagram to send, written to `buffer` (which should hold max_packet_size() bytes);
  // nullopt when there is nothing to send now.
  std::optional<std::size_t> poll_transmit(TimePoint now, std::span<std::byte> buffer);
  // Whether the datagram poll_transmit() returned last is a path-MTU probe: send it with
  // "don't fragment" (IP_PMTUDISC_PROBE). Every other datagram may be fragmented.
  bool transmit_is_mtu_probe() const { return last_was_probe_; }
  void handle_timeout(TimePoint now);
  // When handle_timeout() wants to run; nullopt when no timer is armed.
  std::optional<TimePoint> next_deadline() const;

  // Appends to the send buffer; returns how many bytes fit.
  std::size_t write(std::span<const std::byte> bytes);
  std::size_t write(std::string_view bytes);
  std::size_t writable() const { return send_buffer_.free(); }
  // Bytes written but not yet acknowledged.
  std::size_t unacknowledged() const { return send_buffer_.size(); }

  // In-order received bytes: read() copies; peek()/consume() let the caller avoid the copy.
  std::size_t readable() const { return receive_buffer_.size(); }
  std::size_t read(std::span<std::byte> out);
  std::span<const std::byte> peek() const { return receive_buffer_.front(); }
  void consume(std::size_t bytes);
  // The peer's FIN has arrived and every byte before it has been read.
  bool eof() const { return peer_fin_done_ && receive_buffer_.size() == 0; }

  // Sends FIN once everything written so far is sent; closed once it is acknowledged and the
  // peer's FIN has arrived (or fin_linger after the ack).
  void close();
  // Queues a RESET and fails the connection at once.
  void abort();
  // Fails the connection at once without a RESET: the peer is unreachable (the socket layer
  // heard an ICMP error for our packets), so nobody would read one.
  void fail_unreachable();

  // The largest UDP payload the path may take (e.g. interface MTU - IP - UDP headers; up to
  // 65507 on loopback). MTU probing climbs towards it.
  void set_max_packet_size(std::size_t bytes);

  ConnectionState state() const { return state_; }
  // Why the state is `error`.
  const std::optional<Error>& error() const { return error_; }

  std::uint16_t recv_id() const { return recv_id_; }
  std::uint16_t send_id() const { return send_id_; }
  // The current (known-good) packet size and the probing ceiling, in UDP payload bytes.
  std::size_t packet_size() const { return mtu_floor_; }
  std::size_t max_packet_size() const { return mtu_ceiling_; }
  std::size_t bytes_in_flight() const { return in_flight_; }
  std::uint32_t peer_window() const { return peer_wnd_; }
  // What we advertise: free receive space.
  std::uint32_t receive_window() const;
  Duration rtt() const { return rtt_; }
  Duration rto() const { return rto_; }
  const ConnectionStats& stats() const { return stats_; }

 private:
  Connection(CongestionControl& cc, const ConnectionSettings& settings);

  // Receiving.
  void process_ack(TimePoint now, const PacketView& packet);
  void acknowledge(TimePoint now, std::uint16_t seq, SentPacket& packet, std::uint32_t& bytes);
  void detect_losses(const PacketView& packet, TimePoint now);
  void mark_lost(std::uint16_t seq, SentPacket& packet);
  void receive_payload(TimePoint now, const PacketView& packet);
  void deliver_in_order(std::span<const std::byte> payload, bool fin);
  void owe_ack(TimePoint now, bool at_once);
  void update_rtt(Duration sample);
  void fail(Errc why, std::string detail);
  void check_closed(TimePoint now);

  // Sending.
  std::size_t emit(TimePoint now, std::span<std::byte> buffer, PacketType type, std::uint16_t seq,
                   std::span<const std::byte> sack = {});
  std::optional<std::size_t> send_ack(TimePoint now, std::span<std::byte> buffer);
  std::optional<std::size_t> resend_lost(TimePoint now, std::span<std::byte> buffer);
  std::optional<std::size_t> send_new_data(TimePoint now, std::span<std::byte> buffer);
  std::size_t send_packet(TimePoint now, std::span<std::byte> buffer, std::uint16_t seq,
                          SentPacket& packet);
  std::uint32_t window() const;
  bool fits_window(std::uint32_t payload) const;
  std::size_t next_probe_size() const;
  void mtu_probe_lost();
  void set_mtu_floor(std::size_t bytes);

  CongestionControl* cc_;
  ConnectionSettings settings_;
  ConnectionState state_ = ConnectionState::syn_sent;
  std::optional<Error> error_;
  ConnectionStats stats_;

  std::uint16_t recv_id_ = 0;
  std::uint16_t send_id_ = 0;

  // Send side.
  ByteRing send_buffer_;
  std::uint64_t sent_offset_ = 0;  // stream bytes already cut into packets
  SentPackets sent_;
  std::uint16_t seq_nr_ = 0;         // the next packet's seq_nr
  std::uint16_t isn_ = 0;            // our first seq_nr (see the handshake note above)
  std::uint16_t resend_cursor_ = 0;  // lost packets before it have been resent
  std::size_t lost_count_ = 0;
  std::uint32_t in_flight_ = 0;
  std::uint32_t peer_wnd_ = 0;
  int duplicate_acks_ = 0;
  bool close_requested_ = false;
  bool fin_sent_ = false;
  bool fin_acked_ = false;
  bool reset_pending_ = false;
  bool last_was_probe_ = false;

  // Timers.
  Duration rtt_{};
  Duration rtt_var_{};
  bool have_rtt_ = false;
  Duration rto_;
  int timeouts_in_row_ = 0;
  std::optional<TimePoint> rto_deadline_;
  TimePoint last_send_{};
  TimePoint last_receive_{};
  std::optional<TimePoint> ack_due_;
  int packets_unacked_ = 0;  // in-order packets received since our last ACK
  std::optional<TimePoint> linger_deadline_;

  // Receive side.
  ByteRing receive_buffer_;
  ReorderBuffer reorder_;
  std::uint16_t ack_nr_ = 0;       // the last seq_nr received in order
  std::uint32_t reply_micro_ = 0;  // timestamp_difference_microseconds for our next packet
  bool peer_fin_received_ = false;
  bool peer_fin_done_ = false;  // every packet up to the peer's FIN has arrived
  std::uint16_t peer_fin_seq_ = 0;
  bool window_was_closed_ = false;  // we advertised less than one packet: announce reopening

  // Path MTU (UDP payload bytes).
  std::size_t mtu_floor_;
  std::size_t mtu_ceiling_;
  bool probe_in_flight_ = false;
  std::uint16_t probe_seq_ = 0;
  std::size_t probe_size_ = 0;
};

}  // namespace starling::utp
