// The kernel's floor for moving a file over loopback TCP in BitTorrent's framing, with no
// client around it: a sender process that sends each block as a 13-byte PIECE header
// (MSG_MORE) and a sendfile() of the block from the page cache, and a receiver that reads 64 KiB
// at a time (4 MiB SO_RCVBUF, as starling sets) and does nothing with the bytes. It prints the
// wall time and the CPU seconds of each end, for comparing a client's CPU per GiB against what
// the kernel alone costs at that message size.
//
//   wire_floor FILE [BLOCK_BYTES=16384] [HEADERS=1]
//
// Loopback only; the file should be page-cache warm (read it once first).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

namespace {

double cpu_seconds(const rusage& usage) {
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

[[noreturn]] void send_all(const sockaddr_in& to, const char* path, off_t size, long block,
                           bool headers) {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  if (::connect(s, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) _exit(2);
  const int one = 1;
  ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  const int fd = ::open(path, O_RDONLY);
  if (fd < 0) _exit(2);
  const char header[13] = {};
  off_t at = 0;
  while (at < size) {
    if (headers && ::send(s, header, sizeof header, MSG_MORE) != sizeof header) _exit(3);
    long left = block;
    while (left > 0 && at < size) {
      const ssize_t n = ::sendfile(s, fd, &at, static_cast<std::size_t>(left));
      if (n <= 0) _exit(3);
      left -= n;
    }
  }
  ::close(s);
  _exit(0);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FILE [BLOCK_BYTES=16384] [HEADERS=1]\n", argv[0]);
    return 2;
  }
  const char* path = argv[1];
  char* end = nullptr;
  const long block = argc > 2 ? std::strtol(argv[2], &end, 10) : 16384;
  if (argc > 2 && (*end != '\0' || block <= 0)) {
    std::fprintf(stderr, "BLOCK_BYTES must be a positive number, got '%s'\n", argv[2]);
    return 2;
  }
  const bool headers = argc <= 3 || std::string_view(argv[3]) != "0";
  struct stat st {};
  if (::stat(path, &st) != 0) {
    std::perror(path);
    return 2;
  }
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listener, 1) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    std::perror("listen on 127.0.0.1");
    return 2;
  }
  const pid_t sender = ::fork();
  if (sender == 0) send_all(address, path, st.st_size, block, headers);
  const int c = ::accept(listener, nullptr, nullptr);
  const int receive_buffer = 4 << 20;
  ::setsockopt(c, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
  std::vector<char> buffer(64 << 10);
  long long received = 0;
  const auto start = std::chrono::steady_clock::now();
  for (;;) {
    const ssize_t n = ::recv(c, buffer.data(), buffer.size(), 0);
    if (n <= 0) break;
    received += n;
  }
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  int status = 0;
  ::waitpid(sender, &status, 0);
  rusage self{}, child{};
  ::getrusage(RUSAGE_SELF, &self);
  ::getrusage(RUSAGE_CHILDREN, &child);
  std::printf(
      "block %ld, headers %d: %lld MiB in %.3f s; CPU s: receiver %.2f, sender %.2f, both %.2f\n",
      block, headers ? 1 : 0, received >> 20, wall, cpu_seconds(self), cpu_seconds(child),
      cpu_seconds(self) + cpu_seconds(child));
  return received == st.st_size && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
