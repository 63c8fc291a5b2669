#include "session/peer_connection.hpp"

#include "core/overloaded.hpp"
#include "session/disk_io.hpp"
#include "session/session.hpp"
#include "session/torrent.hpp"
#include "wire/extension_handshake.hpp"
#include "wire/message_encoder.hpp"
#include "wire/ut_metadata.hpp"
#include "wire/ut_pex.hpp"

namespace starling::session {
namespace {

constexpr std::size_t kReadSize = 64 << 10;
// Under a download limit, reads wait until at least this much may be read (one block and its
// header), so a slow rate does not mean a system call per few bytes.
constexpr std::int64_t kMinLimitedRead = 16 * 1024 + 13;
// A peer asking for more than this many blocks at once is refused the surplus.
constexpr std::size_t kMaxQueuedUploads = 1000;
// What we tell peers we queue (BEP 10 reqq).
constexpr int kOurReqq = 1000;
// BEP 11: a PEX message at most once a minute; we accept one per 30 s from a peer (clocks and
// the first message right after the handshake make the gaps a little uneven).
constexpr std::chrono::seconds kPexInterval{60};
constexpr std::chrono::seconds kMinPexGap{30};

}  // namespace

PeerConnection::PeerConnection(Torrent& torrent, policy::PeerKey key,
                               std::unique_ptr<PeerStream> stream, bool outgoing)
    : torrent_(torrent),
      key_(key),
      stream_(std::move(stream)),
      outgoing_(outgoing),
      pipeline_(Clock::now(), torrent.settings().pipeline),
      connected_at_(Clock::now()),
      last_received_(connected_at_),
      last_sent_(connected_at_),
      last_block_at_(connected_at_),
      upload_timer_(torrent.session().io()),
      download_timer_(torrent.session().io()) {}

PeerConnection::PeerConnection(Torrent& torrent, policy::PeerKey key,
                               std::unique_ptr<PeerStream> stream, tcp::endpoint endpoint)
    : PeerConnection(torrent, key, std::move(stream), true) {
  endpoint_ = std::move(endpoint);
  address_ = endpoint_.address().to_string();
}

PeerConnection::PeerConnection(Torrent& torrent, policy::PeerKey key,
                               std::unique_ptr<PeerStream> stream,
                               const wire::Handshake& their_handshake)
    : PeerConnection(torrent, key, std::move(stream), false) {
  their_handshake_ = their_handshake;
  endpoint_ = stream_->remote_endpoint();
  address_ = endpoint_.address().to_string();
}

PeerConnection::~PeerConnection() {
  stream_->close();
}

void PeerConnection::start() {
  if (outgoing_) {
    connect();
  } else {
    send_handshake();
    after_handshake();
  }
}

void PeerConnection::connect() {
  stream_->async_connect(endpoint_,
                         [self = shared_from_this()](const boost::system::error_code& ec) {
                           if (self->closed_) return;
                           if (ec) return self->close("connect: " + ec.message());
                           self->send_handshake();
                           self->read_handshake();
                         });
}

void PeerConnection::send_handshake() {
  wire::encode_handshake(outbox_.bytes(), torrent_.our_handshake());
  flush();
}

void PeerConnection::read_handshake() {
  handshake_buffer_.assign(wire::kHandshakeSize, '\0');
  async_read_exactly(*stream_, handshake_buffer_,
                     [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                       if (self->closed_) return;
                       if (ec) return self->close("handshake: " + ec.message());
                       auto handshake = wire::parse_handshake(self->handshake_buffer_);
                       if (!handshake) return self->close(handshake.error().message());
                       if (handshake->info_hash != self->torrent_.info().info_hash) {
                         return self->close("handshake for another torrent");
                       }
                       self->their_handshake_ = *handshake;
                       self->after_handshake();
                     });
}

void PeerConnection::after_handshake() {
  if (their_handshake_->peer_id == torrent_.session().peer_id()) {
    return close("connected to ourselves");
  }
  if (!torrent_.admit(*this)) return close("duplicate connection to this peer");
  handshake_done_ = true;
  const wire::Handshake ours = torrent_.our_handshake();
  supports_fast_ = their_handshake_->supports_fast() && ours.supports_fast();
  supports_extensions_ = their_handshake_->supports_extensions();
  (void)decoder_.set_geometry(torrent_.geometry());
  peer_has_ = Bitfield(static_cast<std::size_t>(torrent_.geometry().num_pieces));
  availability_counted_ = true;
  torrent_.on_peer_connected(*this);

  if (supports_extensions_) {
    wire::ExtensionHandshake ext;
    ext.v = "starling/" STARLING_VERSION;
    ext.reqq = kOurReqq;
    // BEP 9: we serve the info dictionary (not for private torrents, as libtorrent).
    if (!torrent_.info().is_private && !torrent_.info().info_bytes.empty()) {
      ext.m.emplace(std::string(wire::kUtMetadataName), wire::kOurUtMetadataId);
      ext.metadata_size = static_cast<std::int64_t>(torrent_.info().info_bytes.size());
    }
    // BEP 11 peer exchange; BEP 27: private torrents get peers from their tracker only.
    if (!torrent_.info().is_private)
      ext.m.emplace(std::string(wire::kUtPexName), wire::kOurUtPexId);
    if (torrent_.session().listen_port() != 0) ext.p = torrent_.session().listen_port();
    const std::string payload = wire::encode_extension_handshake(ext);
    send(wire::Extended{wire::kExtensionHandshakeId, payload});
  }
  // BEP 5: tell a peer that runs a DHT node where ours listens.
  if (their_handshake_->supports_dht() && ours.supports_dht() &&
      torrent_.session().listen_port() != 0) {
    send(wire::Port{torrent_.session().listen_port()});
  }
  const Bitfield& have = torrent_.picker().have_pieces();
  if (policy::SuperSeed* super_seed = torrent_.super_seed()) {
    // BEP 16: we look like a peer with nothing and announce pieces one by one.
    super_seeding_ = true;
    super_seed->add_peer(key_);
    if (supports_fast_) send(wire::HaveNone{});
    reveal_pieces();
  } else if (supports_fast_ && have.all()) {
    send(wire::HaveAll{});
  } else if (supports_fast_ && have.none()) {
    send(wire::HaveNone{});
  } else if (!have.none()) {
    send(wire::BitfieldMessage{have.bytes()});
  }
  flush();
  read_messages();
}

std::size_t PeerConnection::read_allowance() {
  // The torrent's bucket and (unless the torrent opts out) the session's.
  policy::TransferLimits limits = torrent_.download_limits();
  if (limits.unlimited()) {
    download_credit_ = 0;  // a limit set later starts from a clean slate
    return kReadSize;
  }
  const auto want = static_cast<std::int64_t>(kReadSize);
  const auto now = Clock::now();
  if (download_credit_ < kMinLimitedRead)
    download_credit_ += limits.grant(want - download_credit_, now);
  if (download_credit_ >= kMinLimitedRead) return static_cast<std::size_t>(download_credit_);
  download_timer_.expires_after(limits.time_until(kMinLimitedRead - download_credit_, now));
  download_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec && !self->closed_) self->read_messages();
  });
  return 0;
}

