#include "session/ut_metadata_fetch.hpp"

#include <boost/asio/post.hpp>

#include "core/overloaded.hpp"
#include "session/peer_stream.hpp"
#include "session/session.hpp"
#include "wire/extension_handshake.hpp"
#include "wire/handshake.hpp"
#include "wire/message_decoder.hpp"
#include "wire/message_encoder.hpp"
#include "wire/ut_metadata.hpp"

namespace starling::session {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kTick{250};
constexpr std::chrono::seconds kHandshakeTimeout{10};
// A peer that failed or closed is dialled again after this long.
constexpr std::chrono::seconds kRetryDelay{5};
constexpr std::size_t kReadSize = 64 << 10;

boost::asio::ip::tcp::endpoint to_endpoint(const tracker::PeerAddress& peer) {
  const auto& ip = peer.ip.unmapped();
  if (ip.v6) {
    boost::asio::ip::address_v6::bytes_type bytes;
    std::copy_n(ip.bytes.begin(), bytes.size(), bytes.begin());
    return {boost::asio::ip::address_v6(bytes), peer.port};
  }
  return {boost::asio::ip::address_v4({ip.bytes[0], ip.bytes[1], ip.bytes[2], ip.bytes[3]}),
          peer.port};
}

}  // namespace

struct MetadataFetch::Link : std::enable_shared_from_this<Link> {
  MetadataFetch* owner = nullptr;  // null once the fetch is over
  std::uint64_t id = 0;
  tcp::endpoint endpoint;
  std::unique_ptr<PeerStream> stream;
  bool over_tcp = false;
  bool closed = false;
  bool handshake_done = false;
  Clock::time_point started = Clock::now();
  std::string handshake_buffer;
  wire::MessageDecoder decoder;
  std::string outbox;
  std::string writing;
  bool write_in_flight = false;
  std::optional<std::uint8_t> their_metadata_id;

  void close(const std::string& reason) {
    if (closed) return;
    closed = true;
    stream->close();
    if (owner) owner->on_link_closed(*this, reason);
  }

  void send_extended(std::uint8_t ext_id, const std::string& payload) {
    wire::encode(outbox, wire::Extended{ext_id, payload});
  }

  void flush() {
    if (write_in_flight || outbox.empty() || closed) return;
    writing.swap(outbox);
    outbox.clear();
    write_in_flight = true;
    stream->async_write(
        writing, [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
          self->write_in_flight = false;
          if (self->closed) return;
          if (ec) return self->close("send: " + ec.message());
          self->writing.clear();
          self->flush();
        });
  }

  void read_messages() {
    auto space = decoder.prepare(kReadSize);
    stream->async_read_some(
        space, [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
          if (self->closed) return;
          if (ec)
            return self->close(ec == boost::asio::error::eof ? "closed by peer" : ec.message());
          self->decoder.commit(n);
          for (;;) {
            auto message = self->decoder.next();
            if (!message) return self->close(message.error().message());
            if (!*message) break;
            const auto* extended = std::get_if<wire::Extended>(&**message);
            if (extended == nullptr) continue;  // bitfields, haves and the like: not needed here
            self->handle_extended(*extended);
            if (self->closed) return;
          }
          self->flush();
          self->read_messages();
        });
  }

  void handle_extended(const wire::Extended& extended) {
    if (extended.id == wire::kExtensionHandshakeId) {
      auto handshake = wire::parse_extension_handshake(extended.payload);
      if (!handshake) return close(handshake.error().message());
      their_metadata_id = handshake->id_of(wire::kUtMetadataName);
      if (!their_metadata_id) return close("peer does not offer ut_metadata");
      if (!handshake->metadata_size) return close("peer did not announce metadata_size");
      if (auto s = owner->assembler_.on_size(id, *handshake->metadata_size); !s) {
        return close(s.error().message());
      }
      handshake_done = true;
      owner->pump(*this);
    } else if (extended.id == wire::kOurUtMetadataId) {
      owner->on_metadata_message(*this, extended.payload);
    }
  }
};

