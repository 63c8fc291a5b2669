// A small HTTP/1.1 server for the JSON control planes (the deploy agent's API, the daemon's RPC,
// metrics). Boost.Beast parses; this adds what such a service needs around it: a connection
// cap, bounded heads and bodies, an idle timeout, keep-alive, and answers that may come later
// (the handler keeps its `Reply` and calls it when the work is done). One io_context thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/expected.hpp"

namespace starling::http {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;
using Status = boost::beast::http::status;
using Verb = boost::beast::http::verb;
using Endpoint = boost::asio::ip::tcp::endpoint;

struct ServerLimits {
  std::size_t max_head = std::size_t{16} * 1024;
  std::size_t max_body = std::size_t{16} * 1024 * 1024;  // a .torrent sent as base64 JSON fits
  std::size_t max_connections = 256;
  std::chrono::seconds idle_timeout{60};   // waiting for (the rest of) a request
  std::chrono::seconds write_timeout{30};  // sending an answer
};

class Connection;

// The answer to one request. Copies share one slot: the first call sends, later calls are
// ignored. Calling it from another thread is allowed (the send is posted to the server's
// io_context). If every copy is dropped without a call, the client gets a 500.
class Reply {
 public:
  explicit Reply(std::shared_ptr<Connection> connection);
  ~Reply();
  Reply(const Reply&) = default;
  Reply& operator=(const Reply&) = default;
  Reply(Reply&&) noexcept = default;
  Reply& operator=(Reply&&) noexcept = default;

  void operator()(Response response) const;

 private:
  struct Slot;
  std::shared_ptr<Slot> slot_;
};

// Called on the io_context's thread for every complete request.
using Handler = std::function<void(const Request& request, const Endpoint& remote, Reply reply)>;

class Server {
 public:
  Server(boost::asio::io_context& io, Handler handler, ServerLimits limits = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts accepting. Port 0 picks a free port (see local_endpoint()).
  starling::Status listen(const Endpoint& endpoint);
  Endpoint local_endpoint() const;
  // Closes the listener and every connection; on the io_context's thread.
  void stop();
  std::size_t connection_count() const;

 private:
  friend class Connection;
  struct State;
  std::shared_ptr<State> state_;
};

// A response to `request` with its HTTP version and keep-alive, a body and its type.
Response make_response(const Request& request, Status status, std::string body,
                       std::string_view content_type = "application/json");

}  // namespace starling::http
