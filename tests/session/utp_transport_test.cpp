#include "session/utp_transport.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "net/udp_socket.hpp"

namespace starling::session {
namespace {

namespace asio = boost::asio;
using udp = asio::ip::udp;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const udp::endpoint kLoopback4{asio::ip::make_address("127.0.0.1"), 0};

bool run_until(asio::io_context& io, const std::function<bool()>& done,
               Clock::duration limit = 10s) {
  const auto deadline = Clock::now() + limit;
  while (!done()) {
    if (Clock::now() > deadline) return false;
    if (io.stopped()) io.restart();
    io.run_one_for(10ms);
  }
  if (io.stopped()) io.restart();
  io.poll();
  return true;
}

// A UDP port nobody listens on (bound for a moment to find a free one).
udp::endpoint closed_port() {
  asio::io_context io;
  udp::socket socket(io, kLoopback4);
  return socket.local_endpoint();
}

tcp::endpoint as_tcp(const udp::endpoint& endpoint) {
  return {endpoint.address(), endpoint.port()};
}

// One uTP endpoint: a socket and its transport; accepted streams are kept.
struct Node {
  explicit Node(asio::io_context& io) : socket(io) {
    opened = socket.open(kLoopback4).has_value();
    transport = std::make_unique<UtpTransport>(
        io, socket,
        [this](std::unique_ptr<PeerStream> stream) { accepted.push_back(std::move(stream)); });
  }
  ~Node() {
    accepted.clear();
    transport.reset();
  }
  udp::endpoint endpoint() const { return socket.local_endpoint(); }

  net::UdpSocket socket;
  std::unique_ptr<UtpTransport> transport;
  std::vector<std::unique_ptr<PeerStream>> accepted;
  bool opened = false;
};

TEST(UtpTransport, ADialToAPortWithoutUtpIsRefusedAtOnceByTheIcmpError) {
  asio::io_context io;
  Node a(io);
  ASSERT_TRUE(a.opened);
  auto stream = a.transport->make_stream();
  std::optional<boost::system::error_code> result;
  const auto start = Clock::now();
  stream->async_connect(as_tcp(closed_port()),
                        [&](const boost::system::error_code& ec) { result = ec; });
  ASSERT_TRUE(run_until(
      io, [&] { return result.has_value(); }, 5s));
  // Well before UtpSettings::connect_timeout (3 s): the ICMP port unreachable decided it.
  EXPECT_LT(Clock::now() - start, 1s);
  EXPECT_EQ(*result, asio::error::connection_refused);
  EXPECT_GE(a.socket.counters().unreachable_reports, 1u);
  // The failed connection goes away once its stream is closed.
  stream->close();
  ASSERT_TRUE(run_until(
      io, [&] { return a.transport->connections() == 0; }, 2s));
}

TEST(UtpTransport, AnUnreachableReportSparesOtherPortsAndEstablishedConnections) {
  asio::io_context io;
  Node a(io), b(io);
  ASSERT_TRUE(a.opened && b.opened);
  // A dial to b (which speaks uTP) and one to a dead port on the same address at once.
  auto to_b = a.transport->make_stream();
  auto to_nobody = a.transport->make_stream();
  std::optional<boost::system::error_code> b_result, nobody_result;
  to_b->async_connect(as_tcp(b.endpoint()),
                      [&](const boost::system::error_code& ec) { b_result = ec; });
  to_nobody->async_connect(as_tcp(closed_port()),
                           [&](const boost::system::error_code& ec) { nobody_result = ec; });
  ASSERT_TRUE(run_until(
      io, [&] { return b_result && nobody_result; }, 5s));
  EXPECT_FALSE(*b_result) << b_result->message();
  EXPECT_EQ(*nobody_result, asio::error::connection_refused);
  ASSERT_EQ(b.accepted.size(), 1u);

  // A (stale or forged) ICMP error naming b does not end the established connection: it
  // still carries bytes.
  a.transport->on_unreachable(b.endpoint(), std::make_error_code(std::errc::connection_refused));
  const std::string hello = "hello over uTP";
  std::optional<boost::system::error_code> written;
  to_b->async_write(hello, [&](const boost::system::error_code& ec, std::size_t) { written = ec; });
  std::string got(hello.size(), '\0');
  std::optional<boost::system::error_code> read;
  async_read_exactly(*b.accepted[0], got,
                     [&](const boost::system::error_code& ec, std::size_t) { read = ec; });
  ASSERT_TRUE(run_until(
      io, [&] { return written && read; }, 5s));
  EXPECT_FALSE(*written);
  EXPECT_FALSE(*read);
  EXPECT_EQ(got, hello);
  to_nobody->close();
  to_b->close();
}

}  // namespace
}  // namespace starling::session
