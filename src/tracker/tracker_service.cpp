#include "tracker/tracker_service.hpp"

#include <fmt/format.h>

#include "core/prometheus_text.hpp"
#include "tracker/announce_reply.hpp"
#include "tracker/announce_request.hpp"
#include "tracker/peer_store.hpp"
#include "tracker/scrape.hpp"
#include "tracker/udp_codec.hpp"

namespace starling::tracker {
namespace {

// Scratch buffers per thread: their capacity is kept, so a request allocates nothing.
struct Scratch {
  std::string peers4;
  std::string peers6;
  std::vector<ScrapeEntry> entries;
};
Scratch& scratch() {
  thread_local Scratch s;
  s.peers4.clear();
  s.peers6.clear();
  s.entries.clear();
  return s;
}

std::string_view status_message(AnnounceStatus status) {
  switch (status) {
    case AnnounceStatus::ok:
      return "";
    case AnnounceStatus::not_allowed:
      return "torrent not allowed on this tracker";
    case AnnounceStatus::torrent_limit:
      return "tracker is full: too many torrents";
    case AnnounceStatus::unavailable:
      return "tracker's peer store is unavailable; try again later";
  }
  return "";
}

}  // namespace

TrackerService::TrackerService(TrackerSettings settings, ConnectionIds ids, std::size_t workers,
                               std::unique_ptr<SwarmStore> store)
    : settings_(settings),
      ids_(ids),
      store_(store ? std::move(store) : std::make_unique<PeerStore>(settings.store)) {
  for (std::size_t i = 0; i < std::max<std::size_t>(1, workers); ++i) {
    counters_.push_back(std::make_unique<Counters>());
  }
}

HttpAnswer TrackerService::handle_http(std::string_view target, const IpAddress& from, Seconds now,
                                       std::string& body, std::size_t worker) {
  Counters& c = *counters_[worker];
  const std::size_t q = target.find('?');
  const std::string_view path = target.substr(0, q);
  const std::string_view query = q == std::string_view::npos ? "" : target.substr(q + 1);
  if (path == "/announce") {
    http_announce(query, from, now, body, c);
    return {};
  }
  if (path == "/scrape") {
    http_scrape(query, body, c);
    return {};
  }
  if (path == "/stats") {
    body += stats_json();
    return {200, "application/json"};
  }
  if (path == "/metrics") {
    body += metrics_text();
    return {200, kPrometheusContentType};
  }
  Counters::bump(c.errors);
  Counters::bump(c.http_other_errors);
  body += "not found\n";
  return {404, "text/plain"};
}

void TrackerService::http_announce(std::string_view query, const IpAddress& from, Seconds now,
                                   std::string& body, Counters& c) {
  auto request = parse_announce_query(query);
  if (!request) {
    Counters::bump(c.errors);
    Counters::bump(c.http_announce_errors);
    append_failure_reply(body, request.error().message());
    return;
  }
  Scratch& s = scratch();
  StoreAnnounce a;
  a.info_hash = request->info_hash;
  a.peer = {from.unmapped(), request->port};  // the socket's address, never `ip=`
  a.event = request->event;
  a.seed = request->is_seed();
  a.numwant = request->numwant;
  SwarmCounts counts;
  const AnnounceStatus status = store_->announce(a, now, counts, s.peers4, s.peers6);
  if (status != AnnounceStatus::ok) {
    Counters::bump(c.errors);
    Counters::bump(c.http_announce_errors);
    append_failure_reply(body, status_message(status));
    return;
  }
  Counters::bump(c.http_announces);
  AnnounceReplyFields f;
  f.interval = settings_.interval;
  f.min_interval = settings_.min_interval;
  f.complete = counts.complete;
  f.incomplete = counts.incomplete;
  f.peers4 = s.peers4;
  f.peers6 = s.peers6;
  f.compact = request->compact;
  append_announce_reply(body, f);
}

void TrackerService::http_scrape(std::string_view query, std::string& body, Counters& c) {
  auto request = parse_scrape_query(query, settings_.max_scrape_hashes);
  if (!request) {
    Counters::bump(c.errors);
    Counters::bump(c.http_scrape_errors);
    append_failure_reply(body, request.error().message());
    return;
  }
  Scratch& s = scratch();
  for (const auto& hash : request->info_hashes) {
    auto counts = store_->allowed(hash) ? store_->scrape(hash) : SwarmCounts{};
    if (!counts) {
      Counters::bump(c.errors);
      Counters::bump(c.http_scrape_errors);
      append_failure_reply(body, status_message(AnnounceStatus::unavailable));
      return;
    }
    s.entries.push_back({hash, counts->complete, counts->downloaded, counts->incomplete});
  }
  Counters::bump(c.http_scrapes);
  append_scrape_reply(body, s.entries);
}

void TrackerService::handle_udp(std::span<const std::uint8_t> datagram, const PeerAddress& from,
                                Seconds now, std::string& out, std::size_t worker) {
  Counters& c = *counters_[worker];
  auto fail = [&](std::uint32_t transaction, std::string message) {
    Counters::bump(c.errors);
    Counters::bump(c.udp_errors);
    udp::encode(out, udp::ErrorResponse{transaction, std::move(message)});
  };
  auto request = udp::parse_request(datagram);
  if (!request) {
    fail(udp::transaction_id_of(datagram), request.error().message());
    return;
  }
  if (const auto* connect = std::get_if<udp::ConnectRequest>(&*request)) {
    Counters::bump(c.udp_connects);
    udp::encode(out, udp::ConnectResponse{connect->transaction_id, ids_.issue(from, now)});
    return;
  }
  if (const auto* announce = std::get_if<udp::AnnounceRequest>(&*request)) {
    if (!ids_.valid(announce->connection_id, from, now)) {
      fail(announce->transaction_id, "unknown or expired connection id");
      return;
    }
    if (announce->port == 0) {
      fail(announce->transaction_id, "port must be from 1 to 65535");
      return;
    }
    Scratch& s = scratch();
    StoreAnnounce a;
    a.info_hash = announce->info_hash;
    a.peer = {from.ip, announce->port};  // the sender's address; the packet's ip is ignored
    a.event = announce->event;
    a.seed = announce->left == 0;
    a.numwant = announce->num_want;
    a.want_v4 = !from.ip.v6;  // BEP 15: peers of the family the request came over
    a.want_v6 = from.ip.v6;
    SwarmCounts counts;
    const AnnounceStatus status = store_->announce(a, now, counts, s.peers4, s.peers6);
    if (status != AnnounceStatus::ok) {
      fail(announce->transaction_id, std::string(status_message(status)));
      return;
    }
    Counters::bump(c.udp_announces);
    udp::append_announce_response(out, announce->transaction_id, settings_.interval,
                                  counts.incomplete, counts.complete,
                                  from.ip.v6 ? s.peers6 : s.peers4);
    return;
  }
  const auto& scrape = std::get<udp::ScrapeRequest>(*request);
  if (!ids_.valid(scrape.connection_id, from, now)) {
    fail(scrape.transaction_id, "unknown or expired connection id");
    return;
  }
  udp::ScrapeResponse response{scrape.transaction_id, {}};
  response.entries.reserve(scrape.info_hashes.size());
  for (const auto& hash : scrape.info_hashes) {
    auto counts = store_->allowed(hash) ? store_->scrape(hash) : SwarmCounts{};
    if (!counts) {
      fail(scrape.transaction_id, std::string(status_message(AnnounceStatus::unavailable)));
      return;
    }
    response.entries.push_back({hash, counts->complete, counts->downloaded, counts->incomplete});
  }
  Counters::bump(c.udp_scrapes);
  udp::encode(out, response);
}

std::string TrackerService::stats_json() const {
  std::uint64_t http_announces = 0;
  std::uint64_t udp_announces = 0;
  std::uint64_t scrapes = 0;
  std::uint64_t connects = 0;
  std::uint64_t errors = 0;
  for (const auto& c : counters_) {
    http_announces += c->http_announces.load(std::memory_order_relaxed);
    udp_announces += c->udp_announces.load(std::memory_order_relaxed);
    scrapes += c->http_scrapes.load(std::memory_order_relaxed) +
               c->udp_scrapes.load(std::memory_order_relaxed);
    connects += c->udp_connects.load(std::memory_order_relaxed);
    errors += c->errors.load(std::memory_order_relaxed);
  }
  const StoreTotals t = store_->totals();
  return fmt::format(
      R"({{"torrents":{},"peers":{},"seeds":{},"leechers":{},"announces":{},)"
      R"("http_announces":{},"udp_announces":{},"scrapes":{},"udp_connects":{},"errors":{},)"
      R"("store_bytes":{}}})"
      "\n",
      t.torrents, t.peers, t.seeds, t.peers - t.seeds, http_announces + udp_announces,
      http_announces, udp_announces, scrapes, connects, errors, t.bytes);
}

}  // namespace starling::tracker

