#include "net/udp_socket.hpp"

#include <linux/errqueue.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>
#include <string>

#include "net/path_mtu.hpp"

namespace starling::net {

namespace asio = boost::asio;
using udp = asio::ip::udp;

namespace {

// One UDP_SEGMENT control message, in 8-byte words so the buffer is aligned for cmsghdr.
constexpr std::size_t kControlBytes = CMSG_SPACE(sizeof(std::uint16_t));
constexpr std::size_t kControlWords = (kControlBytes + 7) / 8;

bool would_block(int err) {
  return err == EAGAIN || err == EWOULDBLOCK;
}

// Error-queue entries read per drain. More stay queued and keep the socket in EPOLLERR, so the
// next wake-up (at once) reads on: bounded work per handler, nothing left behind.
constexpr int kErrorsPerDrain = 256;

// Errors with which a kernel or device refuses a GSO send as such (the same datagrams may go
// one by one): EINVAL (segment larger than the route's MTU, too many segments), EMSGSIZE,
// EIO (the device cannot checksum segments), ENOPROTOOPT / EOPNOTSUPP (no UDP GSO at all).
bool gso_refused(int err) {
  return err == EINVAL || err == EMSGSIZE || err == EIO || err == ENOPROTOOPT || err == EOPNOTSUPP;
}

// Errors that no later GSO send would escape: stop using GSO on this socket.
bool gso_unsupported(int err) {
  return err == EIO || err == ENOPROTOOPT || err == EOPNOTSUPP;
}

udp::endpoint to_endpoint(const sockaddr_storage& address, socklen_t length) {
  udp::endpoint endpoint;
  const std::size_t size = std::min<std::size_t>(length, endpoint.capacity());
  std::memcpy(endpoint.data(), &address, size);
  endpoint.resize(size);
  return endpoint;
}

// The destination as this socket's family can reach it: IPv4 from an IPv6 socket as a
// v4-mapped address (dual stack); IPv6 from an IPv4 socket only when it is v4-mapped.
bool reachable_as(const udp::endpoint& to, bool socket_v6, udp::endpoint& out) {
  const asio::ip::address address = to.address();
  if (address.is_v6() == socket_v6) {
    out = to;
    return true;
  }
  if (socket_v6) {
    out = {asio::ip::make_address_v6(asio::ip::v4_mapped, address.to_v4()), to.port()};
    return true;
  }
  if (!address.to_v6().is_v4_mapped()) return false;
  out = {asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()), to.port()};
  return true;
}

}  // namespace

UdpSocket::UdpSocket(asio::io_context& io, const UdpSocketSettings& settings)
    : io_(io),
      settings_(settings),
      socket_(io),
      queue_(settings.send_queue_datagrams, settings.send_queue_bytes) {
  settings_.receive_batch = std::max<std::size_t>(settings_.receive_batch, 1);
  settings_.max_datagram_size = std::clamp<std::size_t>(settings_.max_datagram_size, 1, 65536);
  settings_.max_batches_per_wake = std::max<std::size_t>(settings_.max_batches_per_wake, 1);
  settings_.send_batch = std::clamp<std::size_t>(settings_.send_batch, 1, 1024);  // UIO_MAXIOV
  settings_.max_gso_segments = std::max<std::size_t>(settings_.max_gso_segments, 1);
}

UdpSocket::~UdpSocket() {
  close();
}

Status UdpSocket::open(const udp::endpoint& local) {
  close();
  boost::system::error_code ec;
  socket_.open(local.protocol(), ec);
  if (!ec) socket_.bind(local, ec);
  if (!ec) socket_.non_blocking(true, ec);
  if (ec) {
    boost::system::error_code ignored;
    socket_.close(ignored);
    return Error(std::error_code(ec.value(), std::system_category()),
                 "UDP " + local.address().to_string() + ":" + std::to_string(local.port()));
  }
  v6_ = local.address().is_v6();
  set_buffer_sizes();

  const int fd = socket_.native_handle();
  // ICMP errors for our datagrams: an unconnected UDP socket ignores them unless asked. An
  // IPv6 socket asks for both, as its IPv4 peers (v4-mapped) get their errors by ICMPv4.
  const int on = 1;
  setsockopt(fd, SOL_IP, IP_RECVERR, &on, sizeof on);
  if (v6_) setsockopt(fd, SOL_IPV6, IPV6_RECVERR, &on, sizeof on);

  gso_ = false;
  if (settings_.use_gso) {
    // Reading the option back is the cheapest probe: kernels without UDP GSO reject it.
    int segment = 0;
    socklen_t length = sizeof segment;
    gso_ = getsockopt(fd, SOL_UDP, UDP_SEGMENT, &segment, &length) == 0;
  }

  const std::size_t batch = settings_.receive_batch;
  if (!receive_buffers_) {
    receive_buffers_.reset(new std::uint8_t[batch * settings_.max_datagram_size]);
    receive_messages_.resize(batch);
    receive_iovecs_.resize(batch);
    receive_addresses_.resize(batch);
    send_messages_.resize(settings_.send_batch);
    send_iovecs_.resize(settings_.send_batch);
    send_controls_.resize(settings_.send_batch * kControlWords);
    send_runs_.resize(settings_.send_batch);
  }
  wait_readable();
  return ok();
}

