#include "tracker/tracker_service.hpp"

#include <fmt/format.h>

#include "tracker/announce_reply.hpp"
#include "tracker/announce_request.hpp"
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
  }
  return "";
}

}  // namespace

TrackerService::TrackerService(TrackerSettings settings, ConnectionIds ids, std::size_t workers)
    : settings_(settings), ids_(ids), store_(settings.store) {
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
  Counters::bump(c.errors);
  body += "not found\n";
  return {404, "text/plain"};
}

void TrackerService::http_announce(std::string_view query, const IpAddress& from, Seconds now,
                                   std::string& body, Counters& c) {
  auto request = parse_announce_query(query);
  if (!request) {
    Counters::bump(c.errors);
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
  const AnnounceStatus status = store_.announce(a, now, counts, s.peers4, s.peers6);
  if (status != AnnounceStatus::ok) {
    Counters::bump(c.errors);
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
    append_failure_reply(body, request.error().message());
    return;
  }
  Counters::bump(c.http_scrapes);
  Scratch& s = scratch();
  for (const auto& hash : request->info_hashes) {
    const SwarmCounts counts = store_.allowed(hash) ? store_.scrape(hash) : SwarmCounts{};
    s.entries.push_back({hash, counts.complete, counts.downloaded, counts.incomplete});
  }
  append_scrape_reply(body, s.entries);
}

void TrackerService::handle_udp(std::span<const std::uint8_t> datagram, const PeerAddress& from,
                                Seconds now, std::string& out, std::size_t worker) {
  Counters& c = *counters_[worker];
  auto fail = [&](std::uint32_t transaction, std::string message) {
    Counters::bump(c.errors);
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
    const AnnounceStatus status = store_.announce(a, now, counts, s.peers4, s.peers6);
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
  Counters::bump(c.udp_scrapes);
  udp::ScrapeResponse response{scrape.transaction_id, {}};
  response.entries.reserve(scrape.info_hashes.size());
  for (const auto& hash : scrape.info_hashes) {
    const SwarmCounts counts = store_.allowed(hash) ? store_.scrape(hash) : SwarmCounts{};
    response.entries.push_back({hash, counts.complete, counts.downloaded, counts.incomplete});
  }
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
  const StoreTotals t = store_.totals();
  return fmt::format(
      R"({{"torrents":{},"peers":{},"seeds":{},"leechers":{},"announces":{},)"
      R"("http_announces":{},"udp_announces":{},"scrapes":{},"udp_connects":{},"errors":{},)"
      R"("store_bytes":{}}})"
      "\n",
      t.torrents, t.peers, t.seeds, t.peers - t.seeds, http_announces + udp_announces,
      http_announces, udp_announces, scrapes, connects, errors, t.bytes);
}

}  // namespace starling::tracker
