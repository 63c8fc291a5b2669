#include "tracker/udp_server.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

namespace starling::tracker {

namespace asio = boost::asio;
using udp_proto = asio::ip::udp;
using ReusePort = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

namespace {

PeerAddress from_sockaddr(const sockaddr_storage& s) {
  PeerAddress a;
  if (s.ss_family == AF_INET) {
    const auto& in = reinterpret_cast<const sockaddr_in&>(s);
    a.ip = IpAddress::v4_bytes(reinterpret_cast<const std::uint8_t*>(&in.sin_addr));
    a.port = ntohs(in.sin_port);
  } else {
    const auto& in6 = reinterpret_cast<const sockaddr_in6&>(s);
    a.ip = IpAddress::v6_bytes(reinterpret_cast<const std::uint8_t*>(&in6.sin6_addr)).unmapped();
    a.port = ntohs(in6.sin6_port);
  }
  return a;
}

}  // namespace

UdpWorker::UdpWorker(asio::io_context& io, TrackerService& service, std::size_t index,
                     std::chrono::steady_clock::time_point epoch)
    : service_(service), index_(index), epoch_(epoch), socket_(io) {
  for (auto& o : out_) o.reserve(kMaxDatagram);
}

Status UdpWorker::bind(const udp_proto::endpoint& endpoint) {
  boost::system::error_code ec;
  socket_.open(endpoint.protocol(), ec);
  if (!ec) socket_.set_option(udp_proto::socket::reuse_address(true), ec);
  if (!ec) socket_.set_option(ReusePort(true), ec);
  if (!ec) {
    // A deeper receive queue rides out bursts (the kernel caps it at net.core.rmem_max).
    socket_.set_option(asio::socket_base::receive_buffer_size(4 << 20), ec);
    ec = {};
  }
  if (!ec) socket_.bind(endpoint, ec);
  if (!ec) socket_.non_blocking(true, ec);
  if (ec) {
    return Error(Errc::io_error, "UDP " + endpoint.address().to_string() + ":" +
                                     std::to_string(endpoint.port()) + ": " + ec.message());
  }
  return ok();
}

udp_proto::endpoint UdpWorker::local_endpoint() const {
  boost::system::error_code ec;
  return socket_.local_endpoint(ec);
}

void UdpWorker::start() {
  wait();
}

void UdpWorker::stop() {
  stopped_ = true;
  boost::system::error_code ec;
  socket_.close(ec);
}

void UdpWorker::wait() {
  socket_.async_wait(udp_proto::socket::wait_read, [this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    drain();
    wait();
  });
}

void UdpWorker::drain() {
  std::array<mmsghdr, kBatch> in_msgs{};
  std::array<iovec, kBatch> in_iov{};
  std::array<sockaddr_storage, kBatch> from{};
  std::array<mmsghdr, kBatch> out_msgs{};
  std::array<iovec, kBatch> out_iov{};
  const int fd = socket_.native_handle();
  // A bounded number of rounds, so the HTTP side on this thread gets its turn.
  for (int round = 0; round < 16; ++round) {
    for (std::size_t i = 0; i < kBatch; ++i) {
      in_iov[i] = {in_[i].data(), in_[i].size()};
      in_msgs[i].msg_hdr = {};
      in_msgs[i].msg_hdr.msg_name = &from[i];
      in_msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
      in_msgs[i].msg_hdr.msg_iov = &in_iov[i];
      in_msgs[i].msg_hdr.msg_iovlen = 1;
    }
    const int got = recvmmsg(fd, in_msgs.data(), kBatch, MSG_DONTWAIT, nullptr);
    if (got <= 0) return;
    const Seconds now =
        std::chrono::duration_cast<Seconds>(std::chrono::steady_clock::now() - epoch_);
    unsigned replies = 0;
    for (int i = 0; i < got; ++i) {
      std::string& out = out_[replies];
      out.clear();
      const std::size_t size = std::min<std::size_t>(in_msgs[i].msg_len, kMaxDatagram);
      service_.handle_udp({in_[i].data(), size}, from_sockaddr(from[i]), now, out, index_);
      if (out.empty()) continue;
      out_iov[replies] = {out.data(), out.size()};
      out_msgs[replies].msg_hdr = {};
      out_msgs[replies].msg_hdr.msg_name = &from[i];
      out_msgs[replies].msg_hdr.msg_namelen = in_msgs[i].msg_hdr.msg_namelen;
      out_msgs[replies].msg_hdr.msg_iov = &out_iov[replies];
      out_msgs[replies].msg_hdr.msg_iovlen = 1;
      ++replies;
    }
    for (unsigned sent = 0; sent < replies;) {
      const int n = sendmmsg(fd, out_msgs.data() + sent, replies - sent, MSG_DONTWAIT);
      if (n <= 0) break;  // a full send queue drops replies, as UDP may; clients retry
      sent += static_cast<unsigned>(n);
    }
    if (got < static_cast<int>(kBatch)) return;
  }
}

}  // namespace starling::tracker