void PeerConnection::read_messages() {
  const std::size_t allowed = read_allowance();
  if (allowed == 0) return;  // the download timer reads again when tokens are there
  std::span<char> space = decoder_.prepare(allowed);
  stream_->async_read_some(
      space, [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
        if (self->closed_) return;
        if (ec) {
          return self->close(ec == boost::asio::error::eof ? "closed by peer" : ec.message());
        }
        if (!self->torrent_.download_limits().unlimited()) {
          self->download_credit_ -= static_cast<std::int64_t>(n);
        }
        self->decoder_.commit(n);
        self->last_received_ = Clock::now();
        const DiskIo::Batch batch(self->torrent_.disk());
        for (;;) {
          auto message = self->decoder_.next();
          if (!message) return self->close(message.error().message());
          if (!*message) break;
          if (!self->handle(**message)) return;
        }
        self->request_more();
        self->serve_uploads();
        self->flush();
        self->read_messages();
      });
}

bool PeerConnection::handle(const wire::Message& message) {
  auto& picker = torrent_.picker();
  std::visit(
      Overloaded{
          [](const wire::KeepAlive&) {},
          [&](const wire::Choke&) {
            peer_choking_ = true;
            drop_requests();
          },
          [&](const wire::Unchoke&) {
            peer_choking_ = false;
            ever_unchoked_us_ = true;
          },
          [&](const wire::Interested&) {
            peer_interested_ = true;
            torrent_.on_peer_interest_changed();
          },
          [&](const wire::NotInterested&) {
            peer_interested_ = false;
            torrent_.on_peer_interest_changed();
          },
          [&](const wire::Have& have) {
            const auto i = static_cast<std::size_t>(have.piece.value());
            if (peer_has_[i] || peer_is_seed_) return;
            peer_has_.set(i);
            picker.add_availability(have.piece);
            if (policy::SuperSeed* super_seed = super_seed_in_effect()) {
              super_seed->peer_has(key_, have.piece);
              reveal_pieces();
            }
            if (picker.piece_priority(have.piece) > 0 && !picker.have(have.piece)) {
              ++wanted_pieces_;
              update_interest();
            }
          },
          [&](const wire::BitfieldMessage& bits) {
            auto parsed = Bitfield::from_bytes(bits.bits, peer_has_.size());
            if (parsed) handle_bitfield(*parsed, parsed->all());
          },
          [&](const wire::HaveAll&) { handle_bitfield(Bitfield(peer_has_.size(), true), true); },
          [&](const wire::HaveNone&) { handle_bitfield(Bitfield(peer_has_.size()), false); },
          [&](const wire::Request& request) { handle_request(request); },
          [&](const wire::Piece& piece) { handle_block(piece); },
          [&](const wire::Cancel& cancel) {
            std::erase_if(upload_queue_, [&](const wire::Request& r) {
              return r.piece == cancel.piece && r.offset == cancel.offset &&
                     r.length == cancel.length;
            });
          },
          [&](const wire::Reject& reject) {
            // A rejected run rejects each of its blocks.
            const auto& geometry = torrent_.geometry();
            const std::int64_t from = reject.offset;
            const std::int64_t to = from + reject.length;
            int dropped = 0;
            std::erase_if(requests_, [&](const Outstanding& o) {
              const std::int64_t at = geometry.block_offset(o.block);
              if (o.block.piece != reject.piece || at < from || at >= to) return false;
              picker.abort_request(o.block, key_);
              ++dropped;
              return true;
            });
            if (dropped > 0) pipeline_.on_requests_dropped(dropped, Clock::now());
          },
          [&](const wire::Extended& extended) { handle_extended(extended); },
          [&](const wire::Port& port) {
            // BEP 5: the peer's DHT node, worth asking for nodes (private torrents: no DHT).
            if (port.port != 0 && !torrent_.info().is_private && !dht_port_seen_) {
              dht_port_seen_ = true;  // one per connection: no flooding our node with dials
              torrent_.session().add_dht_node(
                  boost::asio::ip::udp::endpoint(endpoint_.address(), port.port));
            }
          },
          [](const auto&) {},  // suggest, allowed fast, unknown ids: nothing to do yet
      },
      message);
  return !closed_;
}

