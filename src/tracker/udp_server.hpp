// The UDP side of the tracker (BEP 15) on one io_context: one socket per server thread
// (SO_REUSEPORT: the kernel spreads datagrams by sender). When the socket is readable, up to
// 32 datagrams are taken with one recvmmsg and their replies sent with one sendmmsg, so the
// cost per announce is a fraction of two system calls.
#pragma once

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <string>

#include "core/expected.hpp"
#include "tracker/tracker_service.hpp"

namespace starling::tracker {

class UdpWorker {
 public:
  static constexpr std::size_t kBatch = 32;
  static constexpr std::size_t kMaxDatagram = 2048;  // longer ones are cut (and then refused)

  UdpWorker(boost::asio::io_context& io, TrackerService& service, std::size_t index,
            std::chrono::steady_clock::time_point epoch);

  Status bind(const boost::asio::ip::udp::endpoint& endpoint);
  boost::asio::ip::udp::endpoint local_endpoint() const;
  void start();
  void stop();

 private:
  void wait();
  void drain();

  TrackerService& service_;
  std::size_t index_;
  std::chrono::steady_clock::time_point epoch_;
  boost::asio::ip::udp::socket socket_;
  std::array<std::array<std::uint8_t, kMaxDatagram>, kBatch> in_{};
  std::array<std::string, kBatch> out_;
  bool stopped_ = false;
};

}  // namespace starling::tracker
