// starling deploy PATH --hosts FILE --secret-file FILE [--dest RELPATH] ...
// Makes the torrent, runs a tracker and the origin seed in this process (or uses --tracker),
// sends one signed job to every agent at once, follows them until each has verified the
// artifact or failed, and reports per-host times, percentiles, origin copies and T_min.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "cli_common.hpp"
#include "deploy/fleet.hpp"
#include "deploy/hosts_file.hpp"
#include "deploy/job_document.hpp"
#include "deploy/setup.hpp"
#include "deploy/summary.hpp"
#include "http/client.hpp"
#include "metainfo/torrent_creator.hpp"
#include "session/session.hpp"
#include "tracker/tracker_server.hpp"
#include "tracker/tracker_service.hpp"
#include "transfer.hpp"

namespace starling::cli {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using Json = nlohmann::ordered_json;
using deploy::HostPhase;

struct DeployArgs {
  std::string path;
  std::string hosts;
  std::string secret_file;
  std::string dest = "deploy";
  std::int64_t seed_after = 60;
  std::string on_done;
  std::string job_id;
  std::vector<std::string>
      trackers;  // external tracker URLs (replicas, one tier); none = run one here
  std::string tracker_listen = "0.0.0.0:0";
  std::string origin_address;  // how agents reach us; empty = the route to the first agent
  std::string peer_listen = "0.0.0.0:0";
  std::string max_up;
  int upload_slots = 8;
  bool no_super_seed = false;
  int rack_min_peers = static_cast<int>(tracker::LocalitySettings{}.min_peers);
  std::string piece_length;
  double timeout = 3600;
  double unreachable_after = 15;
  std::string origin_up;  // declared capacities for T_min
  std::string host_down;
  std::string host_up;
  bool json = false;
  bool quiet = false;
  bool verbose = false;
};

void print_json(const Json& j) {
  fmt::print("{}\n", j.dump(-1, ' ', false, Json::error_handler_t::replace));
  std::fflush(stdout);
}

std::string read_text(const fs::path& file, bool& ok) {
  std::ifstream in(file, std::ios::binary);
  ok = static_cast<bool>(in);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The address this machine uses to reach `peer` (no packet is sent: connect() on a UDP socket
// only picks the route).
std::optional<asio::ip::address> route_to(asio::io_context& io, const asio::ip::address& peer) {
  asio::ip::udp::socket socket(io);
  boost::system::error_code ec;
  socket.open(peer.is_v6() ? asio::ip::udp::v6() : asio::ip::udp::v4(), ec);
  if (!ec) socket.connect(asio::ip::udp::endpoint(peer, 9), ec);
  if (ec) return std::nullopt;
  const auto local = socket.local_endpoint(ec);
  if (ec) return std::nullopt;
  return local.address();
}

std::string bracket(const asio::ip::address& a) {
  return a.is_v6() ? "[" + a.to_string() + "]" : a.to_string();
}

// The in-process tracker: its own thread, stopped and joined on destruction.
class LocalTracker {
 public:
  LocalTracker() : service_(settings(), tracker::ConnectionIds::with_random_key(), 1) {}
  ~LocalTracker() {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
  }
  LocalTracker(const LocalTracker&) = delete;
  LocalTracker& operator=(const LocalTracker&) = delete;

  // Racks from the hosts file (by address): each host is answered mostly with its rack's peers.
  void set_racks(std::shared_ptr<const tracker::RackMap> racks,
                 tracker::LocalitySettings locality) {
    service_.store().set_racks(std::move(racks), locality);
  }

  Expected<std::uint16_t> start(const asio::ip::tcp::endpoint& endpoint) {
    tracker::ServerOptions options;
    options.http = endpoint;
    options.threads = 1;
    options.sweep_every = tracker::Seconds(10);
    server_ = std::make_unique<tracker::TrackerServer>(service_, options);
    if (auto bound = server_->bind(); !bound) return bound.error();
    const std::uint16_t port = server_->http_endpoint()->port();
    thread_ = std::thread([this] { server_->run(); });
    return port;
  }

 private:
  // A deploy's swarm is short-lived and everybody joins at once: announce often, so hosts that
  // joined early learn of the later ones (they also meet through incoming connections).
  static tracker::TrackerSettings settings() {
    tracker::TrackerSettings s;
    s.interval = 15;
    s.min_interval = 5;
    s.store.default_numwant = 200;
    s.store.peer_timeout = tracker::Seconds(60);
    return s;
  }
  tracker::TrackerService service_;
  std::unique_ptr<tracker::TrackerServer> server_;
  std::thread thread_;
};

class DeployRun {
 public:
  DeployRun(const DeployArgs& args, session::Session& origin, session::Torrent& torrent,
            deploy::Fleet& fleet, std::vector<std::optional<http::Endpoint>> endpoints,
            std::string job_id, std::string document)
      : args_(args),
        origin_(origin),
        torrent_(torrent),
        fleet_(fleet),
        endpoints_(std::move(endpoints)),
        job_id_(std::move(job_id)),
        document_(std::move(document)),
        poll_timer_(origin.io()),
        show_timer_(origin.io()),
        limit_timer_(origin.io()),
        signals_(origin.io(), SIGINT, SIGTERM),
        inflight_(endpoints_.size(), false),
        last_phase_(endpoints_.size(), HostPhase::submitting),
        peak_down_(endpoints_.size(), 0),
        peak_up_(endpoints_.size(), 0),
        table_(!args.json && !args.quiet && stderr_is_terminal()) {}

  void run() {
    started_ = Clock::now();
    for (std::size_t i = 0; i < endpoints_.size(); ++i) {
      if (!endpoints_[i]) continue;
      http::Request request(http::Verb::post, "/v1/jobs", 11);
      request.set(boost::beast::http::field::content_type, "application/json");
      request.body() = document_;
      request.prepare_payload();
      http::fetch(origin_.io(), *endpoints_[i], std::move(request),
                  [this, i](Expected<http::Response> response) {
                    if (response) {
                      fleet_.submitted(i, static_cast<int>(response->result_int()),
                                       response->body(), elapsed());
                    } else {
                      fleet_.submit_failed(i, response.error().message(), elapsed());
                    }
                    after_change();
                  });
    }
    signals_.async_wait([this](const boost::system::error_code& ec, int) {
      if (!ec) stop("interrupted");
    });
    if (args_.timeout > 0) {
      limit_timer_.expires_after(std::chrono::duration_cast<Clock::duration>(
          std::chrono::duration<double>(args_.timeout)));
      limit_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) stop(fmt::format("not finished after {} s", args_.timeout));
      });
    }
    schedule_poll();
    schedule_show();
    after_change();
    origin_.io().run();
  }