void PeerConnection::handle_bitfield(const Bitfield& bits, bool all) {
  auto& picker = torrent_.picker();
  if (peer_is_seed_) {
    picker.remove_seed();
  } else {
    picker.remove_availability(peer_has_);
  }
  peer_is_seed_ = all;
  if (policy::SuperSeed* super_seed = super_seed_in_effect()) {
    for (std::size_t p = 0; p < bits.size(); ++p) {
      if (bits[p] && !peer_has_[p])
        super_seed->peer_has(key_, PieceIndex(static_cast<std::int32_t>(p)));
    }
  }
  peer_has_ = bits;
  if (all) {
    picker.add_seed();
  } else {
    picker.add_availability(bits);
  }
  reveal_pieces();
  // Counted once per bitfield; HAVEs and our own passed pieces adjust it in O(1).
  wanted_pieces_ = 0;
  for (std::int32_t p = 0; p < picker.num_pieces(); ++p) {
    const PieceIndex piece(p);
    if (bits[static_cast<std::size_t>(p)] && !picker.have(piece) &&
        picker.piece_priority(piece) > 0) {
      ++wanted_pieces_;
    }
  }
  update_interest();
}

void PeerConnection::update_interest() {
  const bool interested = wanted_pieces_ > 0;
  if (interested == am_interested_) return;
  am_interested_ = interested;
  if (interested) {
    send(wire::Interested{});
  } else {
    send(wire::NotInterested{});
  }
}

