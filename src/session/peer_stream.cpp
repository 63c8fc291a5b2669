#include "session/peer_stream.hpp"

#include <boost/asio/write.hpp>

namespace starling::session {
namespace {

class TcpStream final : public PeerStream {
 public:
  explicit TcpStream(tcp::socket socket) : socket_(std::move(socket)) {}
  ~TcpStream() override { close(); }

  void async_connect(const tcp::endpoint& peer, ConnectHandler handler) override {
    socket_.async_connect(
        peer, [this, handler = std::move(handler)](const boost::system::error_code& ec) {
          boost::system::error_code ignored;
          // Messages are small and latency matters (requests, HAVEs): no Nagle.
          if (!ec) socket_.set_option(tcp::no_delay(true), ignored);
          handler(ec);
        });
  }

  void async_read_some(std::span<char> into, IoHandler handler) override {
    socket_.async_read_some(boost::asio::buffer(into.data(), into.size()), std::move(handler));
  }

  void async_write(std::span<const char> data, IoHandler handler) override {
    boost::asio::async_write(socket_, boost::asio::buffer(data.data(), data.size()),
                             std::move(handler));
  }

  tcp::endpoint remote_endpoint() const override {
    boost::system::error_code ec;
    return socket_.remote_endpoint(ec);
  }

  void close() override {
    boost::system::error_code ec;
    socket_.close(ec);
  }

  std::string_view transport() const override { return "tcp"; }

 private:
  tcp::socket socket_;
};

void read_rest(PeerStream& stream, std::span<char> into, std::size_t done,
               PeerStream::IoHandler handler) {
  if (done == into.size()) return handler({}, done);
  stream.async_read_some(into.subspan(done),
                         [&stream, into, done, handler = std::move(handler)](
                             const boost::system::error_code& ec, std::size_t n) mutable {
                           if (ec) return handler(ec, done + n);
                           read_rest(stream, into, done + n, std::move(handler));
                         });
}

}  // namespace

void async_read_exactly(PeerStream& stream, std::span<char> into, PeerStream::IoHandler handler) {
  read_rest(stream, into, 0, std::move(handler));
}

std::unique_ptr<PeerStream> make_tcp_stream(boost::asio::io_context& io) {
  return std::make_unique<TcpStream>(tcp::socket(io));
}

std::unique_ptr<PeerStream> make_tcp_stream(tcp::socket socket) {
  boost::system::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  return std::make_unique<TcpStream>(std::move(socket));
}

}  // namespace starling::session
