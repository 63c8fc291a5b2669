#include "http/client.hpp"

#include <fmt/format.h>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <memory>
#include <optional>
#include <string_view>

#include "net/host_port.hpp"

namespace starling::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  Exchange(boost::asio::io_context& io, Endpoint endpoint, Request request, FetchCallback done,
           FetchOptions options)
      : stream_(io),
        endpoint_(std::move(endpoint)),
        request_(std::move(request)),
        done_(std::move(done)),
        options_(options) {}

  void start() {
    if (request_.find(bhttp::field::host) == request_.end()) {
      request_.set(bhttp::field::host, net::format_endpoint(endpoint_.address(), endpoint_.port()));
    }
    request_.keep_alive(false);
    request_.prepare_payload();
    parser_.body_limit(options_.max_body);
    // One deadline for the whole exchange, set again before each step.
    deadline_ = std::chrono::steady_clock::now() + options_.timeout;
    stream_.expires_at(deadline_);
    stream_.async_connect(endpoint_, [self = shared_from_this()](boost::system::error_code e) {
      if (e) return self->fail(e, "connect");
      self->stream_.expires_at(self->deadline_);
      bhttp::async_write(self->stream_, self->request_,
                         [self](boost::system::error_code error, std::size_t) {
                           if (error) return self->fail(error, "send");
                           self->receive();
                         });
    });
  }

 private:
  // Piece by piece, holding the body to max_body as it grows: Boost 1.74's eager read() does not
  // enforce the parser's body_limit (a 5000-byte body came through a limit of 1000).
  void receive() {
    stream_.expires_at(deadline_);
    bhttp::async_read_some(stream_, buffer_, parser_,
                           [self = shared_from_this()](boost::system::error_code e, std::size_t) {
                             self->on_read(e);
                           });
  }

  void on_read(boost::system::error_code error) {
    if (error && error != bhttp::error::body_limit) return fail(error, "receive");
    if (error || over_limit()) {
      return fail(bhttp::error::body_limit,
                  fmt::format("receive (body larger than {} bytes)", options_.max_body));
    }
    if (!parser_.is_done()) return receive();
    boost::system::error_code ignored;
    stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
    done_(parser_.release());
  }

  bool over_limit() const {
    if (!parser_.is_header_done()) return false;
    const auto declared = parser_.content_length();
    return (declared && *declared > options_.max_body) ||
           parser_.get().body().size() > options_.max_body;
  }

  void fail(boost::system::error_code error, std::string_view step) {
    stream_.close();
    done_(Error(error,
                fmt::format("http {} {} {}", std::string(request_.method_string()),
                            net::format_endpoint(endpoint_.address(), endpoint_.port()), step)));
  }

  beast::tcp_stream stream_;
  Endpoint endpoint_;
  Request request_;
  FetchCallback done_;
  FetchOptions options_;
  std::chrono::steady_clock::time_point deadline_;
  beast::flat_buffer buffer_;
  bhttp::response_parser<bhttp::string_body> parser_;
};

}  // namespace

void fetch(boost::asio::io_context& io, const Endpoint& endpoint, Request request,
           FetchCallback done, FetchOptions options) {
  std::make_shared<Exchange>(io, endpoint, std::move(request), std::move(done), options)->start();
}

}  // namespace starling::http