void PeerConnection::on_piece_passed(PieceIndex piece) {
  if (handshake_done_ && peer_has_[static_cast<std::size_t>(piece.value())] && wanted_pieces_ > 0) {
    --wanted_pieces_;
    update_interest();
  }
  // Two seeds have nothing to say to each other.
  if (!torrent_.need_data() && peer_is_seed_) close("both sides are seeds");
}

void PeerConnection::handle_block(const wire::Piece& piece) {
  // One block, or a run of whole blocks answering one request for the run: taken block by block,
  // and the blocks still needed go to the disk in one write per consecutive stretch.
  const auto& geometry = torrent_.geometry();
  if (piece.offset % kBlockSize != 0) return;  // not something we asked for: ignore
  BlockRef block{piece.piece, static_cast<int>(piece.offset / kBlockSize)};
  std::optional<BlockRef> stretch;  // first block of the stretch being collected
  std::size_t stretch_at = 0;
  const auto write_stretch = [&](std::size_t end) {
    if (!stretch) return;
    torrent_.write_blocks(*stretch,
                          decoder_.share(piece.block.substr(stretch_at, end - stretch_at)));
    stretch.reset();
  };
  std::size_t at = 0;
  while (at < piece.block.size() && block.block < geometry.blocks_in_piece(piece.piece) &&
         !closed_) {
    const auto length = static_cast<std::size_t>(geometry.block_length(block));
    if (at + length > piece.block.size()) break;  // not whole blocks: ignore the rest
    if (receive_block(block, static_cast<std::int64_t>(length))) {
      if (!stretch) {
        stretch = block;
        stretch_at = at;
      }
    } else {
      write_stretch(at);
    }
    at += length;
    ++block.block;
  }
  write_stretch(at);  // booked blocks are written even if the connection closed meanwhile
}

bool PeerConnection::receive_block(BlockRef block, std::int64_t bytes) {
  auto it = std::find_if(requests_.begin(), requests_.end(),
                         [&](const Outstanding& o) { return o.block == block; });
  if (it == requests_.end()) return false;  // not asked for (e.g. after we cancelled it)
  const auto waited = Clock::now() - it->sent;
  requests_.erase(it);
  last_block_at_ = Clock::now();
  pipeline_.on_block_received(bytes, last_block_at_, waited);
  downloaded_ += bytes;
  if (torrent_.picker().is_block_received(block)) return false;  // end game: another was first
  torrent_.book_block(*this, block, bytes);
  return true;
}

void PeerConnection::handle_request(const wire::Request& request) {
  const bool refuse = am_choking_ || !torrent_.picker().have(request.piece) ||
                      upload_queue_.size() >= kMaxQueuedUploads;
  if (refuse) {
    if (supports_fast_) send(wire::Reject{request.piece, request.offset, request.length});
    return;
  }
  upload_queue_.push_back(request);
}

void PeerConnection::handle_extended(const wire::Extended& extended) {
  if (extended.id == wire::kOurUtMetadataId) return handle_metadata_request(extended.payload);
  if (extended.id == wire::kOurUtPexId) return handle_pex(extended.payload);
  if (extended.id != wire::kExtensionHandshakeId) return;
  auto handshake = wire::parse_extension_handshake(extended.payload);
  if (!handshake) return;  // lenient: the extension protocol is optional
  their_ut_metadata_id_ = handshake->id_of(wire::kUtMetadataName);
  their_ut_pex_id_ = handshake->id_of(wire::kUtPexName);
  if (handshake->p) their_listen_port_ = *handshake->p;
  if (handshake->reqq) pipeline_.set_peer_reqq(*handshake->reqq);
  // Another starling reads uTP datagrams whole, however large (see net/path_mtu.hpp).
  // It also takes a request for a run of blocks (its decoder accepts blocks up to 128 KiB).
  if (handshake->v.starts_with("starling/")) {
    stream_->peer_reads_large_datagrams();
    peer_takes_block_runs_ = true;
  }
}