void UdpSocket::close() {
  if (!socket_.is_open()) return;
  boost::system::error_code ignored;
  socket_.close(ignored);  // pending waits complete with operation_aborted
  queue_.pop(queue_.size());
  unsegmented_ = 0;
  waiting_writable_ = false;
}

void UdpSocket::set_buffer_sizes() {
  const int fd = socket_.native_handle();
  const auto apply = [fd](int option, int force_option, int wanted) {
    setsockopt(fd, SOL_SOCKET, option, &wanted, sizeof wanted);
    int granted = 0;
    socklen_t length = sizeof granted;
    getsockopt(fd, SOL_SOCKET, option, &granted, &length);
    // The kernel doubles the request (bookkeeping) and caps it at {r,w}mem_max; past the cap
    // only a privileged process gets more, so try that quietly.
    if (granted < wanted && setsockopt(fd, SOL_SOCKET, force_option, &wanted, sizeof wanted) == 0) {
      getsockopt(fd, SOL_SOCKET, option, &granted, &length);
    }
    return granted;
  };
  receive_buffer_bytes_ = apply(SO_RCVBUF, SO_RCVBUFFORCE, settings_.receive_buffer_bytes);
  send_buffer_bytes_ = apply(SO_SNDBUF, SO_SNDBUFFORCE, settings_.send_buffer_bytes);
}

udp::endpoint UdpSocket::local_endpoint() const {
  boost::system::error_code ec;
  return socket_.local_endpoint(ec);
}

void UdpSocket::add_receiver(DatagramReceiver& receiver) {
  receivers_.push_back(&receiver);
}

void UdpSocket::remove_receiver(DatagramReceiver& receiver) {
  const auto it = std::find(receivers_.begin(), receivers_.end(), &receiver);
  if (it == receivers_.end()) return;
  // While a datagram is being offered the list is being walked: leave a hole, pruned later.
  if (dispatching_ > 0) {
    *it = nullptr;
  } else {
    receivers_.erase(it);
  }
}

void UdpSocket::prune_receivers() {
  std::erase(receivers_, nullptr);
}

// ---- receiving -------------------------------------------------------------------------------

void UdpSocket::wait_readable() {
  socket_.async_wait(udp::socket::wait_read,
                     [this, alive = std::weak_ptr<int>(alive_)](boost::system::error_code ec) {
                       if (alive.expired() || ec || !socket_.is_open()) return;
                       receive_some();
                       if (socket_.is_open()) wait_readable();
                     });
}

void UdpSocket::receive_some() {
  const int fd = socket_.native_handle();
  const std::size_t batch = settings_.receive_batch;
  const std::size_t slot = settings_.max_datagram_size;
  bool received = false;
  for (std::size_t round = 0; round < settings_.max_batches_per_wake; ++round) {
    for (std::size_t i = 0; i < batch; ++i) {
      receive_iovecs_[i] = {receive_buffers_.get() + i * slot, slot};
      msghdr& header = receive_messages_[i].msg_hdr;
      header = {};
      header.msg_name = &receive_addresses_[i];
      header.msg_namelen = sizeof(sockaddr_storage);
      header.msg_iov = &receive_iovecs_[i];
      header.msg_iovlen = 1;
    }
    const int got =
        recvmmsg(fd, receive_messages_.data(), static_cast<unsigned>(batch), MSG_DONTWAIT, nullptr);
    if (got < 0) {
      const int err = errno;
      if (err == EINTR) continue;
      if (would_block(err)) {
        // Nothing (more) to read. A wake-up that found no datagram at all may have been for an
        // error-queue entry alone (EPOLLERR, e.g. one whose socket error a send consumed):
        // read it now, or every re-armed wait would wake at once again.
        if (!received) drain_errors();
        return;
      }
      // A pending socket error (sk_err), set by an ICMP error and reported here once, before
      // any datagram: the error queue says for which destination. Then read on.
      ++counters_.receive_errors;
      drain_errors();
      if (!socket_.is_open()) return;
      continue;
    }
    if (got == 0) return;
    received = true;

    in_batch_ = true;
    ++counters_.receive_batches;
    for (int i = 0; i < got && socket_.is_open(); ++i) {
      const mmsghdr& message = receive_messages_[i];
      if (message.msg_hdr.msg_flags & MSG_TRUNC) {
        ++counters_.truncated_in;
        continue;
      }
      ++counters_.datagrams_in;
      counters_.bytes_in += message.msg_len;
      const Datagram datagram{
          to_endpoint(receive_addresses_[i], message.msg_hdr.msg_namelen),
          {receive_buffers_.get() + static_cast<std::size_t>(i) * slot, message.msg_len}};
      dispatch(datagram);
    }
    end_batch();
    if (!socket_.is_open() || got < static_cast<int>(batch)) return;
  }
}

