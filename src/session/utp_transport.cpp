#include "session/utp_transport.hpp"

#include <algorithm>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <optional>

#include "net/path_mtu.hpp"

namespace starling::session {

namespace asio = boost::asio;
using udp = asio::ip::udp;
using Clock = std::chrono::steady_clock;

struct UtpTransport::Link {
  UtpTransport* transport = nullptr;  // null once the transport is gone
  udp::endpoint peer;
  utp::Ledbat cc;
  std::optional<utp::Connection> conn;
  bool touched = false;

  // The stream's side; false once its owner closed it (the connection may still be closing).
  bool attached = false;
  PeerStream::ConnectHandler on_connect;
  utp::TimePoint connect_deadline{};
  // Set when an ICMP error failed the handshake: what on_connect is told.
  boost::system::error_code unreachable;
  std::span<char> read_into;
  PeerStream::IoHandler on_read;
  std::span<const char> write_from;
  std::size_t written = 0;
  PeerStream::IoHandler on_write;

  explicit Link(const UtpSettings& settings) : cc(settings.ledbat) {
    cc.set_max_window(std::min(settings.ledbat.max_window_bytes, settings.unknown_peer_max_window));
  }
  bool over() const {
    const auto state = conn->state();
    return state == utp::ConnectionState::closed || state == utp::ConnectionState::error;
  }
};

namespace {

udp::endpoint unmapped(const udp::endpoint& endpoint) {
  const auto address = endpoint.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return {asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()), endpoint.port()};
  }
  return endpoint;
}

boost::system::error_code failure_of(const utp::Connection& conn) {
  if (conn.state() == utp::ConnectionState::closed) return asio::error::broken_pipe;
  const auto& error = conn.error();
  if (error && error->code == utp::make_error_code(utp::Errc::timed_out)) {
    return asio::error::timed_out;
  }
  return asio::error::connection_reset;
}

std::span<const std::uint8_t> as_bytes_u8(std::span<const std::byte> bytes) {
  return {reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()};
}

}  // namespace

// The PeerStream a PeerConnection holds. Its operations only record what is wanted and ask the
// transport for service; completions run from the transport's service, never inside the call
// that started them.
class UtpStream final : public PeerStream {
 public:
  UtpStream(asio::io_context& io, std::shared_ptr<UtpTransport::Link> link, UtpTransport* owner)
      : io_(io), link_(std::move(link)), owner_(owner) {}
  ~UtpStream() override { close(); }

  void async_connect(const tcp::endpoint& peer, ConnectHandler handler) override {
    if (owner_ == nullptr) return post(std::move(handler), asio::error::shut_down);
    link_ = owner_->open_outgoing(udp::endpoint(peer.address(), peer.port()));
    if (!link_) return post(std::move(handler), asio::error::no_buffer_space);
    link_->on_connect = std::move(handler);
    link_->connect_deadline = Clock::now() + owner_->settings_.connect_timeout;
    owner_->touch(link_);
  }

  void async_read_some(std::span<char> into, IoHandler handler) override {
    if (!usable()) return post(std::move(handler), asio::error::operation_aborted);
    link_->read_into = into;
    link_->on_read = std::move(handler);
    link_->transport->touch(link_);
  }

  void async_write(std::span<const char> data, IoHandler handler) override {
    if (!usable()) return post(std::move(handler), asio::error::operation_aborted);
    link_->write_from = data;
    link_->written = 0;
    link_->on_write = std::move(handler);
    link_->transport->touch(link_);
  }

  tcp::endpoint remote_endpoint() const override {
    if (!link_) return {};
    return {link_->peer.address(), link_->peer.port()};
  }

  void close() override {
    if (!usable()) return;
    UtpTransport::Link& link = *link_;
    link.attached = false;
    if (link.on_connect) post(std::exchange(link.on_connect, {}), asio::error::operation_aborted);
    if (link.on_read) post(std::exchange(link.on_read, {}), asio::error::operation_aborted);
    if (link.on_write) post(std::exchange(link.on_write, {}), asio::error::operation_aborted);
    if (!link.over()) link.conn->close();
    link.transport->touch(link_);
  }