MetadataFetch::MetadataFetch(Session& session, const Sha1Digest& info_hash,
                             std::vector<std::string> trackers,
                             std::function<void(std::string)> on_done, wire::MetadataLimits limits)
    : session_(session),
      info_hash_(info_hash),
      assembler_(info_hash, limits),
      on_done_(std::move(on_done)),
      timer_(session.io()) {
  if (!trackers.empty()) {
    std::vector<std::vector<std::string>> tiers;
    tiers.reserve(trackers.size());
    for (auto& url : trackers) tiers.push_back({std::move(url)});
    trackers_ = std::make_unique<tracker::TrackerClient>(
        session_.io(), std::move(tiers), info_hash_, session_.peer_id(), session_.listen_port(),
        // Nothing is known of the size yet; "left" must not be 0 or we would look like a seed.
        [] {
          return tracker::TransferTotals{0, 0, 1};
        },
        [this](const std::vector<tracker::PeerAddress>& peers) {
          for (const auto& peer : peers) {
            if (peer.port != 0) add_peer(to_endpoint(peer));
          }
        },
        session_.settings().trackers);
    trackers_->log = [this](const std::string& line) { session_.log("metadata: " + line); };
    trackers_->start();
  }
  tick();
}

MetadataFetch::~MetadataFetch() {
  try {
    stop();
  } catch (...) {  // NOLINT(bugprone-empty-catch): nothing left to report at teardown
  }
}

void MetadataFetch::stop() {
  if (stopped_) return;
  stopped_ = true;
  timer_.cancel();
  trackers_.reset();  // the torrent announces from now on
  auto links = std::move(links_);
  for (auto& [id, link] : links) {
    link->owner = nullptr;
    link->close("metadata fetch over");
  }
}

void MetadataFetch::add_peer(const tcp::endpoint& peer) {
  if (stopped_) return;
  if ((peer.address().is_loopback() || peer.address().is_unspecified()) &&
      peer.port() == session_.listen_port()) {
    return;  // ourselves
  }
  auto [it, inserted] = known_.try_emplace(peer);
  if (!inserted && (it->second.active || Clock::now() < it->second.retry_at)) return;
  dial(peer, it->second.utp_failed);
}

std::vector<tcp::endpoint> MetadataFetch::peers() const {
  std::vector<tcp::endpoint> out;
  out.reserve(known_.size());
  for (const auto& [endpoint, known] : known_) out.push_back(endpoint);
  return out;
}

int MetadataFetch::metadata_peers() const {
  int n = 0;
  for (const auto& [id, link] : links_) n += link->handshake_done ? 1 : 0;
  return n;
}

void MetadataFetch::dial(const tcp::endpoint& peer, bool utp_failed) {
  known_[peer].active = true;
  auto link = std::make_shared<Link>();
  link->owner = this;
  link->id = ++next_id_;
  link->endpoint = peer;
  link->stream = session_.make_outgoing_stream(utp_failed);
  link->over_tcp = link->stream->transport() == "tcp";
  links_[link->id] = link;
  session_.log("metadata: dialling " + peer.address().to_string() + ":" +
               std::to_string(peer.port()) + " over " + std::string(link->stream->transport()));
  link->stream->async_connect(peer, [link](const boost::system::error_code& ec) {
    if (link->closed) return;
    if (ec) return link->close("connect: " + ec.message());
    wire::Handshake ours;
    ours.info_hash = link->owner->info_hash_;
    ours.peer_id = link->owner->session_.peer_id();
    ours.set_supports_extensions();
    wire::encode_handshake(link->outbox, ours);
    wire::ExtensionHandshake ext;
    ext.m.emplace(std::string(wire::kUtMetadataName), wire::kOurUtMetadataId);
    ext.v = "starling/" STARLING_VERSION;
    if (link->owner->session_.listen_port() != 0) ext.p = link->owner->session_.listen_port();
    link->send_extended(wire::kExtensionHandshakeId, wire::encode_extension_handshake(ext));
    link->flush();
    link->handshake_buffer.assign(wire::kHandshakeSize, '\0');
    async_read_exactly(*link->stream, link->handshake_buffer,
                       [link](const boost::system::error_code& ec2, std::size_t) {
                         if (link->closed) return;
                         if (ec2) return link->close("handshake: " + ec2.message());
                         auto theirs = wire::parse_handshake(link->handshake_buffer);
                         if (!theirs) return link->close(theirs.error().message());
                         if (theirs->info_hash != link->owner->info_hash_) {
                           return link->close("handshake for another torrent");
                         }
                         if (!theirs->supports_extensions()) {
                           return link->close("peer does not support extensions (BEP 10)");
                         }
                         link->read_messages();
                       });
  });
}

