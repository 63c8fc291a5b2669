// The one UDP socket a session shares among uTP, the DHT and the UDP tracker client, on the
// network thread's io_context.
//
// Asio only tells us when the socket is readable or writable; the datagrams themselves move
// with recvmmsg and sendmmsg on the native handle, dozens per system call, because uTP at
// gigabit rates is ~100k datagrams per second and one syscall each would cost more than the
// protocol. Runs of equal-size datagrams to one peer go out as one UDP GSO send (UDP_SEGMENT):
// one trip down the stack, cut into datagrams by the kernel (or the NIC).
//
// Receiving: a readable socket is drained in batches; each datagram is offered to the
// receivers in the order they were added until one takes it (uTP by connection id, the DHT by
// a leading 'd', the tracker client by transaction id); after each batch every receiver's
// on_batch_end runs (uTP sends its deferred ACKs there), and then the send queue is flushed.
// Sending: send() copies into a bounded queue; a flush at the end of the batch, or one posted
// to the io_context when send() is called outside a batch, hands the queue to the kernel.
// Errors: the socket asks for ICMP errors (IP_RECVERR / IPV6_RECVERR), reads them from the
// error queue (MSG_ERRQUEUE) between batches and tells every receiver which destination is
// unreachable (on_unreachable), e.g. a peer whose kernel refuses our uTP SYN.
//
// Single-threaded: every call, and every receiver callback, happens on the io_context's thread.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <system_error>
#include <vector>

#include "core/expected.hpp"
#include "net/send_queue.hpp"

namespace starling::net {

// One received datagram. `bytes` points into the socket's receive buffer: valid only during
// the call that hands it over; copy what must outlive it.
struct Datagram {
  boost::asio::ip::udp::endpoint from;
  std::span<const std::uint8_t> bytes;
};

class DatagramReceiver {
 public:
  virtual ~DatagramReceiver() = default;
  // True when the datagram was this receiver's (later receivers do not see it).
  virtual bool on_datagram(const Datagram& datagram) = 0;
  // After every batch of received datagrams, whether or not this receiver took any. Sends made
  // here leave with the batch's flush.
  virtual void on_batch_end() {}
  // An ICMP (or ICMPv6) error came back for a datagram we sent to `destination` (as sent: an
  // IPv6 socket reports IPv4 destinations v4-mapped): port unreachable (connection_refused),
  // host or network unreachable, administratively prohibited and the like. Offered to every
  // receiver, between batches. ICMP is unauthenticated and may be stale: a hint, not a verdict.
  // "Packet too big" (EMSGSIZE) is not reported: it is about path MTU, not reachability.
  virtual void on_unreachable(const boost::asio::ip::udp::endpoint& destination,
                              std::error_code why) {
    (void)destination;
    (void)why;
  }
};

struct UdpSocketSettings {
  // Datagrams per recvmmsg. Each has its own buffer of max_datagram_size bytes, allocated once.
  std::size_t receive_batch = 32;
  // Bytes per receive buffer; a longer datagram is dropped (counted as truncated). 64 KiB
  // because uTP over loopback uses packets of up to 64 KiB.
  std::size_t max_datagram_size = std::size_t{64} * 1024;
  // recvmmsg batches per readiness wake-up before the socket waits again, so the other
  // handlers on the thread (timers, disk completions) get their turn under a flood.
  std::size_t max_batches_per_wake = 8;
  // Messages per sendmmsg (a GSO run counts as one message).
  std::size_t send_batch = 64;
  // What may be queued between two flushes. send() refuses beyond this; uTP resends later.
  std::size_t send_queue_datagrams = 4096;
  std::size_t send_queue_bytes = std::size_t{4} * 1024 * 1024;
  // Kernel socket buffers: deep enough for a burst at a few hundred Mbit/s. The kernel caps
  // them at net.core.{r,w}mem_max unless the process may force more (CAP_NET_ADMIN).
  int receive_buffer_bytes = 8 * 1024 * 1024;
  int send_buffer_bytes = 4 * 1024 * 1024;
  // Group equal-size datagrams to one destination into GSO sends when the kernel supports it
  // (detected at open; Linux 4.18+). Off forces one datagram per message (tests, debugging).
  bool use_gso = true;
  // Segments per GSO send: the kernel's UDP_MAX_SEGMENTS is 64 (128 on recent kernels).
  std::size_t max_gso_segments = 64;
};

struct UdpSocketCounters {
  std::uint64_t datagrams_in = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t receive_batches = 0;
  std::uint64_t unclaimed_in = 0;  // no receiver took it
  std::uint64_t truncated_in = 0;  // longer than max_datagram_size: dropped
  std::uint64_t datagrams_out = 0;
  std::uint64_t bytes_out = 0;
  std::uint64_t send_calls = 0;     // sendmmsg system calls that sent something
  std::uint64_t gso_sends = 0;      // messages that carried more than one datagram
  std::uint64_t gso_fallbacks = 0;  // GSO sends the kernel refused, resent one by one
  std::uint64_t queue_full_drops = 0;
  // Datagrams send() refused (closed, too big, wrong family) or the kernel refused (no route,
  // too big for the path, ENOBUFS).
  std::uint64_t send_errors = 0;
  std::uint64_t writable_waits = 0;
  // recvmmsg calls that failed with a socket error (mostly a pending ICMP error) instead of
  // returning datagrams or EAGAIN.
  std::uint64_t receive_errors = 0;
  // Entries read from the socket's error queue, and those of them reported to the receivers
  // as an unreachable destination.
  std::uint64_t queued_errors = 0;
  std::uint64_t unreachable_reports = 0;
  // sendmmsg calls that failed and were tried once more: a send also returns (and clears) a
  // pending ICMP error, which is not the datagram's fault.
  std::uint64_t send_retries = 0;
};

class UdpSocket {
 public:
  explicit UdpSocket(boost::asio::io_context& io, const UdpSocketSettings& settings = {});
  ~UdpSocket();
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;