  std::string_view transport() const override { return "utp"; }

  void peer_reads_large_datagrams() override {
    if (!usable()) return;
    link_->conn->set_max_packet_size(net::udp_payload_ceiling(link_->peer.address()));
    link_->cc.set_max_window(owner_->settings_.ledbat.max_window_bytes);
  }

 private:
  bool usable() const { return link_ && link_->transport != nullptr && link_->attached; }
  void post(ConnectHandler handler, boost::system::error_code ec) {
    asio::post(io_, [handler = std::move(handler), ec] { handler(ec); });
  }
  void post(IoHandler handler, boost::system::error_code ec) {
    asio::post(io_, [handler = std::move(handler), ec] { handler(ec, 0); });
  }

  asio::io_context& io_;
  std::shared_ptr<UtpTransport::Link> link_;
  UtpTransport* owner_;
};

UtpTransport::UtpTransport(asio::io_context& io, net::UdpSocket& socket, AcceptHandler on_accept,
                           const UtpSettings& settings)
    : io_(io),
      socket_(socket),
      on_accept_(std::move(on_accept)),
      settings_(settings),
      timer_(io),
      packet_(net::kMaxUdpPayload),
      random_(std::random_device{}()) {
  socket_.add_receiver(*this);
}

UtpTransport::~UtpTransport() {
  socket_.remove_receiver(*this);
  for (auto& [key, link] : links_) link->transport = nullptr;
  for (auto& link : touched_) link->transport = nullptr;
}

std::unique_ptr<PeerStream> UtpTransport::make_stream() {
  return std::make_unique<UtpStream>(io_, nullptr, this);
}

std::uint16_t UtpTransport::unused_recv_id(const udp::endpoint& peer) {
  for (;;) {
    const auto id = static_cast<std::uint16_t>(random_());
    // Our send id is id + 1; keep both free of the peer's other connections.
    if (!links_.contains({peer, id})) return id;
  }
}

std::shared_ptr<UtpTransport::Link> UtpTransport::open_outgoing(const udp::endpoint& peer) {
  if (links_.size() >= settings_.max_connections) return nullptr;
  const udp::endpoint to = unmapped(peer);
  auto link = std::make_shared<Link>(settings_);
  link->transport = this;
  link->peer = to;
  link->attached = true;
  const std::uint16_t recv_id = unused_recv_id(to);
  link->conn.emplace(utp::Connection::outgoing(
      link->cc, recv_id, static_cast<std::uint16_t>(random_()), settings_.connection));
  link->conn->set_max_packet_size(net::udp_payload_ceiling(to.address(), false));
  link->conn->connect(Clock::now());
  links_.emplace(Key{to, recv_id}, link);
  return link;
}

bool UtpTransport::on_datagram(const net::Datagram& datagram) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(datagram.bytes.data()),
                                         datagram.bytes.size());
  auto packet = utp::parse_packet(bytes);
  if (!packet) return false;  // not uTP: the DHT's or a tracker's
  in_batch_ = true;
  const udp::endpoint from = unmapped(datagram.from);
  const utp::PacketHeader& header = packet->header;
  const auto deliver = [&](const std::shared_ptr<Link>& link) {
    link->conn->handle_packet(Clock::now(), *packet);
    touch(link);
  };
  if (header.type == utp::PacketType::syn) {
    // A SYN we already answered (its STATE was lost) belongs to the connection it made.
    const auto it = links_.find({from, static_cast<std::uint16_t>(header.connection_id + 1)});
    if (it != links_.end()) {
      deliver(it->second);
    } else {
      accept(datagram, *packet);
    }
    return true;
  }
  if (const auto it = links_.find({from, header.connection_id}); it != links_.end()) {
    deliver(it->second);
    return true;
  }
  if (header.type == utp::PacketType::reset) {
    // A RESET may carry our send id instead (utp::encode_reset_reply).
    for (const int delta : {-1, 1}) {
      const auto it = links_.find({from, static_cast<std::uint16_t>(header.connection_id + delta)});
      if (it != links_.end() && it->second->conn->send_id() == header.connection_id) {
        deliver(it->second);
      }
    }
    return true;
  }
  reply_reset(from, header);
  return true;
}