void PeerConnection::handle_metadata_request(std::string_view payload) {
  const std::string& info = torrent_.info().info_bytes;
  if (!their_ut_metadata_id_ || torrent_.info().is_private || info.empty()) return;
  auto message = wire::parse_metadata_message(payload);
  if (!message || message->type != wire::MetadataMessageType::request) return;
  const auto size = static_cast<std::int64_t>(info.size());
  const std::int64_t offset = std::int64_t{message->piece} * wire::kMetadataPieceSize;
  // A bounded reply per request, and only while the send buffer has room: a peer cannot make
  // us queue megabytes of metadata.
  if (message->piece >= wire::metadata_pieces(size) ||
      outbox_.size() + writing_.size() >= torrent_.settings().send_high_water) {
    send(wire::Extended{*their_ut_metadata_id_, wire::encode_metadata_reject(message->piece)});
    return;
  }
  const auto length = std::min(wire::kMetadataPieceSize, size - offset);
  send(wire::Extended{
      *their_ut_metadata_id_,
      wire::encode_metadata_data(message->piece, size,
                                 std::string_view(info).substr(static_cast<std::size_t>(offset),
                                                               static_cast<std::size_t>(length)))});
}

std::optional<tcp::endpoint> PeerConnection::listen_endpoint() const {
  if (outgoing_) return endpoint_;
  if (their_listen_port_ != 0) return tcp::endpoint(endpoint_.address(), their_listen_port_);
  return std::nullopt;
}

void PeerConnection::handle_pex(std::string_view payload) {
  if (torrent_.info().is_private) return;
  const auto now = Clock::now();
  // BEP 11 allows one message a minute; a peer flooding us is not listened to.
  if (last_pex_received_ && now - *last_pex_received_ < kMinPexGap) return;
  auto message = wire::parse_pex(payload);
  if (!message) return;
  last_pex_received_ = now;
  std::vector<tcp::endpoint> peers;
  for (const auto& p : message->added) {
    if (p.v6) {
      boost::asio::ip::address_v6::bytes_type bytes;
      std::copy_n(p.ip.begin(), bytes.size(), bytes.begin());
      peers.emplace_back(boost::asio::ip::address_v6(bytes), p.port);
    } else {
      peers.emplace_back(boost::asio::ip::address_v4({p.ip[0], p.ip[1], p.ip[2], p.ip[3]}), p.port);
    }
  }
  if (!peers.empty()) torrent_.on_pex_peers(*this, peers);
}

void PeerConnection::send_pex(const std::vector<tcp::endpoint>& connected, Clock::time_point now) {
  if (closed_ || !handshake_done_ || !their_ut_pex_id_ || now < next_pex_at_) return;
  const auto self = listen_endpoint();
  std::vector<wire::PexPeer> current;
  for (const auto& endpoint : connected) {
    if (self && endpoint == *self) continue;
    wire::PexPeer p;
    p.port = endpoint.port();
    if (endpoint.address().is_v4()) {
      const auto b = endpoint.address().to_v4().to_bytes();
      std::copy(b.begin(), b.end(), p.ip.begin());
    } else {
      p.v6 = true;
      const auto b = endpoint.address().to_v6().to_bytes();
      std::copy(b.begin(), b.end(), p.ip.begin());
    }
    current.push_back(p);
  }
  auto message = pex_told_.next(current);
  if (!message) return;  // nothing new: look again next tick
  send(wire::Extended{*their_ut_pex_id_, wire::encode_pex(*message)});
  next_pex_at_ = now + kPexInterval;
  flush();
}

void PeerConnection::request_more() {
  if (closed_ || !handshake_done_ || peer_choking_ || !am_interested_) return;
  if (!torrent_.accepting_blocks()) return;
  const int want = pipeline_.requests_to_send();
  if (want <= 0) return;
  // Another starling gets consecutive blocks of a piece as one request, answered by one PIECE
  // message: over loopback, 128 KiB messages instead of 16 KiB ones halve the kernel's CPU per
  // GiB at both ends (fewer sends, fewer and larger segments).
  const bool runs = peer_takes_block_runs_ && torrent_.settings().request_block_runs;
  const std::int64_t max_run = runs ? wire::WireLimits{}.max_block_length : 0;
  const auto blocks = torrent_.picker().pick(peer_has_, want, key_);
  const auto now = Clock::now();
  const auto& geometry = torrent_.geometry();
  for (std::size_t i = 0; i < blocks.size();) {
    std::size_t n = 1;
    std::int64_t length = geometry.block_length(blocks[i]);
    while (i + n < blocks.size() && blocks[i + n].piece == blocks[i].piece &&
           blocks[i + n].block == blocks[i].block + static_cast<int>(n) &&
           length + geometry.block_length(blocks[i + n]) <= max_run) {
      length += geometry.block_length(blocks[i + n]);
      ++n;
    }
    send(wire::Request{blocks[i].piece,
                       static_cast<std::uint32_t>(geometry.block_offset(blocks[i])),
                       static_cast<std::uint32_t>(length)});
    for (std::size_t k = 0; k < n; ++k) requests_.push_back(Outstanding{blocks[i + k], now, n > 1});
    i += n;
  }
  if (!blocks.empty()) pipeline_.on_requests_sent(static_cast<int>(blocks.size()), now);
}

