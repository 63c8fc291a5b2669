#include "session/dht_service.hpp"

#include <fstream>
#include <iterator>
#include <random>

#include "bencode/decoder.hpp"
#include "bencode/encoder.hpp"

namespace starling::session {
namespace {

using Clock = std::chrono::steady_clock;
using udp = boost::asio::ip::udp;

dht::PeerAddress to_peer(const udp::endpoint& endpoint) {
  auto address = endpoint.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    address = boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6());
  }
  dht::PeerAddress peer;
  peer.port = endpoint.port();
  if (address.is_v4()) {
    const auto b = address.to_v4().to_bytes();
    peer.ip = tracker::IpAddress::v4_bytes(b.data());
  } else {
    const auto b = address.to_v6().to_bytes();
    peer.ip = tracker::IpAddress::v6_bytes(b.data());
  }
  return peer;
}

boost::asio::ip::address to_address(const tracker::IpAddress& ip) {
  const auto plain = ip.unmapped();
  if (plain.v6) {
    boost::asio::ip::address_v6::bytes_type bytes;
    std::copy_n(plain.bytes.begin(), bytes.size(), bytes.begin());
    return boost::asio::ip::address_v6(bytes);
  }
  return boost::asio::ip::address_v4(
      {plain.bytes[0], plain.bytes[1], plain.bytes[2], plain.bytes[3]});
}

}  // namespace

Expected<DhtState> load_dht_state(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Error(Errc::io_error, "cannot read " + file.string());
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto doc = bencode::decode(bytes);
  if (!doc || !doc->root().is_dict()) return Error(Errc::dht_bad_message, "not a DHT state file");
  const auto id = doc->root().find_string("id");
  if (!id || !dht::NodeId::from_bytes(*id)) return Error(Errc::dht_bad_message, "no node id");
  DhtState state;
  state.id = *dht::NodeId::from_bytes(*id);
  if (const auto nodes = doc->root().find_string("nodes")) {
    for (std::size_t at = 0; at + dht::kCompactNodeSize <= nodes->size();
         at += dht::kCompactNodeSize) {
      const auto entry = nodes->substr(at, dht::kCompactNodeSize);
      auto address = tracker::parse_compact_peers(entry.substr(20), false);
      if (!address || address->size() != 1) continue;
      state.nodes.push_back({*dht::NodeId::from_bytes(entry.substr(0, 20)), address->front()});
    }
  }
  return state;
}

Status save_dht_state(const std::filesystem::path& file, const DhtState& state) {
  std::string nodes;
  for (const auto& node : state.nodes) {
    if (node.address.ip.unmapped().v6) continue;
    nodes.append(node.id.view());
    tracker::append_compact(nodes, node.address);
  }
  std::string out;
  bencode::Encoder e(out);
  e.begin_dict();
  e.string("id");
  e.string(state.id.view());
  e.string("nodes");
  e.string(nodes);
  e.end();
  const auto temp = file.string() + ".tmp";
  {
    std::ofstream f(temp, std::ios::binary | std::ios::trunc);
    f.write(out.data(), static_cast<std::streamsize>(out.size()));
    if (!f) return Error(Errc::io_error, "cannot write " + temp);
  }
  std::error_code ec;
  std::filesystem::rename(temp, file, ec);
  if (ec) return Error(ec, file.string());
  return ok();
}

DhtService::DhtService(boost::asio::io_context& io, net::UdpSocket& socket, const dht::NodeId& id,
                       dht::DhtSettings settings)
    : socket_(socket),
      node_(id, Clock::now(), std::random_device{}(), std::move(settings)),
      timer_(io) {
  socket_.add_receiver(*this);
}

DhtService::~DhtService() {
  try {
    timer_.cancel();
    socket_.remove_receiver(*this);
  } catch (...) {  // NOLINT(bugprone-empty-catch): nothing left to report at teardown
  }
}

bool DhtService::on_datagram(const net::Datagram& datagram) {
  if (datagram.bytes.empty() || datagram.bytes.front() != 'd') return false;
  node_.on_datagram(
      to_peer(datagram.from),
      std::string_view(reinterpret_cast<const char*>(datagram.bytes.data()), datagram.bytes.size()),
      Clock::now());
  received_in_batch_ = true;
  return true;  // sent at the batch's end (on_batch_end)
}

void DhtService::add_node(const udp::endpoint& node) {
  node_.add_node(to_peer(node), Clock::now());
  pump();
}

void DhtService::search(const Sha1Digest& info_hash, std::optional<std::uint16_t> announce_port) {
  node_.search(info_hash, announce_port, Clock::now());
  pump();
}

void DhtService::stop_search(const Sha1Digest& info_hash) {
  node_.stop_search(info_hash);
}

DhtState DhtService::state() const {
  DhtState state;
  state.id = node_.id();
  for (const auto& entry : node_.table().entries()) {
    if (entry.confirmed) state.nodes.push_back(entry.node);
  }
  return state;
}

void DhtService::pump() {
  for (const auto& out : node_.take_outgoing()) {
    const udp::endpoint to(to_address(out.to.ip), out.to.port);
    std::optional<udp::endpoint> target = to;
    // An IPv6 socket reaches IPv4 nodes through v4-mapped addresses.
    if (socket_.local_endpoint().address().is_v6() && to.address().is_v4()) {
      target = udp::endpoint(
          boost::asio::ip::make_address_v6(boost::asio::ip::v4_mapped, to.address().to_v4()),
          to.port());
    } else if (socket_.local_endpoint().address().is_v4() && to.address().is_v6()) {
      continue;  // unreachable from an IPv4 socket
    }
    socket_.send(*target,
                 std::span<const std::uint8_t>(
                     reinterpret_cast<const std::uint8_t*>(out.bytes.data()), out.bytes.size()));
  }
  for (auto& found : node_.take_found()) {
    std::vector<boost::asio::ip::tcp::endpoint> peers;
    for (const auto& peer : found.peers) peers.emplace_back(to_address(peer.ip), peer.port);
    if (log) {
      log("dht: " + std::to_string(peers.size()) + " peer(s) for " + found.info_hash.hex() +
          " after " + std::to_string(found.hops) + " hop(s)");
    }
    hops_of_found_ = found.hops;
    if (on_peers) on_peers(found.info_hash, peers);
  }
  arm_timer();
}

void DhtService::arm_timer() {
  const auto deadline = node_.next_deadline();
  if (timer_armed_ && deadline >= armed_for_) return;
  timer_armed_ = true;
  armed_for_ = deadline;
  timer_.expires_at(deadline);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    timer_armed_ = false;
    node_.handle_timeout(Clock::now());
    pump();
  });
}

}  // namespace starling::session