void UtpTransport::on_unreachable(const udp::endpoint& destination, std::error_code why) {
  const udp::endpoint peer = unmapped(destination);
  boost::system::error_code code = asio::error::connection_refused;
  if (why && why != std::errc::connection_refused) {
    code = boost::system::error_code(why.value(), boost::system::system_category());
  }
  // Keys order by peer, then receive id: the peer's connections are one run of the map.
  for (auto it = links_.lower_bound(Key{peer, 0}); it != links_.end() && it->first.first == peer;
       ++it) {
    Link& link = *it->second;
    if (!link.on_connect || link.conn->state() != utp::ConnectionState::syn_sent) continue;
    link.conn->fail_unreachable();
    link.unreachable = code;
    // The handler runs from the service (posted: this is not inside a batch), not from here.
    touch(it->second);
  }
}

void UtpTransport::accept(const net::Datagram& datagram, const utp::PacketView& syn) {
  const udp::endpoint from = unmapped(datagram.from);
  if (links_.size() >= settings_.max_connections || !on_accept_) {
    return reply_reset(from, syn.header);
  }
  auto link = std::make_shared<Link>(settings_);
  link->transport = this;
  link->peer = from;
  auto conn = utp::Connection::incoming(
      Clock::now(), syn, link->cc, static_cast<std::uint16_t>(random_()), settings_.connection);
  if (!conn) return;
  const Key key{from, conn->recv_id()};
  if (links_.contains(key)) return reply_reset(from, syn.header);
  link->conn.emplace(std::move(*conn));
  link->conn->set_max_packet_size(net::udp_payload_ceiling(from.address(), false));
  link->attached = true;
  links_.emplace(key, link);
  touch(link);
  on_accept_(std::make_unique<UtpStream>(io_, link, this));
}

void UtpTransport::reply_reset(const udp::endpoint& to, const utp::PacketHeader& stray) {
  std::array<std::byte, utp::kHeaderSize> reply{};
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch());
  const std::size_t n =
      utp::encode_reset_reply(reply, stray, static_cast<std::uint32_t>(micros.count()));
  socket_.send(to, as_bytes_u8(std::span<const std::byte>(reply.data(), n)));
}

void UtpTransport::touch(const std::shared_ptr<Link>& link) {
  if (!link->touched) {
    link->touched = true;
    touched_.push_back(link);
  }
  if (!in_batch_) post_service();
}

void UtpTransport::post_service() {
  if (service_posted_) return;
  service_posted_ = true;
  asio::post(io_, [this, alive = std::weak_ptr<int>(alive_)] {
    if (alive.expired()) return;
    service_posted_ = false;
    service_touched();
  });
}

void UtpTransport::on_batch_end() {
  in_batch_ = false;
  service_touched();
}

void UtpTransport::service_touched() {
  const auto now = Clock::now();
  // Handlers may touch links again; those are served on the next round.
  // Only serviced links' deadlines can have moved, so only theirs are looked at: the timer
  // already covers every other link (scanning them all here was ~6 % of a swarm's CPU).
  utp::TimePoint earliest = utp::TimePoint::max();
  for (int round = 0; round < 4 && !touched_.empty(); ++round) {
    std::vector<std::shared_ptr<Link>> links;
    links.swap(touched_);
    for (auto& link : links) {
      link->touched = false;
      service(link, now);
      earliest = std::min(earliest, deadline_of(*link));
    }
  }
  if (!touched_.empty()) post_service();
  arm_timer(earliest);
}

