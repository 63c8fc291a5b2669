// UDP tracker requests (BEP 15): connect, then announce or scrape, each request sent again after
// udp_retry (doubling) until its reply comes or the overall deadline passes. One socket per
// exchange, connected to the tracker so only its datagrams arrive.
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <random>

#include "tracker/announcer.hpp"
#include "tracker/timed_exchange.hpp"
#include "tracker/udp_codec.hpp"

namespace starling::tracker {
namespace {

namespace ip = boost::asio::ip;

std::uint32_t key_from(std::string_view key) {
  std::uint32_t value = 0;
  for (char c : key.substr(0, 8)) {
    const int digit = c >= '0' && c <= '9'   ? c - '0'
                      : c >= 'a' && c <= 'f' ? c - 'a' + 10
                      : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                             : 0;
    value = value * 16 + static_cast<std::uint32_t>(digit);
  }
  return value;
}

// The handler gets the tracker's answer to the request: an announce, scrape or error response.
class UdpExchange : public TimedExchange<UdpExchange, udp::Response> {
 public:
  // Appends the request that follows the connect exchange (announce or scrape).
  using Encoder = std::function<void(std::string& out, std::uint64_t connection_id,
                                     std::uint32_t transaction_id)>;

  UdpExchange(boost::asio::io_context& io, TrackerUrl url, AnnounceSettings settings,
              Encoder encode_request, Handler handler)
      : TimedExchange(io, std::move(handler)),
        url_(std::move(url)),
        settings_(std::move(settings)),
        encode_request_(std::move(encode_request)),
        resolver_(io),
        socket_(io),
        retry_(io) {}

  void start() {
    start_deadline(settings_.timeout);
    resolver_.async_resolve(url_.host, std::to_string(url_.port),
                            [self = shared_from_this()](boost::system::error_code ec,
                                                        const ip::udp::resolver::results_type& r) {
                              if (self->done()) return;
                              if (ec || r.empty())
                                return self->finish(Error(ec, "looking up " + self->url_.host));
                              self->open(r.begin()->endpoint());
                            });
  }

