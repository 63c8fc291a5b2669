// Fetching a magnet link's info dictionary from peers (BEP 9) before a Torrent exists: a small
// connection per peer that does the BitTorrent and BEP 10 handshakes and speaks only
// ut_metadata; the sans-IO wire::MetadataAssembler decides what to ask whom and checks the
// result against the info-hash. Peers come from the caller (--peer, x.pe, the DHT) and from the
// magnet's trackers. Network thread only.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/digest.hpp"
#include "tracker/tracker_client.hpp"
#include "wire/metadata_assembler.hpp"

namespace starling::session {

class Session;

class MetadataFetch {
 public:
  // `on_done` gets the verified info dictionary once; it may destroy this object.
  MetadataFetch(Session& session, const Sha1Digest& info_hash, std::vector<std::string> trackers,
                std::function<void(std::string info_bytes)> on_done,
                wire::MetadataLimits limits = {});
  ~MetadataFetch();
  MetadataFetch(const MetadataFetch&) = delete;
  MetadataFetch& operator=(const MetadataFetch&) = delete;

  // Dials `peer` unless it is known already (a failed peer is tried again later).
  void add_peer(const boost::asio::ip::tcp::endpoint& peer);
  // Every peer heard of, to hand to the torrent once the metadata is here.
  std::vector<boost::asio::ip::tcp::endpoint> peers() const;
  // Connections that completed the BEP 10 handshake and offer ut_metadata.
  int metadata_peers() const;
  void stop();

  struct Link;  // one connection (defined in the .cpp)

 private:
  friend struct Link;
  // Over uTP first, TCP once uTP failed to this peer (as Torrent does).
  void dial(const boost::asio::ip::tcp::endpoint& peer, bool utp_failed);
  void tick();
  void on_link_closed(Link& link, const std::string& reason);
  void on_metadata_message(Link& link, std::string_view payload);
  void pump(Link& link);

  Session& session_;
  Sha1Digest info_hash_;
  wire::MetadataAssembler assembler_;
  std::function<void(std::string)> on_done_;
  boost::asio::steady_timer timer_;
  std::unique_ptr<tracker::TrackerClient> trackers_;
  struct Known {
    bool active = false;
    bool utp_failed = false;
    std::chrono::steady_clock::time_point retry_at{};
  };
  std::map<boost::asio::ip::tcp::endpoint, Known> known_;
  std::map<std::uint64_t, std::shared_ptr<Link>> links_;
  std::uint64_t next_id_ = 0;
  bool stopped_ = false;
};

}  // namespace starling::session
