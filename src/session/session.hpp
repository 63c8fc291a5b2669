// The engine: one io_context (the network thread), the disk pool, a TCP listener, and the
// torrents. Incoming connections are matched to a torrent by the info-hash in their handshake.
#pragma once

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "core/expected.hpp"
#include "net/udp_socket.hpp"
#include "policy/rate_limiter.hpp"
#include "session/dht_service.hpp"
#include "session/disk_io.hpp"
#include "session/peer_stream.hpp"
#include "session/settings.hpp"
#include "session/torrent.hpp"

namespace starling::session {

class Session {
 public:
  explicit Session(SessionSettings settings = {});
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Binds the TCP listener and the UDP socket (uTP) on the same port, each when its transport
  // is enabled; with `next_free`, tries the following ports when this one is taken. Port 0
  // picks any port free for both. Returns the bound port.
  Expected<std::uint16_t> listen(const std::string& host, std::uint16_t port, bool next_free);
  std::uint16_t listen_port() const { return listen_port_; }

  // A stream for dialling a peer: uTP when enabled, unless it already failed to connect to this
  // peer and TCP is enabled.
  std::unique_ptr<PeerStream> make_outgoing_stream(bool utp_failed_before);
  // Options of TCP peer sockets (see SessionSettings::tcp_receive_buffer).
  TcpOptions tcp_options() const;
  // uTP connections open or closing (for tests and stats); 0 without uTP.
  std::size_t utp_connections() const { return utp_ ? utp_->connections() : 0; }

  Torrent& add_torrent(TorrentInfo info, std::filesystem::path save_dir, TorrentOptions options,
                       const Bitfield& verified);
  // The torrent with this info-hash, or nullptr.
  Torrent* find_torrent(const Sha1Digest& info_hash);
  std::size_t torrent_count() const { return torrents_.size(); }
  // Stops the torrent (peers closed, resume data saved) and takes it out of the session, so it
  // can be added again later (pause and resume). It is destroyed `retire_delay` later, once the
  // completions already queued for it (disk jobs, closing peers) have run. False when there is
  // no such torrent.
  bool remove_torrent(const Sha1Digest& info_hash);

  boost::asio::io_context& io() { return io_; }
  DiskIo& disk() { return *disk_; }
  const SessionSettings& settings() const { return settings_; }
  const std::array<std::uint8_t, 20>& peer_id() const { return peer_id_; }
  // Payload rate limits shared by every peer (--max-up, --max-down); unlimited by default.
  policy::TokenBucket& upload_bucket() { return upload_bucket_; }
  policy::TokenBucket& download_bucket() { return download_bucket_; }

  // Starts the DHT node (with enable_dht, after listen()): its id and known nodes from
  // `state_file` when it holds them (saved again by stop()), joined through `bootstrap`. No
  // other node is contacted: there are no default routers.
  Status start_dht(const std::vector<boost::asio::ip::udp::endpoint>& bootstrap,
                   const std::filesystem::path& state_file);
  const DhtService* dht() const { return dht_.get(); }
  // A DHT node a peer told us about (BEP 5 PORT message); ignored without a DHT.
  void add_dht_node(const boost::asio::ip::udp::endpoint& node) {
    if (dht_) dht_->add_node(node);
  }

  // Peer discovery beyond trackers (the DHT). find_peers looks `info_hash` up (and keeps it
  // looked up); peers found go to the torrent with that hash, else to on_peers_found (a
  // magnet's metadata fetch, before the torrent exists). Without a DHT, nothing happens.
  void find_peers(const Sha1Digest& info_hash);
  std::function<void(const Sha1Digest&, const std::vector<tcp::endpoint>&)> on_peers_found;

  // Log lines (connections, failures, bans). Default: none.
  std::function<void(const std::string&)> logger;
  void log(const std::string& line) const {
    if (logger) logger(line);
  }

  void stop();  // closes the listener and every torrent; run() then returns

 private:
  void accept();
  void read_incoming_handshake(std::unique_ptr<PeerStream> stream);
  // Binds what is enabled on `endpoint`'s port; closes both on failure.
  boost::system::error_code bind_both(const tcp::endpoint& endpoint);

  SessionSettings settings_;
  boost::asio::io_context io_;
  std::unique_ptr<DiskIo> disk_;
  tcp::acceptor acceptor_;
  std::uint16_t listen_port_ = 0;
  std::array<std::uint8_t, 20> peer_id_{};
  policy::TokenBucket upload_bucket_;
  policy::TokenBucket download_bucket_;
  std::map<Sha1Digest, std::unique_ptr<Torrent>> torrents_;
  // Removed torrents waiting for their queued completions, with when they were removed.
  std::vector<std::pair<Clock::time_point, std::unique_ptr<Torrent>>> retired_;
  boost::asio::steady_timer retire_timer_;
  static constexpr std::chrono::seconds kRetireDelay{15};
  void schedule_retire();
  // uTP: one UDP socket and the connections on it; made by listen().
  std::unique_ptr<net::UdpSocket> udp_;
  std::unique_ptr<UtpTransport> utp_;
  std::unique_ptr<DhtService> dht_;
  std::filesystem::path dht_state_file_;
  void on_dht_peers(const Sha1Digest& info_hash,
                    const std::vector<boost::asio::ip::tcp::endpoint>& peers);
};

}  // namespace starling::session