  double elapsed() const { return std::chrono::duration<double>(Clock::now() - started_).count(); }
  const std::string& stopped_because() const { return stop_reason_; }
  double peak_origin_up() const { return peak_origin_up_; }
  const std::vector<double>& peak_down() const { return peak_down_; }
  const std::vector<double>& peak_up() const { return peak_up_; }
  double finished_at() const { return finished_at_; }

 private:
  void schedule_poll() {
    poll_timer_.expires_after(std::chrono::milliseconds(250));
    poll_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec || done_) return;
      poll();
      schedule_poll();
    });
  }

  static http::FetchOptions poll_options() {
    http::FetchOptions options;
    options.timeout = std::chrono::milliseconds(3000);
    return options;
  }

  void poll() {
    peak_origin_up_ = std::max(peak_origin_up_, torrent_.status().up_rate);
    for (std::size_t i = 0; i < endpoints_.size(); ++i) {
      if (!fleet_.needs_poll(i) || inflight_[i]) continue;
      inflight_[i] = true;
      http::Request request(http::Verb::get, "/v1/jobs/" + job_id_, 11);
      http::fetch(
          origin_.io(), *endpoints_[i], std::move(request),
          [this, i](Expected<http::Response> response) {
            inflight_[i] = false;
            if (done_) return;
            if (response) {
              fleet_.polled(i, static_cast<int>(response->result_int()), response->body(),
                            elapsed());
            } else {
              fleet_.poll_failed(i, response.error().message(), elapsed());
            }
            const auto& last = fleet_.hosts()[i].last;
            peak_down_[i] = std::max(peak_down_[i], last.progress.down_rate);
            peak_up_[i] = std::max(peak_up_[i], last.progress.up_rate);
            after_change();
          },
          poll_options());
    }
  }

  // Reports hosts whose phase changed and ends the run once every host is settled.
  void after_change() {
    if (done_) return;
    const auto& hosts = fleet_.hosts();
    for (std::size_t i = 0; i < hosts.size(); ++i) {
      if (hosts[i].phase == last_phase_[i]) continue;
      last_phase_[i] = hosts[i].phase;
      if (args_.json) {
        Json event{{"event", "host"},
                   {"host", hosts[i].entry.address()},
                   {"state", deploy::to_string(hosts[i].phase)},
                   {"t", elapsed()}};
        if (hosts[i].phase == HostPhase::delivered) event["seconds"] = hosts[i].seconds;
        if (!hosts[i].reason.empty()) event["reason"] = hosts[i].reason;
        print_json(event);
      } else if (args_.verbose && !table_) {
        fmt::print(stderr, "{} {}{}\n", hosts[i].entry.address(), deploy::to_string(hosts[i].phase),
                   hosts[i].reason.empty() ? "" : ": " + hosts[i].reason);
      }
    }
    if (fleet_.finished()) stop("");
  }

  void schedule_show() {
    show_timer_.expires_after(std::chrono::milliseconds(args_.json ? 1000 : 500));
    show_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec || done_) return;
      show();
      schedule_show();
    });
  }

  void show() {
    const auto& hosts = fleet_.hosts();
    if (args_.json) {
      std::array<int, 5> counts{};
      std::int64_t done_bytes = 0;
      for (const auto& h : hosts) {
        ++counts[static_cast<std::size_t>(h.phase)];
        done_bytes +=
            h.phase == HostPhase::delivered ? h.last.progress.total : h.last.progress.done;
      }
      const auto s = torrent_.status();
      print_json({{"event", "progress"},
                  {"t", elapsed()},
                  {"verified", counts[static_cast<std::size_t>(HostPhase::delivered)]},
                  {"running", counts[static_cast<std::size_t>(HostPhase::running)] +
                                  counts[static_cast<std::size_t>(HostPhase::submitting)]},
                  {"failed", counts[static_cast<std::size_t>(HostPhase::failed)] +
                                 counts[static_cast<std::size_t>(HostPhase::down)]},
                  {"done_bytes", done_bytes},
                  {"origin_uploaded", s.uploaded},
                  {"origin_up_rate", static_cast<std::int64_t>(s.up_rate)}});
      return;
    }
    if (!table_) return;
    // Redraw in place: the cursor goes back up over the previous table. Large fleets show the
    // counts and the hosts furthest behind.
    std::vector<std::size_t> order(hosts.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    constexpr std::size_t kRows = 24;
    if (hosts.size() > kRows) {
      std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return hosts[a].last.progress.done < hosts[b].last.progress.done;
      });
      order.resize(kRows);
    }
    std::string out;
    if (drawn_lines_ > 0) out += fmt::format("\x1b[{}A", drawn_lines_);
    int lines = 0;
    int verified = 0;
    for (const auto& h : hosts) verified += h.phase == HostPhase::delivered ? 1 : 0;
    out += fmt::format("\r{:<28} {:<10} {:<10} {:>6} {:>11} {:>5}\x1b[K\n", "host", "rack", "state",
                       "done", "rate", "peers");
    ++lines;
    for (const std::size_t i : order) {
      const auto& h = hosts[i];
      const auto& p = h.last.progress;
      const double percent =
          h.phase == HostPhase::delivered
              ? 100.0
              : (p.total > 0 ? 100.0 * static_cast<double>(p.done) / static_cast<double>(p.total)
                             : 0.0);
      const std::string state = h.phase == HostPhase::running && h.have_status
                                    ? std::string(deploy::to_string(h.last.state))
                                    : std::string(deploy::to_string(h.phase));
      out += fmt::format("{:<28} {:<10} {:<10} {:>5.1f}% {:>9}/s {:>5}\x1b[K\n",
                         h.entry.address().substr(0, 28), h.entry.rack.substr(0, 10), state,
                         percent, human_size(static_cast<std::int64_t>(p.down_rate)), p.peers);
      ++lines;
    }
    const auto s = torrent_.status();
    out += fmt::format("{}/{} verified  {:.1f} s  origin up {}/s, sent {}\x1b[K\n", verified,
                       hosts.size(), elapsed(), human_size(static_cast<std::int64_t>(s.up_rate)),
                       human_size(s.uploaded));
    ++lines;
    drawn_lines_ = lines;
    fmt::print(stderr, "{}", out);
    std::fflush(stderr);
  }

  void stop(const std::string& why) {
    if (done_) return;
    done_ = true;
    finished_at_ = elapsed();
    stop_reason_ = why;
    if (table_) show();
    poll_timer_.cancel();
    show_timer_.cancel();
    limit_timer_.cancel();
    signals_.cancel();
    origin_.stop();
    torrent_.announce_stopped([this] { origin_.io().stop(); });
  }

  const DeployArgs& args_;
  session::Session& origin_;
  session::Torrent& torrent_;
  deploy::Fleet& fleet_;
  std::vector<std::optional<http::Endpoint>> endpoints_;
  std::string job_id_;
  std::string document_;
  asio::steady_timer poll_timer_;
  asio::steady_timer show_timer_;
  asio::steady_timer limit_timer_;
  asio::signal_set signals_;
  std::vector<bool> inflight_;
  std::vector<HostPhase> last_phase_;
  std::vector<double> peak_down_;
  std::vector<double> peak_up_;
  double peak_origin_up_ = 0;
  bool table_;
  int drawn_lines_ = 0;
  bool done_ = false;
  double finished_at_ = 0;
  std::string stop_reason_;
  Clock::time_point started_;
};

