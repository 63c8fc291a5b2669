// The running tracker: one thread per core, each with its own io_context, HTTP acceptor and UDP
// socket bound to the same ports (SO_REUSEPORT), all sharing one TrackerService (whose peer
// store is sharded with a mutex per shard). Thread 0 also sweeps expired peers on a timer.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "core/expected.hpp"
#include "tracker/http_server.hpp"
#include "tracker/tracker_service.hpp"
#include "tracker/udp_server.hpp"

namespace starling::tracker {

struct ServerOptions {
  std::optional<boost::asio::ip::tcp::endpoint> http;  // nullopt: no HTTP
  std::optional<boost::asio::ip::udp::endpoint> udp;   // nullopt: no UDP
  bool udp_port_from_http = false;  // UDP binds the port HTTP got (for an HTTP port of 0)
  std::size_t threads = 0;          // 0: one per core
  Seconds sweep_every{30};
  HttpLimits http_limits;
  // `now` in unix seconds (kept steady from start: no jumps) instead of seconds since start:
  // replicas sharing a peer store (Redis) must stamp peers with the same clock.
  bool wall_clock = false;
};

class TrackerServer {
 public:
  TrackerServer(TrackerService& service, ServerOptions options);
  ~TrackerServer();
  TrackerServer(const TrackerServer&) = delete;
  TrackerServer& operator=(const TrackerServer&) = delete;

  // Binds every socket (a port of 0 is chosen once, by the first thread's socket).
  Status bind();
  std::optional<boost::asio::ip::tcp::endpoint> http_endpoint() const;
  std::optional<boost::asio::ip::udp::endpoint> udp_endpoint() const;
  std::size_t threads() const { return contexts_.size(); }

  // Thread 0's io_context: for the caller's own handlers (signals) that run alongside.
  boost::asio::io_context& main_context() { return *contexts_.front(); }

  // Serves until stop(); runs thread 0 on the calling thread.
  void run();
  // From any thread: stops every worker; run() returns once they are done.
  void stop();

 private:
  void sweep();

  TrackerService& service_;
  ServerOptions options_;
  std::chrono::steady_clock::time_point epoch_;
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
  std::vector<std::unique_ptr<HttpWorker>> http_;
  std::vector<std::unique_ptr<UdpWorker>> udp_;
  std::unique_ptr<boost::asio::steady_timer> sweep_timer_;
};

}  // namespace starling::tracker
