// The byte stream under a PeerConnection. BitTorrent's peer protocol runs unchanged over TCP or
// over uTP (BEP 29); the connection only needs connect, read some, write all and close, so it
// talks to this interface and the transport is chosen when the stream is made.
//
// Handlers run on the network thread. After close() every pending operation completes with
// boost::asio::error::operation_aborted (or another error), never with data.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>
#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string_view>

#include "session/outbox.hpp"

namespace starling::session {

using tcp = boost::asio::ip::tcp;

class PeerStream {
 public:
  using ConnectHandler = std::function<void(const boost::system::error_code&)>;
  using IoHandler = std::function<void(const boost::system::error_code&, std::size_t)>;

  virtual ~PeerStream() = default;

  // Peers are named by address and port whatever the transport (a uTP peer's UDP port is its
  // TCP listen port by convention), so a tcp::endpoint serves both.
  virtual void async_connect(const tcp::endpoint& peer, ConnectHandler handler) = 0;
  virtual void async_read_some(std::span<char> into, IoHandler handler) = 0;
  // Completes once every byte of `data` is written (or with an error); `data` must stay valid
  // until then.
  virtual void async_write(std::span<const char> data, IoHandler handler) = 0;
  // Writes all of `outbox` (its file runs only if sends_files()); it must stay valid and
  // unchanged until the handler runs.
  virtual void async_write(const Outbox& outbox, IoHandler handler);
  // Whether async_write(Outbox) takes file runs (TCP: sendfile). Others get bytes only.
  virtual bool sends_files() const { return false; }
  virtual tcp::endpoint remote_endpoint() const = 0;
  virtual void close() = 0;
  // "tcp" or "utp", for logs.
  virtual std::string_view transport() const = 0;
  // The peer is known (from its handshake) to read datagrams of any size: uTP may then use
  // packets as large as the path allows. Nothing to do for TCP.
  virtual void peer_reads_large_datagrams() {}
};

// Reads exactly `into.size()` bytes (a handshake) with async_read_some.
void async_read_exactly(PeerStream& stream, std::span<char> into, PeerStream::IoHandler handler);

struct TcpOptions {
  // SO_RCVBUF of the socket once connected (Linux doubles it). 0, or more than the kernel allows
  // (net.core.rmem_max), leaves the kernel's autotuning.
  int receive_buffer = 0;
};

std::unique_ptr<PeerStream> make_tcp_stream(boost::asio::io_context& io, TcpOptions options = {});
// A connected socket (from the listener).
std::unique_ptr<PeerStream> make_tcp_stream(tcp::socket socket, TcpOptions options = {});

}  // namespace starling::session
