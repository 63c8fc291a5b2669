// The daemon's HTTP face on --rpc HOST:PORT, over the shared http::Server: every request goes
// through check_transport (auth, Host allow-list, session id), then to the RPC Dispatcher, the
// web client's files, or /metrics.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "core/expected.hpp"
#include "http/server.hpp"
#include "rpc/daemon_backend.hpp"
#include "rpc/dispatcher.hpp"
#include "rpc/transport.hpp"

namespace starling::rpc {

struct DaemonHttpSettings {
  TransportConfig transport;
  std::filesystem::path web_root;  // empty: no web client
  bool metrics_per_torrent = false;
};

class DaemonHttp {
 public:
  DaemonHttp(boost::asio::io_context& io, DaemonBackend& backend, DaemonHttpSettings settings);
  Status listen(const boost::asio::ip::tcp::endpoint& endpoint);
  boost::asio::ip::tcp::endpoint local_endpoint() const;
  void stop();

 private:
  void handle(const http::Request& request, const http::Reply& reply);
  // Sends `response` (a HEAD request gets its headers only).
  static void finish(const http::Request& request, http::Response response,
                     const http::Reply& reply);
  std::int64_t rpc_requests() const { return rpc_requests_; }
  http::Response web_file(const http::Request& request, const std::string& web_path) const;
  http::Response metrics(const http::Request& request) const;

  DaemonBackend& backend_;
  DaemonHttpSettings settings_;
  Dispatcher dispatcher_;
  std::unique_ptr<http::Server> server_;
  // Time per RPC request, for /metrics.
  std::int64_t rpc_requests_ = 0;
};

}  // namespace starling::rpc
