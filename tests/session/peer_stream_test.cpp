#include "session/peer_stream.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/read.hpp>
#include <optional>

#include "support/temp_dir.hpp"

namespace starling::session {
namespace {

using starling::testing::content;
using starling::testing::TempDir;
using starling::testing::write_file;

// A connected pair on loopback: `ours` is a PeerStream, `theirs` a plain socket.
struct Pair {
  Pair() {
    tcp::acceptor acceptor(io, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
    theirs.connect(acceptor.local_endpoint());
    ours = make_tcp_stream(acceptor.accept());
  }
  boost::asio::io_context io;
  tcp::socket theirs{io};
  std::unique_ptr<PeerStream> ours;
};

TEST(TcpStream, SendsAnOutboxOfBytesAndFileRunsInOrder) {
  TempDir dir;
  const std::string file_bytes = content(7, 3 << 20);
  write_file(dir.path() / "f", file_bytes);
  const int fd = ::open((dir.path() / "f").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  auto keep_open = std::shared_ptr<const void>(nullptr, [fd](const void*) { ::close(fd); });

  Pair pair;
  ASSERT_TRUE(pair.ours->sends_files());
  // Far more than the socket buffers hold, so the writer has to wait for room many times:
  // 64 "messages" of a 13-byte header and a 48 KiB run of the file, then a trailer.
  Outbox outbox;
  std::string expected;
  for (int i = 0; i < 64; ++i) {
    const std::string header = "header-" + std::to_string(i + 100000);
    outbox.bytes() += header;
    expected += header;
    const std::int64_t offset = (static_cast<std::int64_t>(i) * 40'000) % (2 << 20);
    outbox.append_file(FileSlice{keep_open, fd, offset, 48 * 1024});
    expected += file_bytes.substr(static_cast<std::size_t>(offset), 48 * 1024);
  }
  outbox.bytes() += "trailer";
  expected += "trailer";
  ASSERT_EQ(outbox.size(), expected.size());

  std::optional<boost::system::error_code> sent;
  std::size_t sent_bytes = 0;
  pair.ours->async_write(outbox, [&](const boost::system::error_code& ec, std::size_t n) {
    sent = ec;
    sent_bytes = n;
  });
  EXPECT_FALSE(sent.has_value());  // never completes inside async_write
  std::string received(expected.size(), '\0');
  bool read_done = false;
  boost::asio::async_read(pair.theirs, boost::asio::buffer(received),
                          [&](const boost::system::error_code& ec, std::size_t) {
                            EXPECT_FALSE(ec) << ec.message();
                            read_done = true;
                          });
  pair.io.run_for(std::chrono::seconds(20));
  ASSERT_TRUE(sent.has_value());
  EXPECT_FALSE(*sent) << sent->message();
  EXPECT_EQ(sent_bytes, expected.size());
  ASSERT_TRUE(read_done);
  EXPECT_TRUE(received == expected);
}

int receive_buffer_of(int fd) {
  int size = 0;
  socklen_t length = sizeof size;
  EXPECT_EQ(::getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, &length), 0);
  return size;
}

TEST(TcpStream, SetsTheReceiveBufferItIsGiven) {
  boost::asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  // 64 KiB is below every rmem_max (Linux's default is 208 KiB); 1 GiB above any sane one.
  for (const int asked : {0, 64 << 10, 1 << 30}) {
    tcp::socket theirs(io);
    theirs.connect(acceptor.local_endpoint());
    tcp::socket accepted = acceptor.accept();
    const int fd = ::dup(accepted.native_handle());  // the same socket, still ours to ask
    ASSERT_GE(fd, 0);
    const int before = receive_buffer_of(fd);
    auto stream = make_tcp_stream(std::move(accepted), TcpOptions{.receive_buffer = asked});
    if (asked == 64 << 10) {
      EXPECT_EQ(receive_buffer_of(fd), 2 * asked);  // Linux doubles it
    } else {
      EXPECT_EQ(receive_buffer_of(fd), before);  // left to the kernel's autotuning
    }
    ::close(fd);
  }
}

TEST(TcpStream, ReportsAnErrorWhenThePeerHasGone) {
  TempDir dir;
  write_file(dir.path() / "f", content(3, 1 << 20));
  const int fd = ::open((dir.path() / "f").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  auto keep_open = std::shared_ptr<const void>(nullptr, [fd](const void*) { ::close(fd); });
  Pair pair;
  pair.theirs.close();
  Outbox outbox;
  for (int i = 0; i < 64; ++i) {
    outbox.bytes() += "h";
    outbox.append_file(FileSlice{keep_open, fd, 0, 1 << 20});
  }
  std::optional<boost::system::error_code> sent;
  pair.ours->async_write(outbox,
                         [&](const boost::system::error_code& ec, std::size_t) { sent = ec; });
  pair.io.run_for(std::chrono::seconds(20));
  ASSERT_TRUE(sent.has_value());
  EXPECT_TRUE(*sent);  // EPIPE or ECONNRESET, not a hang and not SIGPIPE
}

}  // namespace
}  // namespace starling::session
