#include "rpc/torrent_url.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <memory>

#include "http/client.hpp"
#include "webseed/web_seed_url.hpp"

namespace starling::rpc {
namespace {

using Clock = std::chrono::steady_clock;

// One fetch, hop by hop through redirects; owns itself through the callbacks it hands out.
class UrlFetch : public std::enable_shared_from_this<UrlFetch> {
 public:
  UrlFetch(boost::asio::io_context& io, std::string url,
           std::function<void(Expected<std::string>)> done, TorrentUrlSettings settings)
      : io_(io),
        resolver_(io),
        original_(std::move(url)),
        done_(std::move(done)),
        settings_(settings),
        deadline_(Clock::now() + settings.timeout) {}

  void start() {
    if (webseed::starts_with_nocase(original_, "https://")) {
      return fail(
          "https is not supported for torrent-add by URL (plain http only); download the "
          ".torrent and add the file or its contents");
    }
    auto url = webseed::parse_http_url(original_);
    if (!url) return fail("not a usable http URL: " + url.error().message());
    get(*url);
  }

 private:
  void get(const webseed::HttpUrl& url) {
    current_ = url;
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(url.host, ec);
    if (!ec) return send(boost::asio::ip::tcp::endpoint(address, url.port));
    resolver_.async_resolve(
        url.host, std::to_string(url.port),
        [self = shared_from_this()](boost::system::error_code error,
                                    const boost::asio::ip::tcp::resolver::results_type& results) {
          if (error || results.empty()) {
            return self->fail("cannot resolve " + self->current_.host + ": " +
                              (error ? error.message() : std::string("no address")));
          }
          self->send(results.begin()->endpoint());
        });
  }

  void send(const boost::asio::ip::tcp::endpoint& endpoint) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now());
    if (left <= std::chrono::milliseconds::zero()) return fail("timed out");
    http::Request request(http::Verb::get, current_.target, 11);
    request.set(boost::beast::http::field::host, current_.host_header());
    request.set(boost::beast::http::field::user_agent, "starling");
    http::FetchOptions options;
    options.timeout = left;
    options.max_body = settings_.max_bytes;
    http::fetch(
        io_, endpoint, std::move(request),
        [self = shared_from_this()](Expected<http::Response> response) {
          self->on_response(std::move(response));
        },
        options);
  }

  void on_response(Expected<http::Response> response) {
    if (!response) return fail(response.error().message());
    const unsigned status = response->result_int();
    if (status >= 300 && status < 400) {
      const auto location = response->find(boost::beast::http::field::location);
      if (location == response->end())
        return fail(fmt::format("HTTP {} without a Location", status));
      if (++redirects_ > settings_.max_redirects) return fail("too many redirects");
      const std::string_view target(location->value().data(), location->value().size());
      if (webseed::starts_with_nocase(target, "https://")) {
        return fail("redirected to https, which is not supported (plain http only)");
      }
      auto next = webseed::resolve_location(current_, target);
      if (!next) return fail("bad redirect: " + next.error().message());
      return get(*next);
    }
    if (status != 200) {
      return fail(fmt::format("HTTP {} {}", status, std::string(response->reason())));
    }
    if (response->body().empty()) return fail("empty reply");  // (max_bytes: http::fetch holds it)
    finish(std::move(response->body()));
  }

  void fail(const std::string& what) {
    finish(Error(Errc::invalid_argument, "cannot fetch " + original_ + ": " + what));
  }

  void finish(Expected<std::string> result) {
    if (!done_) return;
    auto done = std::move(done_);
    done_ = nullptr;
    done(std::move(result));
  }

  boost::asio::io_context& io_;
  boost::asio::ip::tcp::resolver resolver_;
  std::string original_;
  webseed::HttpUrl current_;
  std::function<void(Expected<std::string>)> done_;
  TorrentUrlSettings settings_;
  Clock::time_point deadline_;
  int redirects_ = 0;
};

}  // namespace

bool is_torrent_url(std::string_view filename) {
  return webseed::starts_with_nocase(filename, "http://") ||
         webseed::starts_with_nocase(filename, "https://");
}

void fetch_torrent_url(boost::asio::io_context& io, const std::string& url,
                       std::function<void(Expected<std::string>)> done,
                       TorrentUrlSettings settings) {
  std::make_shared<UrlFetch>(io, url, std::move(done), settings)->start();
}

}  // namespace starling::rpc