  // Binds (port 0: any free port) and starts receiving.
  Status open(const boost::asio::ip::udp::endpoint& local);
  // Stops receiving and drops what is queued. Safe inside a receiver callback.
  void close();
  bool is_open() const { return socket_.is_open(); }

  // Receivers are consulted in the order added. Both are safe inside a receiver callback. A
  // receiver must be removed before it is destroyed.
  void add_receiver(DatagramReceiver& receiver);
  void remove_receiver(DatagramReceiver& receiver);

  // Queues one datagram (copied). False when it cannot go: the queue is full, the socket is
  // closed, the datagram is larger than UDP allows, or the address family cannot be reached
  // from this socket. UDP may lose datagrams anyway, so callers treat false as a loss.
  bool send(const boost::asio::ip::udp::endpoint& to, std::span<const std::uint8_t> bytes);
  // Hands the queue to the kernel now. Rarely needed: sends are flushed after each receive
  // batch and, outside one, by a flush posted to the io_context.
  void flush();

  boost::asio::ip::udp::endpoint local_endpoint() const;
  // GSO is in use (asked for, supported by the kernel, not refused by the device).
  bool gso_active() const { return gso_; }
  // The buffer sizes the kernel granted (it reports twice what is usable for payload).
  int receive_buffer_bytes() const { return receive_buffer_bytes_; }
  int send_buffer_bytes() const { return send_buffer_bytes_; }
  std::size_t queued_datagrams() const { return queue_.size(); }
  // Whether send() of a datagram of `bytes` would find room in the queue now. A producer that
  // could make many datagrams (uTP's window) asks first, flushes when the answer is no, and
  // stops when it is still no: a datagram made and then refused would be counted as lost.
  bool has_room(std::size_t bytes) const { return queue_.fits(bytes); }
  const UdpSocketCounters& counters() const { return counters_; }
  const UdpSocketSettings& settings() const { return settings_; }

 private:
  void wait_readable();
  void receive_some();
  void dispatch(const Datagram& datagram);
  // Reads the error queue (MSG_ERRQUEUE) and reports ICMP unreachables to the receivers.
  void drain_errors();
  void post_drain_errors();
  void report_unreachable(const boost::asio::ip::udp::endpoint& destination, std::error_code why);
  void end_batch();
  void post_flush();
  void wait_writable();
  // Builds the next sendmmsg message array from the queue; returns the message count.
  std::size_t build_messages();
  void set_buffer_sizes();
  void prune_receivers();

  boost::asio::io_context& io_;
  UdpSocketSettings settings_;
  boost::asio::ip::udp::socket socket_;
  // Handlers hold a weak reference, so one that runs after the socket is gone does nothing.
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);

  std::vector<DatagramReceiver*> receivers_;  // removed ones are null until the batch ends
  int dispatching_ = 0;

  // Receive side: preallocated at open.
  std::unique_ptr<std::uint8_t[]> receive_buffers_;
  std::vector<::mmsghdr> receive_messages_;
  std::vector<::iovec> receive_iovecs_;
  std::vector<::sockaddr_storage> receive_addresses_;
  bool in_batch_ = false;

  // Send side.
  SendQueue queue_;
  std::vector<::mmsghdr> send_messages_;
  std::vector<::iovec> send_iovecs_;
  std::vector<std::uint64_t> send_controls_;  // one cmsg (UDP_SEGMENT) per message, aligned
  std::vector<std::size_t> send_runs_;        // datagrams per message
  // The first this-many queued datagrams go one per message: their GSO send was refused.
  std::size_t unsegmented_ = 0;
  bool gso_ = false;
  bool flush_posted_ = false;
  bool drain_posted_ = false;
  bool waiting_writable_ = false;
  bool v6_ = false;

  int receive_buffer_bytes_ = 0;
  int send_buffer_bytes_ = 0;
  UdpSocketCounters counters_;
};

}  // namespace starling::net
