#include "tracker/tracker_client.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <random>

namespace starling::tracker {
namespace {

std::vector<std::vector<std::string>> shuffled(std::vector<std::vector<std::string>> tiers,
                                               std::mt19937& rng) {
  for (auto& tier : tiers) std::shuffle(tier.begin(), tier.end(), rng);
  return tiers;
}

std::mt19937& random_engine() {
  static thread_local std::mt19937 rng{std::random_device{}()};
  return rng;
}

}  // namespace

TrackerClient::TrackerClient(boost::asio::io_context& io,
                             std::vector<std::vector<std::string>> tiers,
                             const Sha1Digest& info_hash, const PeerId& peer_id, std::uint16_t port,
                             std::function<TransferTotals()> totals, PeersHandler on_peers,
                             TrackerClientSettings settings)
    : io_(io),
      schedule_(shuffled(std::move(tiers), random_engine()), settings.schedule),
      info_hash_(info_hash),
      peer_id_(peer_id),
      port_(port),
      totals_(std::move(totals)),
      on_peers_(std::move(on_peers)),
      settings_(std::move(settings)),
      key_(fmt::format("{:08X}", static_cast<std::uint32_t>(random_engine()()))),
      timer_(io) {}

TrackerClient::~TrackerClient() {
  try {
    if (in_flight_) in_flight_->cancel();
    timer_.cancel();
  } catch (...) {  // NOLINT(bugprone-empty-catch): nothing left to report at teardown
  }
}

void TrackerClient::start() {
  if (started_ || empty()) return;
  started_ = true;
  announce_now();
}

void TrackerClient::completed() {
  if (!started_ || stopping_) return;
  // A tracker that never heard `started` hears it now; `left` is 0 either way.
  if (!last_good_.empty()) pending_ = AnnounceEvent::completed;
  if (in_flight_) {
    announce_again_ = true;
    return;
  }
  timer_.cancel();
  // Straight to the tracker that registered us, not the first tier's (which may have failed).
  announce_now(last_good_);
}

void TrackerClient::reannounce() {
  if (!started_ || stopping_) return;
  if (in_flight_) {
    announce_again_ = true;
    return;
  }
  timer_.cancel();
  announce_now();
}

AnnounceRequest TrackerClient::make_request(AnnounceEvent event) const {
  const TransferTotals totals = totals_ ? totals_() : TransferTotals{};
  AnnounceRequest request;
  request.info_hash = info_hash_;
  request.peer_id = peer_id_;
  request.port = port_;
  request.uploaded = totals.uploaded;
  request.downloaded = totals.downloaded;
  request.left = totals.left;
  request.event = event;
  request.numwant = event == AnnounceEvent::stopped ? 0 : settings_.numwant;
  request.compact = true;
  request.key = key_;
  return request;
}

void TrackerClient::announce_now(const std::string& direct) {
  if (stopping_ || empty()) return;
  in_flight_direct_ = !direct.empty();
  const std::string url_text = in_flight_direct_ ? direct : schedule_.current();
  const AnnounceEvent event = pending_;
  auto url = parse_tracker_url(url_text);
  if (!url) {
    return on_result(event, url_text, url.error());
  }
  in_flight_event_ = event;
  in_flight_ = start_announce(
      io_, *url, make_request(event), settings_.announce,
      [this, event, url_text, alive = std::weak_ptr<int>(life_)](Expected<AnnounceReply> r) {
        if (alive.expired()) return;
        on_result(event, url_text, std::move(r));
      });
}

void TrackerClient::on_result(AnnounceEvent sent, const std::string& url,
                              Expected<AnnounceReply> result) {
  in_flight_.reset();
  if (stopping_) {
    if (result && !result->failure_reason) last_good_ = url;
    timer_.cancel();
    return send_stopped();
  }
  const auto now = AnnounceSchedule::Clock::now();
  std::string failure;
  if (!result) {
    failure = url + ": " + result.error().message();
  } else if (result->failure_reason) {
    failure = url + ": tracker refused: " + *result->failure_reason;
  }
  if (!failure.empty()) {
    last_error_ = failure;
    say("tracker: " + failure);
    if (in_flight_direct_) return announce_now();          // a normal round, from the first tier
    if (schedule_.on_failure(now)) return announce_now();  // the next tracker in the tiers
    return wait_for_next_round();
  }
  const AnnounceReply& reply = *result;
  last_error_.clear();
  last_good_ = url;
  if (reply.warning_message) say("tracker: " + url + ": warning: " + *reply.warning_message);
  say(fmt::format("tracker: {} answered: {} peers, interval {} s", url, reply.peers.size(),
                  reply.interval));
  if (pending_ == sent) pending_ = AnnounceEvent::none;
  std::optional<std::chrono::seconds> interval;
  if (reply.interval > 0) interval = std::chrono::seconds(reply.interval);
  std::optional<std::chrono::seconds> min_interval;
  if (reply.min_interval && *reply.min_interval > 0) {
    min_interval = std::chrono::seconds(*reply.min_interval);
  }
  // (After a direct announce the round cursor is at its start, so this promotes nothing.)
  schedule_.on_success(now, interval, min_interval);
  std::vector<PeerAddress> peers;
  peers.reserve(reply.peers.size());
  for (const auto& peer : reply.peers) peers.push_back(peer.address);
  if (!peers.empty() && on_peers_) on_peers_(peers);
  if (announce_again_) {
    announce_again_ = false;
    return announce_now();
  }
  wait_for_next_round();
}

void TrackerClient::wait_for_next_round() {
  if (announce_again_) {
    announce_again_ = false;
    return announce_now();
  }
  timer_.expires_at(schedule_.next_round());
  timer_.async_wait([this, alive = std::weak_ptr<int>(life_)](boost::system::error_code ec) {
    if (ec || alive.expired()) return;
    announce_now();
  });
}

void TrackerClient::stop(std::function<void()> done) {
  if (stopping_) {
    boost::asio::post(io_, std::move(done));
    return;
  }
  stopping_ = true;
  stop_done_ = std::move(done);
  timer_.cancel();
  if (in_flight_ && in_flight_event_ == AnnounceEvent::completed) {
    // Let `completed` arrive first (a download that quits at once still counts as one), but
    // only for stop_timeout; on_result sends `stopped` after it.
    timer_.expires_after(settings_.stop_timeout);
    timer_.async_wait([this, alive = std::weak_ptr<int>(life_)](boost::system::error_code ec) {
      if (ec || alive.expired() || !in_flight_) return;
      in_flight_->cancel();
      in_flight_.reset();
      send_stopped();
    });
    return;
  }
  if (in_flight_) in_flight_->cancel();
  in_flight_.reset();
  send_stopped();
}

void TrackerClient::send_stopped() {
  auto done = std::move(stop_done_);
  stop_done_ = nullptr;
  auto url = parse_tracker_url(last_good_);
  if (last_good_.empty() || !url) {
    boost::asio::post(io_, std::move(done));
    return;
  }
  AnnounceSettings quick = settings_.announce;
  quick.timeout = std::min(quick.timeout, settings_.stop_timeout);
  in_flight_event_ = AnnounceEvent::stopped;
  in_flight_ = start_announce(io_, *url, make_request(AnnounceEvent::stopped), quick,
                              [done = std::move(done)](const Expected<AnnounceReply>&) { done(); });
}

}  // namespace starling::tracker
