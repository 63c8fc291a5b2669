// A BEP 15 load generator for tracker benchmarks (bench/tracker_bench.sh): each thread opens
// --sockets sockets (so, like a tracker's real clients, the load comes from many source ports and
// a server's SO_REUSEPORT sockets all get a share), gets a connection id on each, then sends
// announces in batches of --batch with sendmmsg, one socket after the other, and collects each
// batch's replies with recvmmsg, for --seconds. Every announce is a distinct peer (peer_id and port
// from a counter) on one of --torrents info-hashes (SHA-1 of "starling-bench-<i>", the same list
// `--print-hashes` writes for whitelists and the HTTP load script). Loopback only by intent.
//
//   udp_announce_load --target 127.0.0.1:6969 --seconds 5 --threads 1
//   udp_announce_load --print-hashes 1000 [--escaped]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "core/digest.hpp"
#include "core/encoding.hpp"
#include "tracker/udp_codec.hpp"
#include "tracker/url_query.hpp"

namespace {

using namespace starling;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string host = "127.0.0.1";
  int port = 6969;
  double seconds = 5;
  int threads = 1;
  int batch = 64;
  int torrents = 1000;
  int sockets = 8;  // per thread
};

std::vector<Sha1Digest> bench_hashes(int n) {
  std::vector<Sha1Digest> out;
  for (int i = 0; i < n; ++i) out.push_back(sha1("starling-bench-" + std::to_string(i)));
  return out;
}

struct Totals {
  std::atomic<std::uint64_t> replies{0};
  std::atomic<std::uint64_t> errors{0};
  std::atomic<std::uint64_t> timeouts{0};
};

bool wait_readable(int fd, int ms) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, ms) > 0;
}

std::uint64_t get_connection_id(int fd, std::uint32_t tid) {
  for (int attempt = 0; attempt < 20; ++attempt) {
    std::string pkt;
    tracker::udp::encode(pkt, tracker::udp::ConnectRequest{tid});
    send(fd, pkt.data(), pkt.size(), 0);
    while (wait_readable(fd, 100)) {
      std::uint8_t buf[2048];
      const ssize_t n = recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      auto r = tracker::udp::parse_response({buf, static_cast<std::size_t>(n)}, false);
      if (r && std::holds_alternative<tracker::udp::ConnectResponse>(*r) &&
          std::get<tracker::udp::ConnectResponse>(*r).transaction_id == tid) {
        return std::get<tracker::udp::ConnectResponse>(*r).connection_id;
      }
    }
  }
  std::fprintf(stderr, "udp_announce_load: no connect response\n");
  std::exit(1);
}

int open_socket(const Options& o) {
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in target{};
  target.sin_family = AF_INET;
  target.sin_port = htons(static_cast<std::uint16_t>(o.port));
  inet_pton(AF_INET, o.host.c_str(), &target.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&target), sizeof target) != 0) {
    std::perror("connect");
    std::exit(1);
  }
  int rcvbuf = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  return fd;
}