std::optional<double> rate_arg(const std::string& text) {
  if (text.empty()) return std::nullopt;
  return deploy::parse_link_rate(text);
}

int run_deploy(const DeployArgs& args) {
  bool readable = false;
  const std::string hosts_text = read_text(args.hosts, readable);
  if (!readable) return report("deploy", args.hosts, "cannot read the hosts file", kBadInput);
  auto hosts = deploy::parse_hosts(hosts_text);
  if (!hosts) return report("deploy", args.hosts, hosts.error(), kBadInput);
  auto secret = deploy::read_secret_file(args.secret_file);
  if (!secret) return report("deploy", args.secret_file, secret.error(), kBadInput);
  std::error_code fs_error;
  if (!fs::exists(args.path, fs_error)) {
    return report("deploy", args.path, "no such file or directory", kBadInput);
  }
  for (const auto* rate : {&args.origin_up, &args.host_down, &args.host_up}) {
    if (!rate->empty() && !deploy::parse_link_rate(*rate)) {
      return report("deploy", *rate, "not a rate (e.g. 100mbit, 1gbit, 12m)", kBadInput);
    }
  }
  std::int64_t piece_length = 0;
  if (!args.piece_length.empty()) {
    auto parsed = parse_size(args.piece_length);
    if (!parsed || *parsed < 16384 || (*parsed & (*parsed - 1)) != 0) {
      return report("deploy", "--piece-length " + args.piece_length,
                    "must be a power of two of at least 16k", kBadInput);
    }
    piece_length = *parsed;
  }

  session::SessionSettings settings;
  deploy::tune_for_datacenter(settings, args.upload_slots);
  settings.max_upload_rate = args.max_up.empty() ? 0 : parse_size(args.max_up).value_or(0);
  session::Session origin(settings);
  if (args.verbose) {
    origin.logger = [](const std::string& line) { fmt::print(stderr, "{}\n", line); };
  }

  // Every agent's API address, resolved once up front; a name that does not resolve is a host
  // that is down, not a reason to stop the others.
  std::vector<std::optional<http::Endpoint>> endpoints;
  std::vector<std::string> resolve_errors;
  asio::ip::tcp::resolver resolver(origin.io());
  for (const auto& h : *hosts) {
    boost::system::error_code ec;
    auto results = resolver.resolve(h.host, std::to_string(h.port), ec);
    if (ec || results.empty()) {
      endpoints.emplace_back();
      resolve_errors.push_back("cannot resolve " + h.host + ": " + ec.message());
    } else {
      endpoints.emplace_back(results.begin()->endpoint());
      resolve_errors.emplace_back();
    }
  }

  asio::ip::address origin_address;
  if (!args.origin_address.empty()) {
    boost::system::error_code ec;
    origin_address = asio::ip::make_address(args.origin_address, ec);
    if (ec) return report("deploy", "--origin-address", "not a numeric address", kBadInput);
  } else {
    origin_address = asio::ip::make_address("127.0.0.1");
    for (const auto& e : endpoints) {
      if (!e) continue;
      if (auto local = route_to(origin.io(), e->address())) origin_address = *local;
      break;
    }
  }

  auto peer_listen = split_host_port(args.peer_listen);
  if (!peer_listen) return report("deploy", "--peer-listen", "expected HOST:PORT", kBadInput);
  auto peer_port = origin.listen(peer_listen->first, peer_listen->second, false);
  if (!peer_port)
    return report("deploy", "--peer-listen " + args.peer_listen, peer_port.error(), kFailed);

  std::unique_ptr<LocalTracker> local_tracker;
  std::vector<std::string> tracker_urls = args.trackers;
  if (tracker_urls.empty()) {
    auto listen = split_host_port(args.tracker_listen);
    boost::system::error_code ec;
    const auto address = listen ? asio::ip::make_address(listen->first, ec) : asio::ip::address();
    if (!listen || ec) {
      return report("deploy", "--tracker-listen", "expected a numeric HOST:PORT", kBadInput);
    }
    local_tracker = std::make_unique<LocalTracker>();
    auto racks = std::make_shared<tracker::RackMap>();
    for (std::size_t i = 0; i < hosts->size(); ++i) {
      if ((*hosts)[i].rack.empty() || !endpoints[i]) continue;
      if (auto ip = tracker::IpAddress::parse(endpoints[i]->address().to_string())) {
        racks->assign(*ip, (*hosts)[i].rack);
      }
    }
    tracker::LocalitySettings locality;
    locality.min_peers = static_cast<std::size_t>(args.rack_min_peers);
    if (!racks->empty()) local_tracker->set_racks(std::move(racks), locality);
    auto port = local_tracker->start(asio::ip::tcp::endpoint(address, listen->second));
    if (!port)
      return report("deploy", "--tracker-listen " + args.tracker_listen, port.error(), kFailed);
    tracker_urls = {fmt::format("http://{}:{}/announce", bracket(origin_address), *port)};
  }

  CreateOptions create;
  create.source = args.path;
  create.trackers = tracker_urls;
  create.trackers_one_tier = true;  // replicas of one tracker: clients spread and fail over
  create.piece_length = piece_length;
  // Private (BEP 27): peers come from our tracker only (no DHT, no PEX), so the fleet stays
  // closed and the tracker's rack-aware lists are what shape the swarm.
  create.is_private = true;
  create.created_by = "starling deploy " STARLING_VERSION;
  const auto hash_started = Clock::now();
  auto created = create_torrent(create);
  if (!created) return report("deploy", args.path, created.error(), kFailed);
  const double hash_seconds = std::chrono::duration<double>(Clock::now() - hash_started).count();
  auto info = parse_torrent(created->bytes);
  if (!info) return report("deploy", args.path, info.error(), kFailed);
  auto [layout, directory] = locate_data(*info, args.path);
  info->layout = std::move(layout);
  const std::int64_t size = info->total_size();
  Bitfield all(static_cast<std::size_t>(info->num_pieces()), true);
  // The origin's uplink is the fleet's bottleneck: it sends each piece once before any twice
  // (BEP 16 initial seeding, policy::SuperSeed) and the hosts spread them among themselves.
  session::TorrentOptions origin_options;
  origin_options.super_seed = !args.no_super_seed;
  session::Torrent& torrent = origin.add_torrent(*info, directory, origin_options, all);

  deploy::JobSpec job;
  job.id = args.job_id.empty() ? fmt::format("deploy-{}-{}", created->info_hash.substr(0, 12),
                                             static_cast<std::int64_t>(unix_now()))
                               : args.job_id;
  if (auto s = deploy::check_job_id(job.id); !s)
    return report("deploy", "--job-id", s.error(), kBadInput);
  job.torrent = created->bytes;
  job.dest = args.dest;
  job.seed_after = args.seed_after;
  job.on_done = args.on_done;
  job.peers = {fmt::format("{}:{}", bracket(origin_address), *peer_port)};
  job.issued_at = static_cast<std::int64_t>(unix_now());
  job.nonce = deploy::random_nonce();
  const std::string document = deploy::encode_job(job, *secret);

  const double start_unix = unix_now();
  deploy::Fleet fleet(*hosts, start_unix, deploy::FleetSettings{args.unreachable_after});
  for (std::size_t i = 0; i < endpoints.size(); ++i) {
    if (!endpoints[i]) fleet.submit_failed(i, resolve_errors[i], 0);
  }
  if (args.json) {
    print_json({{"event", "start"},
                {"job", job.id},
                {"hosts", hosts->size()},
                {"bytes", size},
                {"pieces", info->num_pieces()},
                {"info_hash", created->info_hash},
                {"hash_seconds", hash_seconds},
                {"tracker", tracker_urls.front()},
                {"trackers", tracker_urls},
                {"origin", job.peers.front()}});
  } else if (!args.quiet) {
    std::string trackers_text;
    for (const auto& url : tracker_urls) trackers_text += (trackers_text.empty() ? "" : " ") + url;
    fmt::print(stderr, "deploy {}: {} ({}) to {} hosts, tracker {}, origin {}\n", job.id,
               info->name, human_size(size), hosts->size(), trackers_text, job.peers.front());
  }

  DeployRun run(args, origin, torrent, fleet, endpoints, job.id, document);
  run.run();
  const double origin_uploaded = static_cast<double>(torrent.status().uploaded);
  local_tracker.reset();

  // The report.
  const auto summary = fleet.summary();
  deploy::Capacities caps;
  std::string caps_source = "declared";
  const auto declared_origin = rate_arg(args.origin_up);
  const auto declared_down = rate_arg(args.host_down);
  const auto declared_up = rate_arg(args.host_up);
  if (declared_origin || declared_down || declared_up) {
    caps.origin_up = declared_origin.value_or(run.peak_origin_up());
    caps.down.assign(hosts->size(), declared_down.value_or(0));
    caps.up.assign(hosts->size(), declared_up.value_or(declared_down.value_or(0)));
    if (!declared_origin || !declared_down) caps_source = "declared+measured";
    if (!declared_down) caps.down = run.peak_down();
  } else {
    // Peak rates seen are a lower bound on each capacity, so this T_min is an upper bound
    // on the true one (it flatters the ratio); declare the links for a fair one.
    caps_source = "measured peaks";
    caps.origin_up = run.peak_origin_up();
    caps.down = run.peak_down();
    caps.up = run.peak_up();
  }
  const double tmin = deploy::t_min(static_cast<double>(size), caps);
  const double copies = size > 0 ? origin_uploaded / static_cast<double>(size) : 0;
  const bool all_verified = summary.delivered == summary.hosts;
  std::map<std::string, std::string> rack_by_address;
  for (std::size_t i = 0; i < hosts->size(); ++i) {
    if (endpoints[i]) rack_by_address[endpoints[i]->address().to_string()] = (*hosts)[i].rack;
  }
  const auto traffic =
      deploy::split_traffic(fleet.hosts(), rack_by_address, origin_address.to_string());

  if (args.json) {
    Json per_host = Json::array();
    for (const auto& h : fleet.hosts()) {
      Json entry{{"host", h.entry.address()},
                 {"rack", h.entry.rack},
                 {"state", deploy::to_string(h.phase)}};
      if (h.phase == HostPhase::delivered) entry["seconds"] = h.seconds;
      // When the agent started downloading, from the deploy's start (its own clock).
      if (h.last.started_at > 0) entry["started"] = h.last.started_at - start_unix;
      if (!h.reason.empty()) entry["reason"] = h.reason;
      entry["downloaded"] = h.last.progress.downloaded;
      entry["uploaded"] = h.last.progress.uploaded;
      per_host.push_back(std::move(entry));
    }
    Json out{{"event", "summary"},
             {"job", job.id},
             {"hosts", summary.hosts},
             {"verified", summary.delivered},
             {"bytes", size},
             {"p50", summary.p50},
             {"p99", summary.p99},
             {"max", summary.max},
             {"wall_seconds", run.finished_at()},
             {"origin_uploaded", origin_uploaded},
             {"origin_copies", copies},
             {"t_min", tmin},
             {"t_min_capacities", caps_source},
             {"max_over_t_min", tmin > 0 ? summary.max / tmin : 0},
             {"bytes_from_origin", traffic.from_origin},
             {"bytes_same_rack", traffic.same_rack},
             {"bytes_cross_rack", traffic.cross_rack},
             {"per_host", per_host}};
    if (!run.stopped_because().empty()) out["stopped"] = run.stopped_because();
    print_json(out);
  } else if (!args.quiet) {
    fmt::print("deploy {}: {}/{} hosts verified {} ({})\n", job.id, summary.delivered,
               summary.hosts, info->name, human_size(size));
    for (const auto& h : fleet.hosts()) {
      if (h.phase == HostPhase::delivered) {
        fmt::print("  {:<28} {:<10} verified {:8.2f} s\n", h.entry.address(), h.entry.rack,
                   h.seconds);
      } else {
        fmt::print("  {:<28} {:<10} {:<8} {}\n", h.entry.address(), h.entry.rack,
                   deploy::to_string(h.phase), h.reason);
      }
    }
    fmt::print("completion: p50 {:.2f} s  p99 {:.2f} s  max {:.2f} s\n", summary.p50, summary.p99,
               summary.max);
    fmt::print("origin sent {:.2f} copies ({})\n", copies,
               human_size(static_cast<std::int64_t>(origin_uploaded)));
    const std::int64_t peer_bytes = traffic.same_rack + traffic.cross_rack;
    if (peer_bytes > 0) {
      fmt::print("between hosts: {} within racks, {} across racks ({:.0f}%)\n",
                 human_size(traffic.same_rack), human_size(traffic.cross_rack),
                 100.0 * static_cast<double>(traffic.cross_rack) / static_cast<double>(peer_bytes));
    }
    if (tmin > 0) {
      fmt::print("T_min {:.2f} s ({}): max / T_min = {:.2f}\n", tmin, caps_source,
                 summary.max / tmin);
    }
    if (!run.stopped_because().empty()) fmt::print("stopped: {}\n", run.stopped_because());
  }
  if (!all_verified && !args.json) {
    fmt::print(stderr, "starling deploy: {} of {} hosts did not verify the artifact\n",
               summary.hosts - summary.delivered, summary.hosts);
  }
  return all_verified ? kSuccess : kFailed;
}

}  // namespace

