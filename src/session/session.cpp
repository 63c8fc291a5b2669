#include "session/session.hpp"

#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <random>

namespace starling::session {
namespace {

// Azureus-style peer id: client code and version, then random bytes.
constexpr std::string_view kPeerIdPrefix = "-ST0010-";
constexpr std::chrono::seconds kHandshakeTimeout{10};

}  // namespace

Session::Session(SessionSettings settings)
    : settings_(std::move(settings)),
      disk_(std::make_unique<DiskIo>(io_, settings_.disk_io())),
      acceptor_(io_),
      upload_bucket_(settings_.max_upload_rate, std::chrono::steady_clock::now(),
                     settings_.rate_limit_bucket),
      download_bucket_(settings_.max_download_rate, std::chrono::steady_clock::now(),
                       settings_.rate_limit_bucket),
      retire_timer_(io_) {
  std::random_device random;
  std::copy(kPeerIdPrefix.begin(), kPeerIdPrefix.end(), peer_id_.begin());
  for (std::size_t i = kPeerIdPrefix.size(); i < peer_id_.size(); ++i) {
    peer_id_[i] = static_cast<std::uint8_t>("0123456789abcdefghijklmnopqrstuvwxyz"[random() % 36]);
  }
}

Session::~Session() {
  torrents_.clear();
  retired_.clear();
  dht_.reset();
  utp_.reset();
  udp_.reset();
  disk_.reset();
}

Expected<std::uint16_t> Session::listen(const std::string& host, std::uint16_t port,
                                        bool next_free) {
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(host, ec);
  if (ec) return Error(Errc::invalid_argument, "listen address '" + host + "'");
  // Port 0 may give a TCP port whose UDP twin is taken: draw again.
  const int attempts = next_free || port == 0 ? 20 : 1;
  for (int i = 0; i < attempts; ++i) {
    const auto candidate = static_cast<std::uint16_t>(port == 0 ? 0 : port + i);
    ec = bind_both(tcp::endpoint(address, candidate));
    if (ec == boost::asio::error::address_in_use && i + 1 < attempts) continue;
    if (ec) {
      return Error(std::error_code(ec.value(), std::system_category()),
                   "listen on " + host + ":" + std::to_string(candidate));
    }
    if (acceptor_.is_open()) accept();
    return listen_port_;
  }
  return Error(Errc::io_error, "no free port to listen on");
}

boost::system::error_code Session::bind_both(const tcp::endpoint& endpoint) {
  boost::system::error_code ec;
  acceptor_.close(ec);
  dht_.reset();
  utp_.reset();
  udp_.reset();
  std::uint16_t port = endpoint.port();
  if (settings_.enable_tcp) {
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(boost::asio::socket_base::max_listen_connections, ec);
    if (ec) {
      boost::system::error_code ignored;
      acceptor_.close(ignored);
      return ec;
    }
    port = acceptor_.local_endpoint().port();
  }
  if (settings_.enable_utp || settings_.enable_dht) {
    udp_ = std::make_unique<net::UdpSocket>(io_);
    const Status opened = udp_->open(boost::asio::ip::udp::endpoint(endpoint.address(), port));
    if (!opened) {
      udp_.reset();
      acceptor_.close(ec);
      return boost::system::error_code(opened.error().code.value(),
                                       boost::system::system_category());
    }
    port = udp_->local_endpoint().port();
  }
  if (settings_.enable_utp) {
    utp_ = std::make_unique<UtpTransport>(
        io_, *udp_,
        [this](std::unique_ptr<PeerStream> stream) { read_incoming_handshake(std::move(stream)); },
        settings_.utp);
  }
  listen_port_ = port;
  return {};
}

TcpOptions Session::tcp_options() const {
  // Under a download limit data waits in the socket by design: a fixed buffer would let every
  // peer park up to twice its size in the kernel, where autotuning keeps a slow reader's small.
  return TcpOptions{settings_.max_download_rate > 0 ? 0 : settings_.tcp_receive_buffer};
}

std::unique_ptr<PeerStream> Session::make_outgoing_stream(bool utp_failed_before) {
  if (utp_ && !(utp_failed_before && settings_.enable_tcp)) return utp_->make_stream();
  return make_tcp_stream(io_, tcp_options());
}

void Session::accept() {
  acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
    if (ec == boost::asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (!ec) {
      read_incoming_handshake(make_tcp_stream(std::move(socket), tcp_options()));
    }
    accept();
  });
}