void worker(const Options& o, int index, const std::vector<Sha1Digest>& hashes,
            Clock::time_point end, Totals& totals) {
  std::vector<int> fds;
  std::vector<std::uint64_t> cids;
  for (int s = 0; s < o.sockets; ++s) {
    fds.push_back(open_socket(o));
    cids.push_back(get_connection_id(
        fds.back(), 0x10000U * static_cast<std::uint32_t>(index) + static_cast<std::uint32_t>(s)));
  }
  auto cid_time = Clock::now();

  const auto batch = static_cast<std::size_t>(o.batch);
  std::vector<std::string> packets(batch);
  std::vector<iovec> iov(batch);
  std::vector<mmsghdr> msgs(batch);
  std::vector<std::array<std::uint8_t, 2048>> in(batch);
  std::vector<iovec> in_iov(batch);
  std::vector<mmsghdr> in_msgs(batch);
  std::uint64_t counter = static_cast<std::uint64_t>(index) << 40;
  tracker::udp::AnnounceRequest a;
  a.left = 1000;
  a.event = tracker::AnnounceEvent::started;
  for (std::size_t round = 0; Clock::now() < end; ++round) {
    if (Clock::now() - cid_time > std::chrono::seconds(50)) {
      for (std::size_t s = 0; s < fds.size(); ++s) cids[s] = get_connection_id(fds[s], 7);
      cid_time = Clock::now();
    }
    const std::size_t which = round % fds.size();
    const int fd = fds[which];
    for (std::size_t i = 0; i < batch; ++i) {
      ++counter;
      a.connection_id = cids[which];
      a.transaction_id = static_cast<std::uint32_t>(counter);
      a.info_hash = hashes[counter % hashes.size()];
      std::memcpy(a.peer_id.data(), &counter, sizeof counter);
      std::memcpy(a.peer_id.data() + 8, "-BENCH-LOAD-", 12);
      a.port = static_cast<std::uint16_t>(1 + (counter / hashes.size()) % 65000);
      a.key = static_cast<std::uint32_t>(counter);
      packets[i].clear();
      tracker::udp::encode(packets[i], a);
      iov[i] = {packets[i].data(), packets[i].size()};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    for (std::size_t sent = 0; sent < batch;) {
      const int n = sendmmsg(fd, msgs.data() + sent, static_cast<unsigned>(batch - sent), 0);
      if (n <= 0) break;
      sent += static_cast<std::size_t>(n);
    }
    std::size_t got = 0;
    while (got < batch) {
      if (!wait_readable(fd, 50)) {
        totals.timeouts.fetch_add(batch - got, std::memory_order_relaxed);
        break;
      }
      for (std::size_t i = 0; i < batch; ++i) {
        in_iov[i] = {in[i].data(), in[i].size()};
        in_msgs[i] = {};
        in_msgs[i].msg_hdr.msg_iov = &in_iov[i];
        in_msgs[i].msg_hdr.msg_iovlen = 1;
      }
      const int n =
          recvmmsg(fd, in_msgs.data(), static_cast<unsigned>(batch - got), MSG_DONTWAIT, nullptr);
      if (n <= 0) continue;
      for (int i = 0; i < n; ++i) {
        // Action 1 is an announce reply; anything else (an error packet) counts as an error.
        if (in_msgs[i].msg_len >= 20 && in[i][3] == 1) {
          totals.replies.fetch_add(1, std::memory_order_relaxed);
        } else {
          totals.errors.fetch_add(1, std::memory_order_relaxed);
        }
      }
      got += static_cast<std::size_t>(n);
    }
  }
  for (int fd : fds) close(fd);
}

int usage() {
  std::fprintf(
      stderr,
      "usage: udp_announce_load --target HOST:PORT [--seconds S] [--threads N] "
      "[--batch N] [--sockets N] [--torrents N]\n       udp_announce_load --print-hashes N "
      "[--escaped]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  int print = 0;
  bool escaped = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const char* next = i + 1 < argc ? argv[i + 1] : nullptr;
    if (arg == "--escaped") {
      escaped = true;
      continue;
    }
    if (!next) return usage();
    ++i;
    if (arg == "--target") {
      const std::string t = next;
      const auto colon = t.rfind(':');
      if (colon == std::string::npos) return usage();
      o.host = t.substr(0, colon);
      o.port = std::atoi(t.c_str() + colon + 1);
    } else if (arg == "--seconds") {
      o.seconds = std::atof(next);
    } else if (arg == "--threads") {
      o.threads = std::max(1, std::atoi(next));
    } else if (arg == "--batch") {
      o.batch = std::clamp(std::atoi(next), 1, 1024);
    } else if (arg == "--sockets") {
      o.sockets = std::clamp(std::atoi(next), 1, 256);
    } else if (arg == "--torrents") {
      o.torrents = std::max(1, std::atoi(next));
    } else if (arg == "--print-hashes") {
      print = std::max(1, std::atoi(next));
    } else {
      return usage();
    }
  }
  if (print > 0) {
    for (const auto& h : bench_hashes(print)) {
      if (escaped) {
        std::string out;
        tracker::append_percent_encoded(out, h.view());
        std::printf("%s\n", out.c_str());
      } else {
        std::printf("%s\n", h.hex().c_str());
      }
    }
    return 0;
  }
  const auto hashes = bench_hashes(o.torrents);
  Totals totals;
  const auto start = Clock::now();
  const auto end =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  std::vector<std::thread> threads;
  for (int t = 0; t < o.threads; ++t) {
    threads.emplace_back(worker, std::cref(o), t, std::cref(hashes), end, std::ref(totals));
  }
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("announces/s: %.0f (replies %llu in %.2f s, errors %llu, lost %llu)\n",
              static_cast<double>(totals.replies.load()) / elapsed,
              static_cast<unsigned long long>(totals.replies.load()), elapsed,
              static_cast<unsigned long long>(totals.errors.load()),
              static_cast<unsigned long long>(totals.timeouts.load()));
  return 0;
}
