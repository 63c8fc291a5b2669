// A torrent's announces to its trackers: `started` at start, re-announce on the tracker's
// interval, `completed` when the download finishes, `stopped` on the way out; BEP 12 tiers and
// back-off from AnnounceSchedule; peers handed to the torrent as they come.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tracker/announce_schedule.hpp"
#include "tracker/announcer.hpp"

namespace starling::tracker {

struct TrackerClientSettings {
  ScheduleSettings schedule;
  AnnounceSettings announce;
  std::int32_t numwant = 50;
  // The `stopped` announce on exit gets this long, so quitting never hangs on a dead tracker.
  std::chrono::milliseconds stop_timeout{3000};
};

struct TransferTotals {
  std::int64_t uploaded = 0;
  std::int64_t downloaded = 0;
  std::int64_t left = 0;
};

class TrackerClient {
 public:
  using PeersHandler = std::function<void(const std::vector<PeerAddress>&)>;

  // `tiers` as in the .torrent (BEP 12); each tier is shuffled here. `totals` is asked at each
  // announce; `on_peers` gets every peer list a tracker returns.
  TrackerClient(boost::asio::io_context& io, std::vector<std::vector<std::string>> tiers,
                const Sha1Digest& info_hash, const PeerId& peer_id, std::uint16_t port,
                std::function<TransferTotals()> totals, PeersHandler on_peers,
                TrackerClientSettings settings = {});
  ~TrackerClient();  // cancels whatever is in flight; no handler runs after this
  TrackerClient(const TrackerClient&) = delete;
  TrackerClient& operator=(const TrackerClient&) = delete;

  bool empty() const { return schedule_.empty(); }
  void start();
  void completed();
  // Announces now rather than at the next scheduled round (a user asked for more peers): if
  // an announce is on its way, another follows as soon as it is answered.
  void reannounce();
  // Sends `stopped` to the tracker that last answered (if any did), then calls `done`, within
  // stop_timeout (twice that when a `completed` announce is still on its way: it goes first);
  // `done` always runs, on the io_context.
  void stop(std::function<void()> done);

  // The most recent failure ("udp://h:1: Connection refused"), empty when the last one worked.
  const std::string& last_error() const { return last_error_; }
  bool any_answered() const { return !last_good_.empty(); }

  std::function<void(const std::string&)> log;

 private:
  // To `direct` if given, else to the schedule's current tracker.
  void announce_now(const std::string& direct = {});
  void on_result(AnnounceEvent sent, const std::string& url, Expected<AnnounceReply> result);
  void wait_for_next_round();
  void send_stopped();
  AnnounceRequest make_request(AnnounceEvent event) const;
  void say(const std::string& line) const {
    if (log) log(line);
  }

  boost::asio::io_context& io_;
  AnnounceSchedule schedule_;
  Sha1Digest info_hash_;
  PeerId peer_id_;
  std::uint16_t port_;
  std::function<TransferTotals()> totals_;
  PeersHandler on_peers_;
  TrackerClientSettings settings_;
  std::string key_;  // 8 hex digits, the same for every announce of this client
  boost::asio::steady_timer timer_;
  std::shared_ptr<TrackerOperation> in_flight_;
  AnnounceEvent in_flight_event_ = AnnounceEvent::none;
  bool in_flight_direct_ = false;  // sent to a chosen tracker, outside the schedule's round
  std::function<void()> stop_done_;
  std::shared_ptr<int> life_ = std::make_shared<int>(0);

  AnnounceEvent pending_ = AnnounceEvent::started;  // the event the next announce carries
  bool started_ = false;                            // start() was called
  bool announce_again_ = false;                     // an event came while an announce was in flight
  bool stopping_ = false;
  std::string last_good_;  // URL of the tracker that answered last
  std::string last_error_;
};

}  // namespace starling::tracker
