// The HTTP side of the tracker on one io_context: an acceptor (SO_REUSEPORT, so each server
// thread accepts on its own socket and the kernel spreads connections) and its connections.
// The request head is parsed by hand (http_request.hpp): the request line is all a tracker
// needs, and Beast's general parser costs more than the whole announce. Keep-alive and
// pipelining are handled (every complete request in a read is answered, in order, in one
// write); heads are bounded; idle connections are closed.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <unordered_set>

#include "core/expected.hpp"
#include "tracker/tracker_service.hpp"

namespace starling::tracker {

struct HttpLimits {
  std::size_t max_head = 8192;         // bytes of one request head
  std::size_t max_connections = 8192;  // per server thread
  Seconds idle_timeout{30};
};

class HttpConnection;

class HttpWorker {
 public:
  HttpWorker(boost::asio::io_context& io, TrackerService& service, std::size_t index,
             HttpLimits limits, std::chrono::steady_clock::time_point epoch);
  ~HttpWorker();
  HttpWorker(const HttpWorker&) = delete;
  HttpWorker& operator=(const HttpWorker&) = delete;

  Status listen(const boost::asio::ip::tcp::endpoint& endpoint);
  boost::asio::ip::tcp::endpoint local_endpoint() const;
  void start();
  void stop();  // on the io_context's thread

  // For connections.
  TrackerService& service() { return service_; }
  std::size_t index() const { return index_; }
  const HttpLimits& limits() const { return limits_; }
  Seconds now() const;
  void add(HttpConnection* c) { connections_.insert(c); }
  void remove(HttpConnection* c) { connections_.erase(c); }

 private:
  void accept();
  void check_idle();

  boost::asio::io_context& io_;
  TrackerService& service_;
  std::size_t index_;
  HttpLimits limits_;
  std::chrono::steady_clock::time_point epoch_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer idle_timer_;
  boost::asio::steady_timer retry_timer_;  // after accept fails (e.g. out of descriptors)
  std::unordered_set<HttpConnection*> connections_;
  bool stopped_ = false;
};

}  // namespace starling::tracker