Runner add_deploy_command(CLI::App& app) {
  auto args = std::make_shared<DeployArgs>();
  auto* cmd = app.add_subcommand(
      "deploy", "Push a file or directory to every agent in a hosts file over BitTorrent");
  cmd->add_option("PATH", args->path, "The artifact: a file or a directory")->required();
  cmd->add_option("--hosts", args->hosts, "Agents, one `HOST:PORT [RACK]` per line; # comments")
      ->required();
  cmd->add_option("--secret-file", args->secret_file, "The secret the agents share")->required();
  cmd->add_option("--dest", args->dest, "Directory below each agent's --root")
      ->default_str("deploy");
  cmd->add_option("--seed-after", args->seed_after,
                  "Agents keep seeding SECONDS after verifying (for slower peers)")
      ->check(CLI::Range(0, 30 * 24 * 3600))
      ->default_str("60");
  cmd->add_option("--on-done", args->on_done,
                  "Shell command each agent runs in the destination after verifying; its "
                  "failure fails the host");
  cmd->add_option("--job-id", args->job_id, "Name of the job (default deploy-HASH-TIME)");
  cmd->add_option("--tracker", args->trackers,
                  "Use this tracker announce URL instead of running one here; repeat for "
                  "replicas (e.g. `tracker --store redis://`), which go into one tier");
  cmd->add_option("--tracker-listen", args->tracker_listen,
                  "Where the built-in tracker listens, HOST:PORT (port 0 = any)")
      ->default_str("0.0.0.0:0");
  cmd->add_option("--origin-address", args->origin_address,
                  "The address agents reach this machine at (default: the route to the first)");
  cmd->add_option("--peer-listen", args->peer_listen,
                  "The origin seed's BitTorrent port, HOST:PORT (port 0 = any)")
      ->default_str("0.0.0.0:0");
  cmd->add_option("--max-up", args->max_up, "The origin uploads at most RATE bytes/s");
  cmd->add_option("--rack-min-peers", args->rack_min_peers,
                  "Peers per tracker reply at least, other racks filling in for a small rack "
                  "(0: rack peers and a few others only, least cross-rack traffic, slower)")
      ->check(CLI::Range(0, 1000))
      ->capture_default_str();
  cmd->add_flag("--no-super-seed", args->no_super_seed,
                "Let the origin offer every piece to every host at once (by default it hands "
                "out pieces a few at a time, BEP 16, so it sends each piece once)");
  cmd->add_option("--upload-slots", args->upload_slots, "Peers the origin uploads to at once")
      ->check(CLI::Range(1, 1000))
      ->default_str("8");
  cmd->add_option("--piece-length", args->piece_length, "Piece size (default: from the size)");
  cmd->add_option("--timeout", args->timeout, "Give up after SECONDS (0 = never)")
      ->default_str("3600");
  cmd->add_option("--unreachable-after", args->unreachable_after,
                  "A host whose agent does not answer for SECONDS is failed")
      ->default_str("15");
  cmd->add_option("--origin-up", args->origin_up,
                  "Declared origin upload capacity for T_min (e.g. 100mbit, 1gbit, 12m)");
  cmd->add_option("--host-down", args->host_down, "Declared per-host download capacity for T_min");
  cmd->add_option("--host-up", args->host_up,
                  "Declared per-host upload capacity for T_min (default: --host-down)");
  cmd->add_flag("--json", args->json, "One JSON event per line on stdout (no table)");
  cmd->add_flag("-q,--quiet", args->quiet, "Only the exit code and errors");
  cmd->add_flag("-v,--verbose", args->verbose, "Log host changes and peer events on stderr");
  return [cmd, args] { return cmd->parsed() ? run_deploy(*args) : -1; };
}

}  // namespace starling::cli