void PeerConnection::cancel_block(BlockRef block) {
  auto it = std::find_if(requests_.begin(), requests_.end(),
                         [&](const Outstanding& o) { return o.block == block; });
  if (it == requests_.end()) return;
  const bool in_run = it->in_run;
  requests_.erase(it);
  pipeline_.on_requests_dropped(1, Clock::now());
  if (in_run) return;  // part of a run cannot be cancelled: the run comes whole, this block unused
  const auto& geometry = torrent_.geometry();
  send(wire::Cancel{block.piece, static_cast<std::uint32_t>(geometry.block_offset(block)),
                    static_cast<std::uint32_t>(geometry.block_length(block))});
  flush();
}

void PeerConnection::drop_requests() {
  for (const auto& o : requests_) torrent_.picker().abort_request(o.block, key_);
  if (!requests_.empty()) {
    pipeline_.on_requests_dropped(static_cast<int>(requests_.size()), Clock::now());
  }
  requests_.clear();
}

void PeerConnection::serve_uploads() {
  const auto& settings = torrent_.settings();
  bool try_cache = true;
  while (!closed_ && !upload_queue_.empty() &&
         outbox_.size() + writing_.size() < settings.send_high_water) {
    const wire::Request request = upload_queue_.front();
    if (!take_upload(request.length)) break;  // a timer calls us again
    if (try_cache && send_cached_block(request)) {
      upload_queue_.pop_front();
      continue;
    }
    try_cache = false;  // the rest of this batch is likely not cached either
    if (disk_reads_ >= settings.max_disk_reads_per_peer) {
      if (!torrent_.upload_limits().unlimited()) upload_credit_ += request.length;
      break;
    }
    upload_queue_.pop_front();
    ++disk_reads_;
    torrent_.disk().async_read(
        torrent_.store(), request.piece, request.offset, request.length,
        [self = shared_from_this(), request](Expected<std::string> data) {
          --self->disk_reads_;
          if (self->closed_) return;
          if (!data) return self->close("cannot read block: " + data.error().message());
          if (self->am_choking_) return;
          wire::encode_piece_header(self->outbox_.bytes(), request.piece, request.offset,
                                    request.length);
          self->outbox_.bytes() += *data;
          self->count_sent_block(request.length);
          self->serve_uploads();
          self->flush();
        });
  }
}

bool PeerConnection::take_upload(std::int64_t bytes) {
  // The torrent's bucket and (unless the torrent opts out) the session's.
  policy::TransferLimits limits = torrent_.upload_limits();
  if (limits.unlimited()) {
    upload_credit_ = 0;  // a limit set later starts from a clean slate
    return true;
  }
  if (upload_waiting_) return false;
  const auto now = Clock::now();
  // Partial grants add up, so a block goes out once its whole length has been granted.
  if (upload_credit_ < bytes) upload_credit_ += limits.grant(bytes - upload_credit_, now);
  if (upload_credit_ >= bytes) {
    upload_credit_ -= bytes;
    return true;
  }
  upload_waiting_ = true;
  upload_timer_.expires_at(policy::wake_time(now + limits.time_until(bytes - upload_credit_, now),
                                             policy::kDefaultWakeTick));
  upload_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    self->upload_waiting_ = false;
    if (ec || self->closed_) return;
    self->serve_uploads();
    self->flush();
  });
  return false;
}

bool PeerConnection::send_cached_block(const wire::Request& request) {
  // TCP: the block goes from the page cache to the socket by sendfile, with no copy of ours.
  if (stream_->sends_files()) {
    slices_.clear();
    if (torrent_.store()->cached_slices(request.piece, request.offset, request.length, slices_)) {
      wire::encode_piece_header(outbox_.bytes(), request.piece, request.offset, request.length);
      for (FileSlice& slice : slices_) outbox_.append_file(std::move(slice));
      count_sent_block(request.length);
      return true;
    }
  }
  std::string& bytes = outbox_.bytes();
  const std::size_t message_at = bytes.size();
  wire::encode_piece_header(bytes, request.piece, request.offset, request.length);
  const std::size_t block_at = bytes.size();
  bytes.resize(block_at + request.length);
  if (!torrent_.store()->read_cached(request.piece, request.offset,
                                     std::span<char>(bytes.data() + block_at, request.length))) {
    bytes.resize(message_at);
    return false;
  }
  count_sent_block(request.length);
  return true;
}

