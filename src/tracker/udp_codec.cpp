#include "tracker/udp_codec.hpp"

#include <cstring>

namespace starling::tracker::udp {
namespace {

void put32(std::string& out, std::uint32_t v) {
  const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                     static_cast<char>(v >> 8), static_cast<char>(v)};
  out.append(b, 4);
}
void put64(std::string& out, std::uint64_t v) {
  put32(out, static_cast<std::uint32_t>(v >> 32));
  put32(out, static_cast<std::uint32_t>(v));
}
void put16(std::string& out, std::uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}

// Bounds-checked big-endian reads; the caller checks the total size first.
class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> data) : data_(data) {}
  std::uint32_t u32(std::size_t at) const {
    return (std::uint32_t{data_[at]} << 24) | (std::uint32_t{data_[at + 1]} << 16) |
           (std::uint32_t{data_[at + 2]} << 8) | std::uint32_t{data_[at + 3]};
  }
  std::uint64_t u64(std::size_t at) const { return (std::uint64_t{u32(at)} << 32) | u32(at + 4); }
  std::uint16_t u16(std::size_t at) const {
    return static_cast<std::uint16_t>((data_[at] << 8) | data_[at + 1]);
  }
  template <std::size_t N>
  void bytes(std::size_t at, std::array<std::uint8_t, N>& out) const {
    std::memcpy(out.data(), data_.data() + at, N);
  }
  std::size_t size() const { return data_.size(); }

 private:
  std::span<const std::uint8_t> data_;
};

Error bad(std::string detail, std::size_t at) {
  return Error(Errc::tracker_bad_packet, std::move(detail), at);
}

Error too_short(const char* what, std::size_t size, std::size_t need) {
  return bad(
      std::string(what) + " needs " + std::to_string(need) + " bytes, got " + std::to_string(size),
      size);
}

}  // namespace

std::uint32_t transaction_id_of(std::span<const std::uint8_t> datagram) {
  return datagram.size() >= 16 ? Reader(datagram).u32(12) : 0;
}

Expected<Request> parse_request(std::span<const std::uint8_t> datagram) {
  const Reader r(datagram);
  if (r.size() < 16) return too_short("request", r.size(), 16);
  const std::uint64_t connection_id = r.u64(0);
  const std::uint32_t action = r.u32(8);
  const std::uint32_t transaction = r.u32(12);
  switch (static_cast<Action>(action)) {
    case Action::connect:
      if (connection_id != kProtocolId) return bad("connect request without the protocol id", 0);
      return Request(ConnectRequest{transaction});
    case Action::announce: {
      if (r.size() < kAnnounceRequestSize) {
        return too_short("announce request", r.size(), kAnnounceRequestSize);
      }
      AnnounceRequest a;
      a.connection_id = connection_id;
      a.transaction_id = transaction;
      r.bytes(16, a.info_hash.bytes);
      r.bytes(36, a.peer_id);
      a.downloaded = static_cast<std::int64_t>(r.u64(56));
      a.left = static_cast<std::int64_t>(r.u64(64));
      a.uploaded = static_cast<std::int64_t>(r.u64(72));
      const std::uint32_t event = r.u32(80);
      if (event > 3) return bad("announce event " + std::to_string(event) + " is not 0..3", 80);
      a.event = static_cast<AnnounceEvent>(event);
      a.ip = r.u32(84);
      a.key = r.u32(88);
      a.num_want = static_cast<std::int32_t>(r.u32(92));
      a.port = r.u16(96);
      return Request(a);
    }
    case Action::scrape: {
      const std::size_t hashes = (r.size() - 16) / 20;
      if (hashes == 0) return too_short("scrape request", r.size(), 36);
      ScrapeRequest s;
      s.connection_id = connection_id;
      s.transaction_id = transaction;
      s.info_hashes.resize(std::min(hashes, kMaxScrapeHashes));
      for (std::size_t i = 0; i < s.info_hashes.size(); ++i) {
        r.bytes(16 + i * 20, s.info_hashes[i].bytes);
      }
      return Request(std::move(s));
    }
    case Action::error:
      break;
  }
  return bad("unknown action " + std::to_string(action), 8);
}