void UdpSocket::dispatch(const Datagram& datagram) {
  ++dispatching_;
  bool taken = false;
  // By index: a receiver added during the call is consulted too, and none is skipped.
  for (std::size_t i = 0; i < receivers_.size() && !taken; ++i) {
    if (receivers_[i] != nullptr) taken = receivers_[i]->on_datagram(datagram);
  }
  --dispatching_;
  if (!taken) ++counters_.unclaimed_in;
}

void UdpSocket::drain_errors() {
  const int fd = socket_.native_handle();
  for (int i = 0; i < kErrorsPerDrain && socket_.is_open(); ++i) {
    sockaddr_storage address{};
    // The start of the datagram that caused the error comes along; it is not needed.
    std::array<std::uint8_t, 64> payload{};
    ::iovec iov{payload.data(), payload.size()};
    alignas(::cmsghdr) std::array<std::uint8_t, 256> control{};
    ::msghdr header{};
    header.msg_name = &address;
    header.msg_namelen = sizeof address;
    header.msg_iov = &iov;
    header.msg_iovlen = 1;
    header.msg_control = control.data();
    header.msg_controllen = control.size();
    if (recvmsg(fd, &header, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) {
      if (errno == EINTR) continue;
      return;  // EAGAIN: the queue is empty (and the socket error cleared with it)
    }
    ++counters_.queued_errors;
    const ::sock_extended_err* error = nullptr;
    for (::cmsghdr* c = CMSG_FIRSTHDR(&header); c != nullptr; c = CMSG_NXTHDR(&header, c)) {
      if ((c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR) ||
          (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR)) {
        error = reinterpret_cast<const ::sock_extended_err*>(CMSG_DATA(c));
        break;
      }
    }
    if (error == nullptr) continue;
    ::sock_extended_err entry{};
    std::memcpy(&entry, error, sizeof entry);
    // Only errors from the network: local ones (SO_EE_ORIGIN_LOCAL: a datagram too big to
    // send) were already reported by the send. "Packet too big" is path MTU, not reachability.
    if (entry.ee_origin != SO_EE_ORIGIN_ICMP && entry.ee_origin != SO_EE_ORIGIN_ICMP6) continue;
    if (entry.ee_errno == 0 || entry.ee_errno == EMSGSIZE) continue;
    if (header.msg_namelen == 0) continue;
    report_unreachable(to_endpoint(address, header.msg_namelen),
                       std::error_code(static_cast<int>(entry.ee_errno), std::system_category()));
  }
  // Entries may be left (more than one drain's worth): the socket stays in EPOLLERR, so the
  // re-armed readiness wait comes back at once and reads on.
}

void UdpSocket::post_drain_errors() {
  if (drain_posted_) return;
  drain_posted_ = true;
  asio::post(io_, [this, alive = std::weak_ptr<int>(alive_)] {
    if (alive.expired()) return;
    drain_posted_ = false;
    if (socket_.is_open()) drain_errors();
  });
}

void UdpSocket::report_unreachable(const udp::endpoint& destination, std::error_code why) {
  ++counters_.unreachable_reports;
  ++dispatching_;
  for (std::size_t i = 0; i < receivers_.size() && socket_.is_open(); ++i) {
    if (receivers_[i] != nullptr) receivers_[i]->on_unreachable(destination, why);
  }
  --dispatching_;
  if (dispatching_ == 0) prune_receivers();
}

void UdpSocket::end_batch() {
  ++dispatching_;
  for (std::size_t i = 0; i < receivers_.size() && socket_.is_open(); ++i) {
    if (receivers_[i] != nullptr) receivers_[i]->on_batch_end();
  }
  --dispatching_;
  prune_receivers();
  in_batch_ = false;
  flush();
}

// ---- sending ---------------------------------------------------------------------------------

bool UdpSocket::send(const udp::endpoint& to, std::span<const std::uint8_t> bytes) {
  udp::endpoint destination;
  if (!socket_.is_open() || bytes.size() > kMaxUdpPayload || !reachable_as(to, v6_, destination)) {
    ++counters_.send_errors;
    return false;
  }
  if (!queue_.push(destination, bytes)) {
    ++counters_.queue_full_drops;
    return false;
  }
  // Inside a batch the batch's end flushes; elsewhere a posted flush collects every send of
  // the current handler into one sendmmsg.
  if (!in_batch_) post_flush();
  return true;
}

void UdpSocket::post_flush() {
  if (flush_posted_) return;
  flush_posted_ = true;
  asio::post(io_, [this, alive = std::weak_ptr<int>(alive_)] {
    if (alive.expired()) return;
    flush_posted_ = false;
    flush();
  });
}

void UdpSocket::wait_writable() {
  waiting_writable_ = true;
  ++counters_.writable_waits;
  socket_.async_wait(udp::socket::wait_write,
                     [this, alive = std::weak_ptr<int>(alive_)](boost::system::error_code ec) {
                       if (alive.expired()) return;
                       waiting_writable_ = false;
                       if (!ec) flush();
                     });
}

std::size_t UdpSocket::build_messages() {
  std::size_t count = 0;
  std::size_t next = 0;  // queue index of the next datagram
  while (count < settings_.send_batch && next < queue_.size()) {
    const bool segmented = gso_ && next >= unsegmented_;
    const std::size_t run =
        segmented ? queue_.run_length(next, settings_.max_gso_segments, kMaxUdpPayload) : 1;
    std::size_t bytes = 0;
    for (std::size_t i = next; i < next + run; ++i) bytes += queue_.at(i).size;

    const SendQueue::Entry& first = queue_.at(next);
    send_iovecs_[count] = {const_cast<std::uint8_t*>(queue_.data(next)), bytes};
    msghdr& header = send_messages_[count].msg_hdr;
    header = {};
    header.msg_name = const_cast<sockaddr*>(first.to.data());
    header.msg_namelen = static_cast<socklen_t>(first.to.size());
    header.msg_iov = &send_iovecs_[count];
    header.msg_iovlen = 1;
    if (run > 1) {
      header.msg_control = &send_controls_[count * kControlWords];
      header.msg_controllen = kControlBytes;
      cmsghdr* control = CMSG_FIRSTHDR(&header);
      control->cmsg_level = SOL_UDP;
      control->cmsg_type = UDP_SEGMENT;
      control->cmsg_len = CMSG_LEN(sizeof(std::uint16_t));
      const auto segment = static_cast<std::uint16_t>(first.size);
      std::memcpy(CMSG_DATA(control), &segment, sizeof segment);
    }
    send_runs_[count] = run;
    next += run;
    ++count;
  }
  return count;
}

void UdpSocket::flush() {
  if (!socket_.is_open() || waiting_writable_) return;
  const int fd = socket_.native_handle();
  bool retried = false;
  while (!queue_.empty()) {
    const std::size_t count = build_messages();
    const int sent =
        sendmmsg(fd, send_messages_.data(), static_cast<unsigned>(count), MSG_DONTWAIT);
    if (sent > 0) {
      retried = false;
      ++counters_.send_calls;
      std::size_t datagrams = 0;
      for (int m = 0; m < sent; ++m) {
        datagrams += send_runs_[m];
        counters_.bytes_out += send_iovecs_[m].iov_len;
        if (send_runs_[m] > 1) ++counters_.gso_sends;
      }
      counters_.datagrams_out += datagrams;
      queue_.pop(datagrams);
      unsegmented_ -= std::min(unsegmented_, datagrams);
      // A call cut short met an error it does not return: a full buffer, or a pending ICMP
      // error (cleared by it, details in the error queue, which a wake-up busy with datagrams
      // might not read for a while).
      if (sent < static_cast<int>(count)) post_drain_errors();
      continue;
    }
    // sendmmsg reports an error only when the first message failed.
    const int err = sent < 0 ? errno : EAGAIN;
    if (err == EINTR) continue;
    if (would_block(err)) {
      wait_writable();
      return;
    }
    if (!retried) {
      // The error may not be this datagram's: a send also reports (and clears) a pending
      // socket error, i.e. an ICMP error for some earlier datagram to anyone. Its details wait
      // in the error queue; the datagram gets one more try before it is blamed.
      retried = true;
      ++counters_.send_retries;
      post_drain_errors();
      continue;
    }
    retried = false;
    if (send_runs_[0] > 1 && gso_refused(err)) {
      ++counters_.gso_fallbacks;
      if (gso_unsupported(err)) gso_ = false;
      unsegmented_ = send_runs_[0];
      continue;
    }
    // This datagram cannot go (no route, too big for the path, filtered, ENOBUFS from a full
    // device queue, which no writability wait would end): drop it, like a network would.
    counters_.send_errors += send_runs_[0];
    queue_.pop(send_runs_[0]);
    unsegmented_ -= std::min(unsegmented_, send_runs_[0]);
  }
}

}  // namespace starling::net