  void shut() {
    retry_.cancel();
    resolver_.cancel();
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

 private:
  void open(const ip::udp::endpoint& tracker) {
    boost::system::error_code ec;
    socket_.open(tracker.protocol(), ec);
    if (!ec) socket_.connect(tracker, ec);
    if (ec) return finish(Error(ec, ""));
    ipv6_ = tracker.address().is_v6() && !tracker.address().to_v6().is_v4_mapped();
    receive();
    send_connect();
  }

  void send_connect() {
    transaction_ = random_u32();
    packet_.clear();
    udp::encode(packet_, udp::ConnectRequest{transaction_});
    send_with_retries(settings_.udp_retry);
  }

  void send_request() {
    transaction_ = random_u32();
    packet_.clear();
    encode_request_(packet_, connection_id_, transaction_);
    send_with_retries(settings_.udp_retry);
  }

  // Sends packet_ now and again after `wait`, 2 * wait, ... until a reply moves us on.
  void send_with_retries(std::chrono::milliseconds wait) {
    socket_.async_send(boost::asio::buffer(packet_),
                       [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                         if (self->done() || !ec) return;
                         self->finish(Error(ec, "sending"));
                       });
    retry_.expires_after(wait);
    retry_.async_wait(
        [self = shared_from_this(), wait, sent = transaction_](boost::system::error_code ec) {
          if (ec || self->done() || sent != self->transaction_) return;
          self->send_with_retries(wait * 2);
        });
  }

  void receive() {
    socket_.async_receive(boost::asio::buffer(incoming_),
                          [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                            if (self->done()) return;
                            // ICMP "port unreachable" shows up as a refused receive: nobody listens
                            // there.
                            if (ec) return self->finish(Error(ec, ""));
                            self->on_datagram(n);
                          });
  }

  void on_datagram(std::size_t n) {
    auto response = udp::parse_response(std::span<const std::uint8_t>(incoming_.data(), n), ipv6_);
    if (!response) return receive();  // garbage or a stray: keep waiting for the real reply
    if (const auto* c = std::get_if<udp::ConnectResponse>(&*response)) {
      if (c->transaction_id != transaction_ || connected_) return receive();
      connected_ = true;
      connection_id_ = c->connection_id;
      receive();
      return send_request();
    }
    const std::uint32_t id = std::visit([](const auto& r) { return r.transaction_id; }, *response);
    // An error may answer the connect as well as the request; anything else must follow it.
    const bool error = std::holds_alternative<udp::ErrorResponse>(*response);
    if (id != transaction_ || (!connected_ && !error)) return receive();
    finish(std::move(*response));
  }

  std::uint32_t random_u32() {
    static thread_local std::mt19937 rng{std::random_device{}()};
    return static_cast<std::uint32_t>(rng());
  }

  TrackerUrl url_;
  AnnounceSettings settings_;
  Encoder encode_request_;
  ip::udp::resolver resolver_;
  ip::udp::socket socket_;
  boost::asio::steady_timer retry_;
  std::string packet_;
  std::array<std::uint8_t, 2048> incoming_{};
  std::uint32_t transaction_ = 0;
  std::uint64_t connection_id_ = 0;
  bool connected_ = false;
  bool ipv6_ = false;
};

}  // namespace

std::shared_ptr<TrackerOperation> start_udp_announce(boost::asio::io_context& io,
                                                     const TrackerUrl& url,
                                                     const AnnounceRequest& request,
                                                     const AnnounceSettings& settings,
                                                     AnnounceHandler handler) {
  auto encode = [request](std::string& out, std::uint64_t connection_id,
                          std::uint32_t transaction_id) {
    udp::AnnounceRequest a;
    a.connection_id = connection_id;
    a.transaction_id = transaction_id;
    a.info_hash = request.info_hash;
    a.peer_id = request.peer_id;
    a.downloaded = request.downloaded;
    a.left = request.left < 0 ? 0 : request.left;
    a.uploaded = request.uploaded;
    a.event = request.event;
    a.key = key_from(request.key);
    a.num_want = request.numwant;
    a.port = request.port;
    udp::encode(out, a);
  };
  auto op = std::make_shared<UdpExchange>(
      io, url, settings, std::move(encode),
      [handler = std::move(handler)](Expected<udp::Response> response) {
        if (!response) return handler(response.error());
        AnnounceReply reply;
        if (const auto* e = std::get_if<udp::ErrorResponse>(&*response)) {
          reply.failure_reason = e->message;
        } else if (const auto* a = std::get_if<udp::AnnounceResponse>(&*response)) {
          reply.interval = a->interval;
          reply.complete = a->seeders;
          reply.incomplete = a->leechers;
          for (const auto& peer : a->peers) reply.peers.push_back({peer, {}});
        } else {
          return handler(Error(Errc::tracker_bad_packet, "a scrape answered an announce"));
        }
        handler(std::move(reply));
      });
  op->start();
  return op;
}

std::shared_ptr<TrackerOperation> start_udp_scrape(boost::asio::io_context& io,
                                                   const TrackerUrl& url,
                                                   const Sha1Digest& info_hash,
                                                   const AnnounceSettings& settings,
                                                   ScrapeHandler handler) {
  auto encode = [info_hash](std::string& out, std::uint64_t connection_id,
                            std::uint32_t transaction_id) {
    udp::encode(out, udp::ScrapeRequest{connection_id, transaction_id, {info_hash}});
  };
  auto op = std::make_shared<UdpExchange>(
      io, url, settings, std::move(encode),
      [handler = std::move(handler), info_hash](Expected<udp::Response> response) {
        if (!response) return handler(response.error());
        ScrapeReply reply;
        if (const auto* e = std::get_if<udp::ErrorResponse>(&*response)) {
          reply.failure_reason = e->message;
        } else if (const auto* r = std::get_if<udp::ScrapeResponse>(&*response);
                   r && r->entries.size() == 1) {
          ScrapeEntry entry = r->entries.front();
          entry.info_hash = info_hash;  // not on the wire: entries come in the asked order
          reply.files.push_back(entry);
        } else {
          return handler(Error(Errc::tracker_bad_packet, "expected one scrape entry"));
        }
        handler(std::move(reply));
      });
  op->start();
  return op;
}

}  // namespace starling::tracker
