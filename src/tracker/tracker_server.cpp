#include "tracker/tracker_server.hpp"

#include <boost/asio/post.hpp>

namespace starling::tracker {

namespace asio = boost::asio;

namespace {

std::chrono::steady_clock::time_point epoch_for(bool wall_clock) {
  const auto now = std::chrono::steady_clock::now();
  if (!wall_clock) return now;
  const auto since_1970 = std::chrono::system_clock::now().time_since_epoch();
  return now - std::chrono::duration_cast<std::chrono::steady_clock::duration>(since_1970);
}

}  // namespace

TrackerServer::TrackerServer(TrackerService& service, ServerOptions options)
    : service_(service), options_(std::move(options)), epoch_(epoch_for(options_.wall_clock)) {
  std::size_t threads = options_.threads;
  if (threads == 0) threads = std::max(1U, std::thread::hardware_concurrency());
  for (std::size_t i = 0; i < threads; ++i) {
    contexts_.push_back(std::make_unique<asio::io_context>(1));
    if (options_.http) {
      http_.push_back(std::make_unique<HttpWorker>(*contexts_.back(), service_, i,
                                                   options_.http_limits, epoch_));
    }
    if (options_.udp) {
      udp_.push_back(std::make_unique<UdpWorker>(*contexts_.back(), service_, i, epoch_));
    }
  }
  sweep_timer_ = std::make_unique<asio::steady_timer>(*contexts_.front());
}

TrackerServer::~TrackerServer() = default;

Status TrackerServer::bind() {
  if (options_.http) {
    auto endpoint = *options_.http;
    for (auto& worker : http_) {
      if (auto status = worker->listen(endpoint); !status) return status;
      endpoint = worker->local_endpoint();  // the port the first one got, for the others
    }
  }
  if (options_.udp) {
    auto endpoint = *options_.udp;
    if (options_.udp_port_from_http && !http_.empty()) {
      endpoint.port(http_.front()->local_endpoint().port());
    }
    for (auto& worker : udp_) {
      if (auto status = worker->bind(endpoint); !status) return status;
      endpoint = worker->local_endpoint();
    }
  }
  return ok();
}

std::optional<asio::ip::tcp::endpoint> TrackerServer::http_endpoint() const {
  if (http_.empty()) return std::nullopt;
  return http_.front()->local_endpoint();
}

std::optional<asio::ip::udp::endpoint> TrackerServer::udp_endpoint() const {
  if (udp_.empty()) return std::nullopt;
  return udp_.front()->local_endpoint();
}

void TrackerServer::sweep() {
  sweep_timer_->expires_after(options_.sweep_every);
  sweep_timer_->async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    service_.store().sweep(
        std::chrono::duration_cast<Seconds>(std::chrono::steady_clock::now() - epoch_));
    sweep();
  });
}

void TrackerServer::run() {
  for (auto& w : http_) w->start();
  for (auto& w : udp_) w->start();
  sweep();
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < contexts_.size(); ++i) {
    threads.emplace_back([this, i] { contexts_[i]->run(); });
  }
  contexts_.front()->run();
  for (auto& t : threads) t.join();
}

void TrackerServer::stop() {
  for (std::size_t i = 0; i < contexts_.size(); ++i) {
    asio::post(*contexts_[i], [this, i] {
      if (i < http_.size()) http_[i]->stop();
      if (i < udp_.size()) udp_[i]->stop();
      if (i == 0) sweep_timer_->cancel();
      // Nothing else: once every socket and timer is closed, run() runs out of work and returns
      // after the aborted handlers have released their connections.
    });
  }
}

}  // namespace starling::tracker