void Session::read_incoming_handshake(std::unique_ptr<PeerStream> stream) {
  // Shared by the read and the timeout until the handshake names the torrent that takes it.
  auto held = std::make_shared<std::unique_ptr<PeerStream>>(std::move(stream));
  auto buffer = std::make_shared<std::string>(wire::kHandshakeSize, '\0');
  auto timer = std::make_shared<boost::asio::steady_timer>(io_, kHandshakeTimeout);
  timer->async_wait([held](boost::system::error_code ec) {
    if (!ec && *held) (*held)->close();
  });
  async_read_exactly(
      **held, *buffer,
      [this, held, buffer, timer](const boost::system::error_code& ec, std::size_t) {
        timer->cancel();
        if (ec) return;
        auto handshake = wire::parse_handshake(*buffer);
        if (!handshake) {
          log("incoming connection: " + handshake.error().message());
          return;
        }
        auto it = torrents_.find(handshake->info_hash);
        if (it == torrents_.end()) {
          log("incoming connection for unknown torrent " + handshake->info_hash.hex());
          return;
        }
        it->second->attach(std::move(*held), *handshake);
      });
}

Torrent& Session::add_torrent(TorrentInfo info, std::filesystem::path save_dir,
                              TorrentOptions options, const Bitfield& verified) {
  const Sha1Digest hash = info.info_hash;
  auto torrent = std::make_unique<Torrent>(*this, std::move(info), std::move(save_dir),
                                           std::move(options), verified);
  Torrent& ref = *torrent;
  torrents_[hash] = std::move(torrent);
  // Found through the DHT and announced there (not for private torrents, BEP 27).
  if (dht_ && !ref.info().is_private) dht_->search(hash, listen_port_);
  return ref;
}

Torrent* Session::find_torrent(const Sha1Digest& info_hash) {
  auto it = torrents_.find(info_hash);
  return it == torrents_.end() ? nullptr : it->second.get();
}

bool Session::remove_torrent(const Sha1Digest& info_hash) {
  auto it = torrents_.find(info_hash);
  if (it == torrents_.end()) return false;
  auto torrent = std::move(it->second);
  torrents_.erase(it);
  torrent->stop();
  retired_.emplace_back(Clock::now(), std::move(torrent));
  if (retired_.size() == 1) schedule_retire();
  return true;
}

void Session::schedule_retire() {
  retire_timer_.expires_at(retired_.front().first + kRetireDelay);
  retire_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    const auto now = Clock::now();
    std::erase_if(retired_, [&](const auto& entry) { return entry.first + kRetireDelay <= now; });
    if (!retired_.empty()) schedule_retire();
  });
}

Status Session::start_dht(const std::vector<boost::asio::ip::udp::endpoint>& bootstrap,
                          const std::filesystem::path& state_file) {
  if (!settings_.enable_dht || !udp_) return Error(Errc::invalid_argument, "DHT not enabled");
  dht_state_file_ = state_file;
  DhtState state;
  std::random_device random;
  std::mt19937_64 rng((std::uint64_t{random()} << 32) | random());
  state.id = dht::random_node_id(rng);
  if (!state_file.empty() && std::filesystem::exists(state_file)) {
    auto loaded = load_dht_state(state_file);
    if (!loaded) return loaded.error();
    state = std::move(*loaded);
  }
  dht_ = std::make_unique<DhtService>(io_, *udp_, state.id, settings_.dht);
  dht_->log = [this](const std::string& line) { log(line); };
  dht_->on_peers = [this](const Sha1Digest& hash,
                          const std::vector<boost::asio::ip::tcp::endpoint>& peers) {
    on_dht_peers(hash, peers);
  };
  for (const auto& node : state.nodes) {
    dht_->add_node(boost::asio::ip::udp::endpoint(
        boost::asio::ip::make_address(node.address.ip.to_string()), node.address.port));
  }
  for (const auto& node : bootstrap) dht_->add_node(node);
  // Torrents added before the node existed.
  for (const auto& [hash, torrent] : torrents_) {
    if (!torrent->info().is_private) dht_->search(hash, listen_port_);
  }
  return ok();
}

void Session::on_dht_peers(const Sha1Digest& info_hash,
                           const std::vector<boost::asio::ip::tcp::endpoint>& peers) {
  std::vector<tcp::endpoint> others;
  for (const auto& peer : peers) {
    // Ourselves, as our own announce may come back.
    if ((peer.address().is_loopback() || peer.address().is_unspecified()) &&
        peer.port() == listen_port_) {
      continue;
    }
    others.push_back(peer);
  }
  if (others.empty()) return;
  if (auto it = torrents_.find(info_hash); it != torrents_.end()) {
    for (const auto& peer : others) it->second->add_peer(peer);
  } else if (on_peers_found) {
    on_peers_found(info_hash, others);
  }
}

void Session::find_peers(const Sha1Digest& info_hash) {
  if (dht_) dht_->search(info_hash, std::nullopt);
}

void Session::stop() {
  boost::system::error_code ec;
  acceptor_.close(ec);
  retire_timer_.cancel();
  if (dht_ && !dht_state_file_.empty()) {
    if (auto s = save_dht_state(dht_state_file_, dht_->state()); !s) {
      log("cannot save the DHT state: " + s.error().message());
    }
  }
  // The UDP socket stays open until the session goes: closing uTP connections send their FIN
  // (and the peers' ACKs must still reach us).
  for (auto& [hash, torrent] : torrents_) torrent->stop();
}

}  // namespace starling::session
