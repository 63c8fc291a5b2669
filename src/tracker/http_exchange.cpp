// HTTP requests to trackers with Boost.Beast: resolve, connect, GET, read the reply (chunked or
// not), follow a few redirects, all under one deadline. Announce and scrape decode the body.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "tracker/announcer.hpp"
#include "tracker/timed_exchange.hpp"

namespace starling::tracker {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using boost::asio::ip::tcp;

class HttpExchange : public TimedExchange<HttpExchange, std::string> {
 public:
  HttpExchange(boost::asio::io_context& io, TrackerUrl url, std::string target,
               AnnounceSettings settings, Handler handler)
      : TimedExchange(io, std::move(handler)),
        url_(std::move(url)),
        first_target_(std::move(target)),
        settings_(std::move(settings)),
        resolver_(io),
        stream_(io) {}

  void start() {
    start_deadline(settings_.timeout);
    request(first_target_);
  }

  void shut() {
    resolver_.cancel();
    boost::system::error_code ignored;
    stream_.socket().close(ignored);
  }

 private:
  void request(std::string target) {
    target_ = std::move(target);
    resolver_.async_resolve(url_.host, std::to_string(url_.port),
                            [self = shared_from_this()](boost::system::error_code ec,
                                                        const tcp::resolver::results_type& r) {
                              if (self->done()) return;
                              if (ec)
                                return self->finish(Error(ec, "looking up " + self->url_.host));
                              self->stream_.async_connect(
                                  r, [self](boost::system::error_code ec2, const tcp::endpoint&) {
                                    if (self->done()) return;
                                    if (ec2) return self->finish(Error(ec2, ""));
                                    self->send();
                                  });
                            });
  }

  void send() {
    request_ = {http::verb::get, target_, 11};
    request_.set(http::field::host,
                 url_.port == 80 ? url_.host : url_.host + ":" + std::to_string(url_.port));
    request_.set(http::field::user_agent, settings_.user_agent);
    request_.set(http::field::accept_encoding, "identity");
    request_.set(http::field::connection, "close");
    http::async_write(stream_, request_,
                      [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                        if (self->done()) return;
                        if (ec) return self->finish(Error(ec, "sending the request"));
                        self->receive();
                      });
  }

  void receive() {
    parser_.emplace();
    parser_->body_limit(settings_.max_reply_size);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                       if (self->done()) return;
                       if (ec) return self->finish(Error(ec, "reading the reply"));
                       self->on_reply();
                     });
  }

  void on_reply() {
    auto& reply = parser_->get();
    const unsigned status = reply.result_int();
    if (status >= 300 && status < 400 && reply.count(http::field::location) != 0) {
      return redirect(std::string(reply[http::field::location]));
    }
    if (status != 200) {
      return finish(Error(Errc::tracker_http_status,
                          std::to_string(status) + " " + std::string(reply.reason())));
    }
    finish(std::move(reply.body()));
  }

  void redirect(const std::string& location) {
    if (++redirects_ > settings_.max_redirects) {
      return finish(Error(Errc::tracker_http_status, "too many redirects"));
    }
    boost::system::error_code ignored;
    stream_.socket().close(ignored);
    buffer_.consume(buffer_.size());
    if (location.starts_with("/")) return request(location);  // same host
    auto next = parse_tracker_url(location);
    if (!next || next->scheme != TrackerScheme::http) {
      return finish(
          Error(Errc::tracker_http_status, "redirected to unsupported '" + location + "'"));
    }
    url_.host = next->host;
    url_.port = next->port;
    request(next->target);
  }

  TrackerUrl url_;
  std::string first_target_;
  AnnounceSettings settings_;
  tcp::resolver resolver_;
  beast::tcp_stream stream_;
  std::string target_;
  http::request<http::empty_body> request_;
  beast::flat_buffer buffer_;
  std::optional<http::response_parser<http::string_body>> parser_;
  int redirects_ = 0;
};

}  // namespace

std::shared_ptr<TrackerOperation> start_http_announce(boost::asio::io_context& io,
                                                      const TrackerUrl& url,
                                                      const AnnounceRequest& request,
                                                      const AnnounceSettings& settings,
                                                      AnnounceHandler handler) {
  auto op = std::make_shared<HttpExchange>(
      io, url, url.target_with_query(build_announce_query(request)), settings,
      [handler = std::move(handler)](Expected<std::string> body) {
        if (!body) return handler(body.error());
        handler(decode_announce_reply(*body));
      });
  op->start();
  return op;
}

std::shared_ptr<TrackerOperation> start_http_scrape(boost::asio::io_context& io,
                                                    const TrackerUrl& scrape,
                                                    const Sha1Digest& info_hash,
                                                    const AnnounceSettings& settings,
                                                    ScrapeHandler handler) {
  auto op = std::make_shared<HttpExchange>(
      io, scrape, scrape.target_with_query(build_scrape_query({{info_hash}})), settings,
      [handler = std::move(handler)](Expected<std::string> body) {
        if (!body) return handler(body.error());
        handler(decode_scrape_reply(*body));
      });
  op->start();
  return op;
}

}  // namespace starling::tracker
