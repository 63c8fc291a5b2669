#include "http/server.hpp"

#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <optional>
#include <unordered_set>

namespace starling::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

struct Server::State {
  State(asio::io_context& context, Handler h, ServerLimits l)
      : io(context), handler(std::move(h)), limits(l), acceptor(context), retry_timer(context) {}

  void accept();

  asio::io_context& io;
  Handler handler;
  ServerLimits limits;
  tcp::acceptor acceptor;
  asio::steady_timer retry_timer;  // after accept fails, e.g. out of descriptors
  std::unordered_set<Connection*> connections;
  std::weak_ptr<State> self;
  bool stopped = false;
};

// One client connection: read a request, hand it over, wait for the answer, write it, repeat
// while the client keeps the connection alive. Requests are answered one at a time, in order.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(const std::shared_ptr<Server::State>& server, tcp::socket socket)
      : server_(server), stream_(std::move(socket)) {
    boost::system::error_code error;
    remote_ = stream_.socket().remote_endpoint(error);
    server->connections.insert(this);
  }
  ~Connection() {
    if (auto server = server_.lock()) server->connections.erase(this);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void start() { read(); }
  asio::any_io_executor executor() { return stream_.get_executor(); }

  void send(Response response) {
    if (!awaiting_reply_) return;
    awaiting_reply_ = false;
    response.keep_alive(response.keep_alive() && keep_alive_);
    response.prepare_payload();
    out_ = std::make_shared<Response>(std::move(response));
    stream_.expires_after(limits().write_timeout);
    bhttp::async_write(stream_, *out_,
                       [self = shared_from_this()](boost::system::error_code error, std::size_t) {
                         self->on_written(error);
                       });
  }

  // Every copy of the Reply was dropped without an answer.
  void abandoned() {
    if (!awaiting_reply_) return;
    Response response{Status::internal_server_error, 11};
    response.set(bhttp::field::content_type, "text/plain");
    response.body() = "no answer\n";
    response.keep_alive(false);
    send(std::move(response));
  }

  void close() {
    boost::system::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

 private:
  const ServerLimits& limits() const { return limits_; }

  void read() {
    if (auto server = server_.lock()) {
      limits_ = server->limits;
      if (server->stopped) return close();
    } else {
      return close();
    }
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(limits_.max_head));
    parser_->body_limit(limits_.max_body);
    stream_.expires_after(limits_.idle_timeout);
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](boost::system::error_code error, std::size_t) {
                        self->on_read(error);
                      });
  }

  void on_read(boost::system::error_code error) {
    if (error == bhttp::error::body_limit) return refuse(Status::payload_too_large);
    if (error == bhttp::error::header_limit) {
      return refuse(Status::request_header_fields_too_large);
    }
    const bool malformed =
        error && error.category() == make_error_code(bhttp::error::bad_target).category() &&
        error != bhttp::error::end_of_stream && error != bhttp::error::partial_message;
    if (malformed) return refuse(Status::bad_request);
    if (error) return close();  // end of stream, timeout, reset
    auto server = server_.lock();
    if (!server || server->stopped) return close();
    stream_.expires_never();  // the handler may take its time; the client waits
    const Request request = parser_->release();
    keep_alive_ = request.keep_alive();
    awaiting_reply_ = true;
    server->handler(request, remote_, Reply(shared_from_this()));
  }

  // A request that cannot be read is answered with its status and the connection closed.
  void refuse(Status status) {
    awaiting_reply_ = true;
    keep_alive_ = false;
    Response response{status, 11};
    response.set(bhttp::field::content_type, "text/plain");
    response.body() = std::string(bhttp::obsolete_reason(status)) + "\n";
    send(std::move(response));
  }

  void on_written(boost::system::error_code error) {
    const bool keep_alive = out_->keep_alive();
    out_.reset();
    if (error || !keep_alive) return close();
    read();
  }

  std::weak_ptr<Server::State> server_;
  ServerLimits limits_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::shared_ptr<Response> out_;
  Endpoint remote_;
  bool keep_alive_ = false;
  bool awaiting_reply_ = false;
};

struct Reply::Slot {
  explicit Slot(std::shared_ptr<Connection> c) : connection(std::move(c)) {}
  Slot(const Slot&) = delete;
  Slot& operator=(const Slot&) = delete;
  ~Slot() {
    if (!used.exchange(true) && connection) {
      asio::post(connection->executor(), [c = connection] { c->abandoned(); });
    }
  }
  std::shared_ptr<Connection> connection;
  std::atomic<bool> used{false};
};

Reply::Reply(std::shared_ptr<Connection> connection)
    : slot_(std::make_shared<Slot>(std::move(connection))) {}

Reply::~Reply() = default;

void Reply::operator()(Response response) const {
  if (!slot_ || slot_->used.exchange(true)) return;
  asio::post(slot_->connection->executor(),
             [c = slot_->connection, r = std::move(response)]() mutable { c->send(std::move(r)); });
}

void Server::State::accept() {
  // Pending operations hold the state, so it outlives a Server destroyed with them pending.
  acceptor.async_accept(
      [this, hold = self.lock()](boost::system::error_code error, tcp::socket socket) {
        if (stopped) return;
        if (error) {
          // Out of descriptors and the like: wait a little instead of spinning.
          retry_timer.expires_after(std::chrono::milliseconds(100));
          retry_timer.async_wait([this, hold](boost::system::error_code e) {
            if (!e && !stopped) accept();
          });
          return;
        }
        if (connections.size() >= limits.max_connections) {
          boost::system::error_code ignored;
          socket.close(ignored);
        } else {
          // The connection keeps itself alive through its pending operations.
          std::make_shared<Connection>(self.lock(), std::move(socket))->start();
        }
        accept();
      });
}

Server::Server(asio::io_context& io, Handler handler, ServerLimits limits)
    : state_(std::make_shared<State>(io, std::move(handler), limits)) {
  state_->self = state_;
}

Server::~Server() {
  try {
    stop();
  } catch (...) {  // NOLINT(bugprone-empty-catch): closing sockets on the way out
  }
}

starling::Status Server::listen(const Endpoint& endpoint) {
  boost::system::error_code error;
  auto& acceptor = state_->acceptor;
  acceptor.open(endpoint.protocol(), error);
  if (!error) acceptor.set_option(tcp::acceptor::reuse_address(true), error);
  if (!error) acceptor.bind(endpoint, error);
  if (!error) acceptor.listen(asio::socket_base::max_listen_connections, error);
  if (error) {
    boost::system::error_code ignored;
    acceptor.close(ignored);
    return Error(error, "http listen on " + endpoint.address().to_string() + ":" +
                            std::to_string(endpoint.port()));
  }
  state_->accept();
  return ok();
}

Endpoint Server::local_endpoint() const {
  boost::system::error_code error;
  return state_->acceptor.local_endpoint(error);
}

void Server::stop() {
  if (state_->stopped) return;
  state_->stopped = true;
  boost::system::error_code ignored;
  state_->acceptor.close(ignored);
  state_->retry_timer.cancel();
  // close() only cancels: the set changes later, when the cancelled handlers run.
  for (Connection* c : state_->connections) c->close();
}

std::size_t Server::connection_count() const {
  return state_->connections.size();
}

Response make_response(const Request& request, Status status, std::string body,
                       std::string_view content_type) {
  Response response{status, request.version()};
  response.set(bhttp::field::server, "starling/" STARLING_VERSION);
  response.set(bhttp::field::content_type, std::string(content_type));
  response.keep_alive(request.keep_alive());
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

}  // namespace starling::http
