#include "tracker/http_server.hpp"

#include <boost/asio/write.hpp>
#include <cstring>
#include <memory>
#include <vector>

#include "tracker/announce_reply.hpp"
#include "tracker/http_request.hpp"

namespace starling::tracker {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using ReusePort = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

namespace {

IpAddress to_ip(const asio::ip::address& a) {
  if (a.is_v4()) return IpAddress::v4_from(a.to_v4().to_uint());
  const auto bytes = a.to_v6().to_bytes();
  return IpAddress::v6_bytes(bytes.data()).unmapped();
}

std::string_view reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 431:
      return "Request Header Fields Too Large";
    default:
      return "Error";
  }
}

void append_response(std::string& out, int status, std::string_view content_type,
                     std::string_view body, bool keep_alive) {
  out += "HTTP/1.1 ";
  out += std::to_string(status);
  out += ' ';
  out += reason(status);
  out += "\r\nContent-Type: ";
  out += content_type;
  out += "\r\nContent-Length: ";
  out += std::to_string(body.size());
  out += keep_alive ? "\r\n\r\n" : "\r\nConnection: close\r\n\r\n";
  out += body;
}

}  // namespace

class HttpConnection : public std::enable_shared_from_this<HttpConnection> {
 public:
  HttpConnection(tcp::socket socket, HttpWorker& worker)
      : socket_(std::move(socket)), worker_(worker), buffer_(worker.limits().max_head) {
    boost::system::error_code ec;
    socket_.set_option(tcp::no_delay(true), ec);
    const auto remote = socket_.remote_endpoint(ec);
    if (!ec) peer_ = to_ip(remote.address());
    last_active_ = worker_.now();
    worker_.add(this);
  }
  ~HttpConnection() { worker_.remove(this); }
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  void start() { read(); }
  void close() {
    boost::system::error_code ec;
    socket_.close(ec);
  }
  Seconds last_active() const { return last_active_; }

 private:
  void read() {
    socket_.async_read_some(
        asio::buffer(buffer_.data() + have_, buffer_.size() - have_),
        [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
          if (ec) return;
          self->have_ += n;
          self->last_active_ = self->worker_.now();
          self->process();
        });
  }

  // Answers every complete request in the buffer, then writes all answers at once.
  void process() {
    std::size_t used = 0;
    bool close_after = false;
    while (!close_after) {
      const std::string_view pending(buffer_.data() + used, have_ - used);
      auto head = parse_http_request_head(pending, worker_.limits().max_head);
      if (!head) {
        body_.clear();
        append_failure_reply(body_, head.error().message());
        const bool too_long = head.error().detail.find("longer") != std::string::npos;
        append_response(out_, too_long ? 431 : 400, "text/plain", body_, false);
        Counters::bump(worker_.service().counters(worker_.index()).errors);
        close_after = true;
        break;
      }
      if (!head->has_value()) break;
      const HttpRequestHead& h = **head;
      if (h.content_length > 0 || h.method != "GET") {
        body_.clear();
        append_failure_reply(body_, "only GET without a body is served");
        append_response(out_, 400, "text/plain", body_, false);
        Counters::bump(worker_.service().counters(worker_.index()).errors);
        close_after = true;
        break;
      }
      body_.clear();
      const auto started = std::chrono::steady_clock::now();
      const HttpAnswer answer =
          worker_.service().handle_http(h.target, peer_, worker_.now(), body_, worker_.index());
      worker_.service().observe_http_time(
          worker_.index(),
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
      append_response(out_, answer.status, answer.content_type, body_, h.keep_alive);
      used += h.head_size;
      if (!h.keep_alive) close_after = true;
    }
    if (used > 0) {
      std::memmove(buffer_.data(), buffer_.data() + used, have_ - used);
      have_ -= used;
    }
    if (out_.empty()) {
      read();
      return;
    }
    asio::async_write(
        socket_, asio::buffer(out_),
        [self = shared_from_this(), close_after](const boost::system::error_code& ec, std::size_t) {
          self->out_.clear();
          if (ec) return;
          if (close_after) {
            boost::system::error_code ignored;
            self->socket_.shutdown(tcp::socket::shutdown_both, ignored);
            return;
          }
          // Requests that arrived with the last read are answered before reading.
          if (self->have_ > 0) {
            self->process();
          } else {
            self->read();
          }
        });
  }

  tcp::socket socket_;
  HttpWorker& worker_;
  std::vector<char> buffer_;
  std::size_t have_ = 0;
  std::string out_;
  std::string body_;
  IpAddress peer_;
  Seconds last_active_{0};
};

HttpWorker::HttpWorker(asio::io_context& io, TrackerService& service, std::size_t index,
                       HttpLimits limits, std::chrono::steady_clock::time_point epoch)
    : io_(io),
      service_(service),
      index_(index),
      limits_(limits),
      epoch_(epoch),
      acceptor_(io),
      idle_timer_(io),
      retry_timer_(io) {}

HttpWorker::~HttpWorker() = default;

Seconds HttpWorker::now() const {
  return std::chrono::duration_cast<Seconds>(std::chrono::steady_clock::now() - epoch_);
}

Status HttpWorker::listen(const tcp::endpoint& endpoint) {
  boost::system::error_code ec;
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.set_option(ReusePort(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(1024, ec);
  if (ec) {
    return Error(Errc::io_error, "HTTP " + endpoint.address().to_string() + ":" +
                                     std::to_string(endpoint.port()) + ": " + ec.message());
  }
  return ok();
}

tcp::endpoint HttpWorker::local_endpoint() const {
  boost::system::error_code ec;
  return acceptor_.local_endpoint(ec);
}

void HttpWorker::start() {
  accept();
  check_idle();
}

void HttpWorker::stop() {
  stopped_ = true;
  boost::system::error_code ec;
  acceptor_.close(ec);
  idle_timer_.cancel();
  retry_timer_.cancel();
  // Closing completes each connection's pending operation, which releases it.
  for (HttpConnection* c : std::vector<HttpConnection*>(connections_.begin(), connections_.end())) {
    c->close();
  }
}

void HttpWorker::accept() {
  acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
    if (stopped_) return;
    if (!ec) {
      if (connections_.size() < limits_.max_connections) {
        std::make_shared<HttpConnection>(std::move(socket), *this)->start();
      }  // else: the socket closes here; the client retries later
      accept();
    } else if (ec != asio::error::operation_aborted) {
      retry_timer_.expires_after(std::chrono::milliseconds(100));
      retry_timer_.async_wait([this](const boost::system::error_code& e) {
        if (!e && !stopped_) accept();
      });
    }
  });
}

void HttpWorker::check_idle() {
  idle_timer_.expires_after(std::chrono::seconds(5));
  idle_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    const Seconds cutoff = now() - limits_.idle_timeout;
    for (HttpConnection* c :
         std::vector<HttpConnection*>(connections_.begin(), connections_.end())) {
      if (c->last_active() < cutoff) c->close();
    }
    check_idle();
  });
}

}  // namespace starling::tracker