void MetadataFetch::pump(Link& link) {
  if (!link.handshake_done || link.closed) return;
  const auto now = Clock::now();
  while (auto piece = assembler_.next_request(link.id, now)) {
    link.send_extended(*link.their_metadata_id, wire::encode_metadata_request(*piece));
  }
  link.flush();
}

void MetadataFetch::on_metadata_message(Link& link, std::string_view payload) {
  auto message = wire::parse_metadata_message(payload);
  if (!message) return;  // BEP 9: ignore what we do not understand
  switch (message->type) {
    case wire::MetadataMessageType::request:
      // We have nothing to give yet.
      link.send_extended(*link.their_metadata_id, wire::encode_metadata_reject(message->piece));
      return;
    case wire::MetadataMessageType::reject:
      assembler_.on_reject(link.id, message->piece);
      return;
    case wire::MetadataMessageType::data:
      break;
  }
  using Outcome = wire::MetadataAssembler::Outcome;
  switch (assembler_.on_data(link.id, message->piece, message->total_size, message->data)) {
    case Outcome::ignored:
      return;
    case Outcome::stored:
      pump(link);
      return;
    case Outcome::mismatch: {
      session_.log("metadata: does not match the info-hash; dropping the peers that sent it");
      for (auto culprit : assembler_.culprits()) {
        if (auto it = links_.find(culprit); it != links_.end()) {
          it->second->close("sent metadata that fails the info-hash");
        }
      }
      for (auto& [id, other] : links_) pump(*other);
      return;
    }
    case Outcome::complete: {
      session_.log("metadata: complete (" + std::to_string(assembler_.size()) + " bytes)");
      stop();
      boost::asio::post(session_.io(),
                        [done = on_done_, bytes = assembler_.bytes()]() mutable { done(bytes); });
      return;
    }
  }
}

void MetadataFetch::on_link_closed(Link& link, const std::string& reason) {
  session_.log("metadata: " + link.endpoint.address().to_string() + ":" +
               std::to_string(link.endpoint.port()) + " closed: " + reason);
  assembler_.on_peer_gone(link.id);
  auto& known = known_[link.endpoint];
  known.active = false;
  known.retry_at = Clock::now() + kRetryDelay;
  // A uTP dial that never got a handshake is tried over TCP at once (a TCP-only peer).
  if (!link.handshake_done && !link.over_tcp && session_.settings().enable_tcp &&
      !known.utp_failed) {
    known.utp_failed = true;
    known.retry_at = Clock::now();
  }
  auto held = links_[link.id];  // keep the link alive until this call returns
  links_.erase(link.id);
  for (auto& [id, other] : links_) pump(*other);
}

void MetadataFetch::tick() {
  if (stopped_) return;
  const auto now = Clock::now();
  assembler_.expire(now);
  std::vector<std::shared_ptr<Link>> stale;
  for (auto& [id, link] : links_) {
    if (!link->handshake_done && now - link->started > kHandshakeTimeout) stale.push_back(link);
  }
  for (auto& link : stale) link->close("timed out connecting");
  for (auto& [endpoint, known] : known_) {
    if (!known.active && now >= known.retry_at) dial(endpoint, known.utp_failed);
  }
  for (auto& [id, link] : links_) pump(*link);
  timer_.expires_after(kTick);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) tick();
  });
}

}  // namespace starling::session