namespace starling::tracker {

void TrackerService::observe_http_time(std::size_t worker, double seconds) {
  Counters& c = *counters_[worker];
  std::size_t bucket = 0;
  while (bucket < kHttpTimeBounds.size() && seconds > kHttpTimeBounds[bucket]) ++bucket;
  Counters::bump(c.http_time_buckets[bucket]);
  Counters::add(c.http_time_ns, static_cast<std::uint64_t>(seconds * 1e9));
}

std::string TrackerService::metrics_text() const {
  auto sum = [&](std::atomic<std::uint64_t> Counters::*field) {
    std::uint64_t total = 0;
    for (const auto& c : counters_) total += ((*c).*field).load(std::memory_order_relaxed);
    return static_cast<std::int64_t>(total);
  };
  const StoreTotals t = store_->totals();
  PrometheusText out;
  out.family("starling_build_info", "gauge", "Always 1; the version is a label.");
  out.sample("starling_build_info", {{"version", STARLING_VERSION}}, std::int64_t{1});
  out.family("starling_tracker_info_hashes", "gauge", "Torrents with at least one peer.");
  out.sample("starling_tracker_info_hashes", static_cast<std::int64_t>(t.torrents));
  out.family("starling_tracker_seeders", "gauge", "Peers that announced they are complete.");
  out.sample("starling_tracker_seeders", static_cast<std::int64_t>(t.seeds));
  out.family("starling_tracker_leechers", "gauge", "Peers still downloading.");
  out.sample("starling_tracker_leechers", static_cast<std::int64_t>(t.peers - t.seeds));
  out.family("starling_tracker_store_bytes", "gauge", "Memory held by the peer store.");
  out.sample("starling_tracker_store_bytes", static_cast<std::int64_t>(t.bytes));
  out.family("starling_tracker_requests_total", "counter",
             "Requests answered, by protocol, action and result.");
  const struct {
    const char* protocol;
    const char* action;
    const char* result;
    std::atomic<std::uint64_t> Counters::*field;
  } rows[] = {
      {"http", "announce", "ok", &Counters::http_announces},
      {"http", "announce", "error", &Counters::http_announce_errors},
      {"http", "scrape", "ok", &Counters::http_scrapes},
      {"http", "scrape", "error", &Counters::http_scrape_errors},
      {"http", "other", "error", &Counters::http_other_errors},
      {"udp", "connect", "ok", &Counters::udp_connects},
      {"udp", "announce", "ok", &Counters::udp_announces},
      {"udp", "scrape", "ok", &Counters::udp_scrapes},
      {"udp", "any", "error", &Counters::udp_errors},
  };
  for (const auto& row : rows) {
    out.sample("starling_tracker_requests_total",
               {{"protocol", row.protocol}, {"action", row.action}, {"result", row.result}},
               sum(row.field));
  }
  std::vector<double> bounds(kHttpTimeBounds.begin(), kHttpTimeBounds.end());
  std::vector<std::uint64_t> counts(kHttpTimeBounds.size() + 1, 0);
  std::uint64_t ns = 0;
  for (const auto& c : counters_) {
    for (std::size_t i = 0; i < counts.size(); ++i) {
      counts[i] += c->http_time_buckets[i].load(std::memory_order_relaxed);
    }
    ns += c->http_time_ns.load(std::memory_order_relaxed);
  }
  out.histogram("starling_tracker_http_response_seconds",
                "Time to handle one HTTP request, parsed request to built reply.", bounds, counts,
                static_cast<double>(ns) / 1e9);
  return out.take();
}

}  // namespace starling::tracker