void UtpTransport::service(const std::shared_ptr<Link>& link_ptr, utp::TimePoint now) {
  Link& link = *link_ptr;
  if (link.transport == nullptr) return;
  utp::Connection& conn = *link.conn;
  // A few rounds: a completion handler usually starts the next operation at once.
  for (int round = 0; round < 4; ++round) {
    bool progress = false;
    if (link.on_connect) {
      const auto state = conn.state();
      if (state == utp::ConnectionState::connected) {
        std::exchange(link.on_connect, {})({});
        progress = true;
      } else if (link.over()) {
        std::exchange(link.on_connect,
                      {})(link.unreachable ? link.unreachable : asio::error::connection_refused);
        progress = true;
      } else if (now >= link.connect_deadline) {
        conn.abort();
        std::exchange(link.on_connect, {})(asio::error::timed_out);
        progress = true;
      }
    }
    if (link.on_write && !link.on_connect) {
      if (link.over()) {
        std::exchange(link.on_write, {})(failure_of(conn), link.written);
        progress = true;
      } else {
        link.written += conn.write(std::as_bytes(link.write_from.subspan(link.written)));
        if (link.written == link.write_from.size()) {
          std::exchange(link.on_write, {})({}, link.written);
          progress = true;
        }
      }
    }
    if (link.on_read && !link.on_connect) {
      if (conn.readable() > 0) {
        const std::size_t n = conn.read(std::as_writable_bytes(link.read_into));
        std::exchange(link.on_read, {})({}, n);
        progress = true;
      } else if (conn.eof()) {
        std::exchange(link.on_read, {})(asio::error::eof, 0);
        progress = true;
      } else if (link.over()) {
        std::exchange(link.on_read, {})(failure_of(conn), 0);
        progress = true;
      }
    }
    if (!progress) break;
  }
  transmit(link, now);
  if (!link.attached && link.over()) {
    links_.erase(Key{link.peer, conn.recv_id()});
  }
}

void UtpTransport::transmit(Link& link, utp::TimePoint now) {
  for (;;) {
    if (!socket_.has_room(packet_.size())) {
      socket_.flush();
      // The kernel's buffer is full too: ACKs (or the timer) bring us back here.
      if (!socket_.has_room(packet_.size())) return;
    }
    const auto n = link.conn->poll_transmit(now, packet_);
    if (!n) return;
    socket_.send(link.peer, as_bytes_u8(std::span<const std::byte>(packet_.data(), *n)));
  }
}

utp::TimePoint UtpTransport::deadline_of(const Link& link) {
  utp::TimePoint earliest = utp::TimePoint::max();
  if (const auto deadline = link.conn->next_deadline()) earliest = *deadline;
  if (link.on_connect) earliest = std::min(earliest, link.connect_deadline);
  return earliest;
}

void UtpTransport::arm_timer() {
  utp::TimePoint earliest = utp::TimePoint::max();
  for (const auto& [key, link] : links_) earliest = std::min(earliest, deadline_of(*link));
  arm_timer(earliest);
}

void UtpTransport::arm_timer(utp::TimePoint earliest) {
  // Re-arming costs a system call, and deadlines mostly move later (each ACK pushes the
  // retransmission timer forward): a timer already due earlier stays, fires early, finds
  // nothing due and re-arms once. Only an earlier deadline re-arms at once.
  if (earliest >= timer_at_) return;
  timer_at_ = earliest;
  timer_.expires_at(earliest);
  timer_.async_wait([this, alive = std::weak_ptr<int>(alive_)](boost::system::error_code ec) {
    if (ec || alive.expired()) return;
    timer_at_ = utp::TimePoint::max();
    on_timer();
  });
}

void UtpTransport::on_timer() {
  const auto now = Clock::now();
  std::vector<std::shared_ptr<Link>> due;
  for (const auto& [key, link] : links_) {
    const auto deadline = link->conn->next_deadline();
    if ((deadline && *deadline <= now) || (link->on_connect && link->connect_deadline <= now)) {
      due.push_back(link);
    }
  }
  for (auto& link : due) {
    if (const auto deadline = link->conn->next_deadline(); deadline && *deadline <= now) {
      link->conn->handle_timeout(now);
    }
    service(link, now);
  }
  arm_timer();
}

}  // namespace starling::session
