// The DHT node on the session's shared UDP socket: a DatagramReceiver that takes bencoded
// datagrams (they start with 'd', which no uTP header does), feeds them to the sans-IO
// dht::DhtNode with the time, sends what it answers, hands found peers to `on_peers` and
// keeps one timer at the node's next deadline. Node id and good nodes can be saved to a file
// and loaded at start. Network thread only.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <filesystem>
#include <functional>
#include <optional>
#include <vector>

#include "core/expected.hpp"
#include "dht/dht_node.hpp"
#include "net/udp_socket.hpp"

namespace starling::session {

// What a DHT state file holds (bencoded: {"id": 20 bytes, "nodes": compact node infos}).
struct DhtState {
  dht::NodeId id;
  std::vector<dht::NodeInfo> nodes;
};
Expected<DhtState> load_dht_state(const std::filesystem::path& file);
Status save_dht_state(const std::filesystem::path& file, const DhtState& state);

class DhtService : public net::DatagramReceiver {
 public:
  using PeersHandler =
      std::function<void(const Sha1Digest&, const std::vector<boost::asio::ip::tcp::endpoint>&)>;

  DhtService(boost::asio::io_context& io, net::UdpSocket& socket, const dht::NodeId& id,
             dht::DhtSettings settings = {});
  ~DhtService() override;
  DhtService(const DhtService&) = delete;
  DhtService& operator=(const DhtService&) = delete;

  bool on_datagram(const net::Datagram& datagram) override;
  // Only batches that held a DHT message: on a uTP swarm's socket most hold none, and a pump
  // (outgoing queue, found peers, the node's next deadline) per batch was measurable there.
  void on_batch_end() override {
    if (!received_in_batch_) return;
    received_in_batch_ = false;
    pump();
  }

  void add_node(const boost::asio::ip::udp::endpoint& node);
  // Looks `info_hash` up again and again; with a port, announces us there (a torrent we have).
  void search(const Sha1Digest& info_hash, std::optional<std::uint16_t> announce_port);
  void stop_search(const Sha1Digest& info_hash);
  DhtState state() const;
  const dht::DhtNode& node() const { return node_; }
  // Hops of the lookup whose peers on_peers is being given (0: from our own storage or an
  // announce to us); valid during that call, for statistics.
  int hops_of_found() const { return hops_of_found_; }

  PeersHandler on_peers;
  std::function<void(const std::string&)> log;

 private:
  void pump();
  void arm_timer();

  net::UdpSocket& socket_;
  dht::DhtNode node_;
  boost::asio::steady_timer timer_;
  dht::DhtNode::TimePoint armed_for_{};
  bool timer_armed_ = false;
  bool received_in_batch_ = false;  // a DHT message arrived since the last batch end
  int hops_of_found_ = 0;
};

}  // namespace starling::session
