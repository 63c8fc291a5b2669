// uTP (BEP 29) under the session: the glue between the sans-IO utp::Connection state machines,
// the shared net::UdpSocket and PeerConnection's PeerStream interface.
//
// UtpTransport is the socket's uTP receiver. It keeps every connection of the session, keyed by
// the peer's address and our receive connection id, and:
//   - routes each received datagram that parses as uTP to its connection (a SYN with no
//     connection yet is a new incoming peer, handed to `on_accept`; a stray packet is answered
//     with RESET); datagrams that are not uTP (DHT, tracker replies) are left for other receivers;
//   - after each received batch, and whenever a stream wrote, lets the touched connections send
//     what they may (so a batch of data costs one ACK), and moves bytes between the connections
//     and the streams' pending reads and writes;
//   - runs one timer at the earliest deadline of all connections (retransmission, delayed ACK,
//     keep-alive);
//   - fails a connection still dialling at once when the socket hears an ICMP error for its
//     peer (no uTP there: the caller falls back to TCP without waiting for connect_timeout).
// A stream closed by its owner leaves its connection behind to finish the FIN exchange; the
// connection is dropped once it is closed or failed.
//
// Single-threaded: everything runs on the session's io_context.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <utility>
#include <vector>

#include "net/udp_socket.hpp"
#include "session/peer_stream.hpp"
#include "utp/connection.hpp"
#include "utp/ledbat.hpp"

namespace starling::session {

struct UtpSettings {
  utp::ConnectionSettings connection;
  utp::LedbatSettings ledbat;
  // An outgoing connection that has not completed its handshake by then fails (timed_out), so
  // the caller can fall back to TCP quickly; BEP 29's own SYN retries would take 15 s.
  std::chrono::milliseconds connect_timeout{3000};
  // Connections (open and closing) at most; SYNs beyond are answered with RESET.
  std::size_t max_connections = 2000;
  // The congestion window's bound towards a peer not known to be starling. libtorrent 2.0.8
  // stalls for good (and times the connection out) when about 130 KiB or more are in flight to
  // it on loopback and a packet is lost; 64 KiB leaves a margin. A starling peer (known from
  // its extension handshake) gets ledbat.max_window_bytes and packets as large as the path.
  std::uint32_t unknown_peer_max_window = 64 * 1024;
};

class UtpTransport final : public net::DatagramReceiver {
 public:
  using AcceptHandler = std::function<void(std::unique_ptr<PeerStream>)>;

  UtpTransport(boost::asio::io_context& io, net::UdpSocket& socket, AcceptHandler on_accept,
               const UtpSettings& settings = {});
  ~UtpTransport() override;
  UtpTransport(const UtpTransport&) = delete;
  UtpTransport& operator=(const UtpTransport&) = delete;

  // A stream whose async_connect dials the peer over uTP.
  std::unique_ptr<PeerStream> make_stream();

  bool on_datagram(const net::Datagram& datagram) override;
  void on_batch_end() override;
  // An ICMP error for a datagram to `destination`: every outgoing connection to exactly that
  // address and port still in its handshake (SYN sent, connect handler pending) fails at once
  // with the error (connection_refused for "port unreachable"), so the caller can fall back to
  // TCP now rather than at connect_timeout. Established connections are left alone: ICMP is
  // unauthenticated and may be stale (a delayed error for an earlier incarnation of the port,
  // or forged); their own retransmission timeouts end them if the peer is really gone.
  void on_unreachable(const boost::asio::ip::udp::endpoint& destination,
                      std::error_code why) override;

  std::size_t connections() const { return links_.size(); }

  // One connection and what waits on it; shared with its stream (implementation detail).
  struct Link;

 private:
  friend class UtpStream;
  using Key = std::pair<boost::asio::ip::udp::endpoint, std::uint16_t>;  // peer, our recv id

  std::shared_ptr<Link> open_outgoing(const boost::asio::ip::udp::endpoint& peer);
  void accept(const net::Datagram& datagram, const utp::PacketView& syn);
  void reply_reset(const boost::asio::ip::udp::endpoint& to, const utp::PacketHeader& stray);
  // Marks a link for service at the end of the batch (or in a posted task outside one).
  void touch(const std::shared_ptr<Link>& link);
  void post_service();
  void service_touched();
  // Moves bytes between the link's connection and its stream, sends what the connection may,
  // completes handlers whose conditions are met, and drops the link once its connection is over.
  void service(const std::shared_ptr<Link>& link, utp::TimePoint now);
  void transmit(Link& link, utp::TimePoint now);
  // The timer at the earliest deadline of every link (a full scan), or at `earliest` if that
  // is sooner than the time it is armed for.
  void arm_timer();
  void arm_timer(utp::TimePoint earliest);
  static utp::TimePoint deadline_of(const Link& link);
  void on_timer();
  std::uint16_t unused_recv_id(const boost::asio::ip::udp::endpoint& peer);

  boost::asio::io_context& io_;
  net::UdpSocket& socket_;
  AcceptHandler on_accept_;
  UtpSettings settings_;
  std::map<Key, std::shared_ptr<Link>> links_;
  std::vector<std::shared_ptr<Link>> touched_;
  bool in_batch_ = false;
  bool service_posted_ = false;
  boost::asio::steady_timer timer_;
  utp::TimePoint timer_at_ = utp::TimePoint::max();
  std::vector<std::byte> packet_;  // poll_transmit's buffer
  std::mt19937 random_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace starling::session
