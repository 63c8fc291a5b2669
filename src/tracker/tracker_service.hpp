// What the tracker answers, independent of sockets (sans-IO): an HTTP request target or a UDP
// datagram in, with the sender's address and the time; the reply bytes out. The servers only
// move bytes; tests drive this directly. One Counters block per server thread, so counting
// costs no shared cache line.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tracker/connection_id.hpp"
#include "tracker/peer_address.hpp"
#include "tracker/swarm_store.hpp"

namespace starling::tracker {

struct TrackerSettings {
  std::uint32_t interval = 1800;     // seconds between announces we ask for
  std::uint32_t min_interval = 900;  // "min interval" in HTTP replies; 0: not sent
  std::size_t max_scrape_hashes = 64;
  PeerStoreLimits store;
};

struct alignas(64) Counters {
  // Written by one thread only (relaxed load + store, no locked add); read by /stats.
  std::atomic<std::uint64_t> http_announces{0};
  std::atomic<std::uint64_t> http_scrapes{0};
  std::atomic<std::uint64_t> udp_connects{0};
  std::atomic<std::uint64_t> udp_announces{0};
  std::atomic<std::uint64_t> udp_scrapes{0};
  std::atomic<std::uint64_t> errors{0};  // failure replies and UDP error packets
  // The same errors by what was asked, for /metrics.
  std::atomic<std::uint64_t> http_announce_errors{0};
  std::atomic<std::uint64_t> http_scrape_errors{0};
  std::atomic<std::uint64_t> http_other_errors{0};  // unknown paths, malformed requests
  std::atomic<std::uint64_t> udp_errors{0};
  // HTTP handling time (request parsed -> reply built), for the /metrics histogram.
  std::array<std::atomic<std::uint64_t>, 10> http_time_buckets{};  // kHttpTimeBounds, then +Inf
  std::atomic<std::uint64_t> http_time_ns{0};

  static void bump(std::atomic<std::uint64_t>& c) {
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  static void add(std::atomic<std::uint64_t>& c, std::uint64_t n) {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
};

// Upper bounds (seconds) of the HTTP handling-time histogram's buckets.
inline constexpr std::array<double, 9> kHttpTimeBounds = {1e-6, 5e-6, 1e-5, 5e-5, 1e-4,
                                                          5e-4, 1e-3, 1e-2, 1e-1};

struct HttpAnswer {
  int status = 200;  // 200 (also for failure replies, as trackers do) or 404
  std::string_view content_type = "text/plain";
};

class TrackerService {
 public:
  // `store`: where the peers live; nullptr: an in-memory PeerStore with settings.store.
  TrackerService(TrackerSettings settings, ConnectionIds ids, std::size_t workers,
                 std::unique_ptr<SwarmStore> store = nullptr);

  SwarmStore& store() { return *store_; }
  const TrackerSettings& settings() const { return settings_; }
  Counters& counters(std::size_t worker) { return *counters_[worker]; }

  // `target`: the HTTP request-target ("/announce?..."). Appends the body to `body`.
  HttpAnswer handle_http(std::string_view target, const IpAddress& from, Seconds now,
                         std::string& body, std::size_t worker);
  // Appends the reply datagram to `out` (an error packet for anything malformed).
  void handle_udp(std::span<const std::uint8_t> datagram, const PeerAddress& from, Seconds now,
                  std::string& out, std::size_t worker);

  // {"torrents":..,"peers":..,"seeds":..,"leechers":..,"announces":..,...}
  std::string stats_json() const;
  // GET /metrics: Prometheus text format (info-hashes, seeders, leechers, requests by protocol,
  // action and result, HTTP handling-time histogram).
  std::string metrics_text() const;
  // One HTTP request took `seconds` to handle (the server measures; the histogram is here).
  void observe_http_time(std::size_t worker, double seconds);

 private:
  void http_announce(std::string_view query, const IpAddress& from, Seconds now, std::string& body,
                     Counters& c);
  void http_scrape(std::string_view query, std::string& body, Counters& c);

  TrackerSettings settings_;
  ConnectionIds ids_;
  std::unique_ptr<SwarmStore> store_;
  std::vector<std::unique_ptr<Counters>> counters_;
};

}  // namespace starling::tracker