void PeerConnection::count_sent_block(std::uint32_t length) {
  uploaded_ += length;
  torrent_.count_upload(length);
}

void PeerConnection::send_have(PieceIndex piece) {
  if (!handshake_done_ || closed_) return;
  send(wire::Have{piece});
  flush();
}

policy::SuperSeed* PeerConnection::super_seed_in_effect() {
  return super_seeding_ ? torrent_.super_seed() : nullptr;
}

void PeerConnection::reveal_pieces() {
  policy::SuperSeed* super_seed = super_seed_in_effect();
  if (super_seed == nullptr || closed_) return;
  if (am_choking_) {
    // Enough to make it interested, so the choker may pick it; its share waits for the unchoke.
    if (const auto piece = super_seed->tease(key_, peer_has_)) send(wire::Have{*piece});
  } else {
    for (PieceIndex piece : super_seed->top_up(key_, peer_has_)) send(wire::Have{piece});
  }
  flush();
}

void PeerConnection::set_choking(bool choke) {
  if (choke == am_choking_ || closed_) return;
  am_choking_ = choke;
  if (policy::SuperSeed* super_seed = super_seed_in_effect()) {
    // A choked peer cannot fetch what it was told of: let another carry those pieces.
    if (choke) {
      super_seed->release(key_, peer_has_);
    } else {
      reveal_pieces();
    }
  }
  if (choke) {
    send(wire::Choke{});
    if (supports_fast_) {
      for (const auto& r : upload_queue_) send(wire::Reject{r.piece, r.offset, r.length});
    }
    upload_queue_.clear();
  } else {
    send(wire::Unchoke{});
  }
  flush();
}

void PeerConnection::tick(Clock::time_point now) {
  if (closed_) return;
  const auto& settings = torrent_.settings();
  if (!handshake_done_) {
    if (now - connected_at_ > settings.connect_timeout) close("timed out connecting");
    return;
  }
  if (now - last_received_ > settings.inactivity_timeout) return close("inactive");
  rates_.sample(now, downloaded_, uploaded_);
  // Requests unanswered for too long go back to the picker for other peers.
  int expired = 0;
  std::erase_if(requests_, [&](const Outstanding& o) {
    if (now - o.sent < settings.request_timeout) return false;
    torrent_.picker().abort_request(o.block, key_);
    ++expired;
    return true;
  });
  if (expired > 0) pipeline_.on_requests_dropped(expired, now);
  pipeline_.update(now);
  if (now - last_sent_ > settings.keepalive_interval) send(wire::KeepAlive{});
  request_more();
  serve_uploads();
  flush();
}

void PeerConnection::send(const wire::Message& message) {
  wire::encode(outbox_.bytes(), message);
}

void PeerConnection::flush() {
  if (write_in_flight_ || outbox_.empty() || closed_) return;
  writing_.swap(outbox_);
  outbox_.clear();
  write_in_flight_ = true;
  stream_->async_write(
      writing_, [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
        self->write_in_flight_ = false;
        if (self->closed_) return;
        if (ec) return self->close("send: " + ec.message());
        self->writing_.clear();
        self->last_sent_ = Clock::now();
        self->serve_uploads();
        self->flush();
      });
}

void PeerConnection::close(const std::string& reason) {
  if (closed_) return;
  closed_ = true;
  stream_->close();
  upload_timer_.cancel();
  download_timer_.cancel();
  drop_requests();
  if (policy::SuperSeed* super_seed = super_seed_in_effect()) {
    super_seed->remove_peer(key_, peer_has_);
  }
  if (availability_counted_) {
    if (peer_is_seed_) {
      torrent_.picker().peer_disconnected(key_, Bitfield(peer_has_.size()));
      torrent_.picker().remove_seed();
    } else {
      torrent_.picker().peer_disconnected(key_, peer_has_);
    }
  }
  torrent_.on_peer_closed(*this, reason);
}

}  // namespace starling::session