Expected<Response> parse_response(std::span<const std::uint8_t> datagram, bool ipv6_peers) {
  const Reader r(datagram);
  if (r.size() < 8) return too_short("response", r.size(), 8);
  const std::uint32_t action = r.u32(0);
  const std::uint32_t transaction = r.u32(4);
  switch (static_cast<Action>(action)) {
    case Action::connect:
      if (r.size() < 16) return too_short("connect response", r.size(), 16);
      return Response(ConnectResponse{transaction, r.u64(8)});
    case Action::announce: {
      if (r.size() < kAnnounceResponseHeader) {
        return too_short("announce response", r.size(), kAnnounceResponseHeader);
      }
      AnnounceResponse a;
      a.transaction_id = transaction;
      a.interval = r.u32(8);
      a.leechers = r.u32(12);
      a.seeders = r.u32(16);
      const auto peers = datagram.subspan(kAnnounceResponseHeader);
      auto list = parse_compact_peers(
          std::string_view(reinterpret_cast<const char*>(peers.data()), peers.size()), ipv6_peers);
      if (!list) {
        return bad("announce response: " + list.error().detail,
                   kAnnounceResponseHeader + list.error().offset);
      }
      a.peers = std::move(*list);
      return Response(std::move(a));
    }
    case Action::scrape: {
      if ((r.size() - 8) % kScrapeEntrySize != 0) {
        return bad("scrape response body is not a multiple of 12 bytes",
                   r.size() - (r.size() - 8) % kScrapeEntrySize);
      }
      ScrapeResponse s;
      s.transaction_id = transaction;
      for (std::size_t at = 8; at + kScrapeEntrySize <= r.size(); at += kScrapeEntrySize) {
        ScrapeEntry e;
        e.complete = r.u32(at);
        e.downloaded = r.u32(at + 4);
        e.incomplete = r.u32(at + 8);
        s.entries.push_back(e);
      }
      return Response(std::move(s));
    }
    case Action::error: {
      const auto text = datagram.subspan(8);
      return Response(ErrorResponse{
          transaction, std::string(reinterpret_cast<const char*>(text.data()), text.size())});
    }
  }
  return bad("unknown action " + std::to_string(action), 0);
}

void encode(std::string& out, const ConnectRequest& p) {
  put64(out, kProtocolId);
  put32(out, static_cast<std::uint32_t>(Action::connect));
  put32(out, p.transaction_id);
}

void encode(std::string& out, const ConnectResponse& p) {
  put32(out, static_cast<std::uint32_t>(Action::connect));
  put32(out, p.transaction_id);
  put64(out, p.connection_id);
}

void encode(std::string& out, const AnnounceRequest& p) {
  put64(out, p.connection_id);
  put32(out, static_cast<std::uint32_t>(Action::announce));
  put32(out, p.transaction_id);
  out.append(p.info_hash.view());
  out.append(reinterpret_cast<const char*>(p.peer_id.data()), p.peer_id.size());
  put64(out, static_cast<std::uint64_t>(p.downloaded));
  put64(out, static_cast<std::uint64_t>(p.left));
  put64(out, static_cast<std::uint64_t>(p.uploaded));
  put32(out, static_cast<std::uint32_t>(p.event));
  put32(out, p.ip);
  put32(out, p.key);
  put32(out, static_cast<std::uint32_t>(p.num_want));
  put16(out, p.port);
}

void append_announce_response(std::string& out, std::uint32_t transaction_id,
                              std::uint32_t interval, std::uint32_t leechers, std::uint32_t seeders,
                              std::string_view compact_peers) {
  put32(out, static_cast<std::uint32_t>(Action::announce));
  put32(out, transaction_id);
  put32(out, interval);
  put32(out, leechers);
  put32(out, seeders);
  out.append(compact_peers);
}

void encode(std::string& out, const AnnounceResponse& p) {
  std::string peers;
  for (const auto& peer : p.peers) append_compact(peers, peer);
  append_announce_response(out, p.transaction_id, p.interval, p.leechers, p.seeders, peers);
}

void encode(std::string& out, const ScrapeRequest& p) {
  put64(out, p.connection_id);
  put32(out, static_cast<std::uint32_t>(Action::scrape));
  put32(out, p.transaction_id);
  for (const auto& hash : p.info_hashes) out.append(hash.view());
}

void encode(std::string& out, const ScrapeResponse& p) {
  put32(out, static_cast<std::uint32_t>(Action::scrape));
  put32(out, p.transaction_id);
  for (const auto& e : p.entries) {
    put32(out, static_cast<std::uint32_t>(e.complete));
    put32(out, static_cast<std::uint32_t>(e.downloaded));
    put32(out, static_cast<std::uint32_t>(e.incomplete));
  }
}

void encode(std::string& out, const ErrorResponse& p) {
  put32(out, static_cast<std::uint32_t>(Action::error));
  put32(out, p.transaction_id);
  out.append(p.message);
}

}  // namespace starling::tracker::udp
