// What the HTTP and UDP tracker exchanges share: one deadline over the whole exchange, a handler
// that runs exactly once (posted to the io_context), and cancel(), after which it never runs.
// `Derived` closes its own sockets and resolver in shut().
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <system_error>

#include "core/expected.hpp"
#include "tracker/announcer.hpp"

namespace starling::tracker {

template <class Derived, class Result>
class TimedExchange : public TrackerOperation, public std::enable_shared_from_this<Derived> {
 public:
  using Handler = std::function<void(Expected<Result>)>;

  void cancel() override {
    if (done_) return;
    done_ = true;
    stop();
  }

 protected:
  TimedExchange(boost::asio::io_context& io, Handler handler)
      : io_(io), handler_(std::move(handler)), deadline_(io) {}

  void start_deadline(std::chrono::milliseconds timeout) {
    deadline_.expires_after(timeout);
    deadline_.async_wait([self = this->shared_from_this()](boost::system::error_code ec) {
      if (!ec) self->finish(Error(std::make_error_code(std::errc::timed_out), "no reply"));
    });
  }

  void finish(Expected<Result> result) {
    if (done_) return;
    done_ = true;
    stop();
    boost::asio::post(io_, [handler = std::move(handler_), result = std::move(result)]() mutable {
      handler(std::move(result));
    });
  }

  bool done() const { return done_; }

 private:
  void stop() {
    deadline_.cancel();
    static_cast<Derived*>(this)->shut();
  }

  boost::asio::io_context& io_;
  Handler handler_;
  boost::asio::steady_timer deadline_;
  bool done_ = false;
};

}  // namespace starling::tracker
