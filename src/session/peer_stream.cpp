#include "session/peer_stream.hpp"

#include <sys/sendfile.h>
#include <sys/socket.h>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <fstream>
#include <mutex>

namespace starling::session {
namespace {

// sendfile(2), unlike send(2), has no MSG_NOSIGNAL: a peer that has gone would raise SIGPIPE and
// end the process. Ignore it, unless the program installed a handler of its own.
void ignore_sigpipe() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction current {};
    if (::sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
      ::signal(SIGPIPE, SIG_IGN);
    }
  });
}

// The largest SO_RCVBUF a process may set (net.core.rmem_max); 0 when unknown.
std::int64_t rmem_max() {
  static const std::int64_t value = [] {
    std::ifstream in("/proc/sys/net/core/rmem_max");
    std::int64_t v = 0;
    return in >> v ? v : 0;
  }();
  return value;
}

// Options for a connected socket. Errors are ignored: both are tuning, not correctness.
void configure(tcp::socket& socket, const TcpOptions& options) {
  boost::system::error_code ignored;
  // Messages are small and latency matters (requests, HAVEs): no Nagle.
  socket.set_option(tcp::no_delay(true), ignored);
  // Above rmem_max the kernel would cap the buffer, and a fixed buffer below what autotuning
  // reaches (Debian's default cap is 208 KiB) would only shrink the window: keep autotuning.
  if (options.receive_buffer > 0 && options.receive_buffer <= rmem_max()) {
    socket.set_option(boost::asio::socket_base::receive_buffer_size(options.receive_buffer),
                      ignored);
  }
}

class TcpStream final : public PeerStream {
 public:
  TcpStream(tcp::socket socket, TcpOptions options)
      : socket_(std::move(socket)), options_(options) {
    ignore_sigpipe();
  }
  ~TcpStream() override { close(); }

  void async_connect(const tcp::endpoint& peer, ConnectHandler handler) override {
    socket_.async_connect(
        peer, [this, handler = std::move(handler)](const boost::system::error_code& ec) {
          if (!ec) configure(socket_, options_);
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

  void async_write(const Outbox& outbox, IoHandler handler) override {
    if (outbox.files().empty())
      return async_write(std::span<const char>(outbox.bytes()), std::move(handler));
    sending_ = Sending{&outbox, 0, 0, 0, std::move(handler)};
    boost::system::error_code ec;
    socket_.native_non_blocking(true, ec);  // sendfile must not block the network thread
    if (ec) return finish(ec, /*posted=*/true);
    pump(/*posted=*/true);
  }

  bool sends_files() const override { return true; }

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
  // Progress through an Outbox: bytes()[0, byte_at) and files()[0, file) are sent, and
  // `file_done` bytes of files()[file].
  struct Sending {
    const Outbox* outbox = nullptr;
    std::size_t byte_at = 0;
    std::size_t file = 0;
    std::int64_t file_done = 0;
    IoHandler handler;
  };

  // Sends until the outbox is done, the socket is full (then waits for room) or an error.
  // `posted`: we are inside async_write, so the handler must not run before it returns.
  void pump(bool posted) {
    const Outbox& box = *sending_.outbox;
    for (;;) {
      const bool file_next =
          sending_.file < box.files().size() && box.files()[sending_.file].at == sending_.byte_at;
      ssize_t n = 0;
      if (file_next) {
        const FileSlice& slice = box.files()[sending_.file].slice;
        off_t offset = static_cast<off_t>(slice.offset + sending_.file_done);
        n = ::sendfile(socket_.native_handle(), slice.fd, &offset,
                       static_cast<std::size_t>(slice.length - sending_.file_done));
        if (n == 0) return finish(boost::asio::error::eof, posted);  // the file got shorter
        if (n > 0) {
          sending_.file_done += n;
          if (sending_.file_done == slice.length) {
            ++sending_.file;
            sending_.file_done = 0;
          }
          continue;
        }
      } else {
        const bool file_after = sending_.file < box.files().size();
        const std::size_t end = file_after ? box.files()[sending_.file].at : box.bytes().size();
        if (sending_.byte_at == end) return finish({}, posted);  // nothing left at all
        // MSG_MORE: a piece header waits for its block, so both leave in one segment.
        n = ::send(socket_.native_handle(), box.bytes().data() + sending_.byte_at,
                   end - sending_.byte_at, MSG_NOSIGNAL | (file_after ? MSG_MORE : 0));
        if (n > 0) {
          sending_.byte_at += static_cast<std::size_t>(n);
          continue;
        }
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        // The wait owns the handler meanwhile: if the io_context goes away with the wait
        // pending, destroying it lets go of whatever the handler keeps alive.
        socket_.async_wait(tcp::socket::wait_write,
                           [this, handler = std::move(sending_.handler)](
                               const boost::system::error_code& ec) mutable {
                             sending_.handler = std::move(handler);
                             if (ec) return finish(ec, false);
                             pump(false);
                           });
        return;
      }
      return finish(boost::system::error_code(errno, boost::system::system_category()), posted);
    }
  }

  void finish(const boost::system::error_code& ec, bool posted) {
    const std::size_t sent = ec ? 0 : sending_.outbox->size();
    IoHandler handler = std::move(sending_.handler);
    sending_ = Sending{};
    if (!posted) return handler(ec, sent);
    boost::asio::post(socket_.get_executor(),
                      [handler = std::move(handler), ec, sent] { handler(ec, sent); });
  }

  tcp::socket socket_;
  TcpOptions options_;
  Sending sending_;
};

}  // namespace

void PeerStream::async_write(const Outbox& outbox, IoHandler handler) {
  // Transports without sendfile never get file runs (sends_files() is false).
  async_write(std::span<const char>(outbox.bytes()), std::move(handler));
}

namespace {

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

std::unique_ptr<PeerStream> make_tcp_stream(boost::asio::io_context& io, TcpOptions options) {
  return std::make_unique<TcpStream>(tcp::socket(io), options);
}

std::unique_ptr<PeerStream> make_tcp_stream(tcp::socket socket, TcpOptions options) {
  configure(socket, options);
  return std::make_unique<TcpStream>(std::move(socket), options);
}

}  // namespace starling::session
