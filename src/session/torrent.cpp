#include "session/torrent.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <random>

#include "session/disk_io.hpp"
#include "session/session.hpp"
#include "storage/resume_data.hpp"

namespace starling::session {

Torrent::Torrent(Session& session, TorrentInfo info, std::filesystem::path save_dir,
                 TorrentOptions options, const Bitfield& verified)
    : session_(session),
      info_(std::move(info)),
      save_dir_(std::move(save_dir)),
      options_(std::move(options)),
      store_(std::make_shared<FileStore>(info_.layout, save_dir_, OpenMode::read_write,
                                         session.settings().storage)),
      geometry_(info_.layout.geometry()),
      picker_(info_.layout,
              [&] {
                policy::PickerSettings s = session.settings().picker;
                s.sequential = s.sequential || options_.sequential;
                return s;
              }()),
      choker_(session.settings().choker),
      timer_(session.io()),
      upload_bucket_(0, Clock::now(), session.settings().rate_limit_bucket),
      download_bucket_(0, Clock::now(), session.settings().rate_limit_bucket),
      smart_ban_(session.settings().max_bad_pieces),
      last_tick_(Clock::now()),
      last_resume_save_(Clock::now()) {
  if (!options_.file_priorities.empty()) {
    (void)picker_.set_file_priorities(info_.layout, options_.file_priorities);
  }
  for (std::size_t i = 0; i < verified.size(); ++i) {
    if (verified[i]) picker_.we_have(PieceIndex(static_cast<std::int32_t>(i)));
  }
  if (auto s = store_->create_empty_files(); !s) log("cannot create files: " + s.error().message());
  complete_at_start_ = picker_.is_finished();
  if (options_.super_seed) {
    policy::SuperSeedSettings super_seed = session.settings().super_seed;
    super_seed.seed = std::random_device{}();
    super_seed_.emplace(geometry_.num_pieces, geometry_.piece_length, super_seed);
  }
  schedule_tick();
  start_trackers();
  for (const auto& url : info_.web_seeds) add_web_seed(url);
  for (const auto& url : options_.web_seeds) add_web_seed(url);
}

void Torrent::add_web_seed(const std::string& url) {
  if (stopped_) return;
  auto parsed = webseed::parse_http_url(url);
  if (!parsed) return log("ignoring web seed: " + parsed.error().message());
  for (const auto& [key, seed] : web_seeds_) {
    if (seed->status().url == parsed->text()) return;  // listed twice
  }
  auto seed = std::make_shared<WebSeedConnection>(*this, next_key(), std::move(*parsed));
  web_seeds_[seed->key()] = seed;
  picker_.add_seed();
  // Started from the event loop: the constructor may still be running (Torrent's).
  boost::asio::post(session_.io(), [weak = std::weak_ptr<WebSeedConnection>(seed)] {
    if (auto s = weak.lock()) s->start();
  });
}

void Torrent::on_web_seed_closed(WebSeedConnection& seed, const std::string& reason) {
  auto it = web_seeds_.find(seed.key());
  if (it == web_seeds_.end()) return;
  log(seed.name() + " dropped: " + reason);
  auto keep = std::move(it->second);
  web_seeds_.erase(it);
  picker_.remove_seed();
  dropped_web_seeds_.push_back(keep->status());
  boost::asio::post(session_.io(), [keep] {});
  request_more_everywhere();
}

void Torrent::request_more_everywhere() {
  if (stopped_) return;
  for (auto& peer : snapshot()) peer->request_more();
  std::vector<std::shared_ptr<WebSeedConnection>> seeds;
  for (const auto& [key, seed] : web_seeds_) seeds.push_back(seed);
  for (auto& seed : seeds) seed->request_more();
}

void Torrent::start_trackers() {
  if (info_.trackers.empty()) return;
  trackers_ = std::make_unique<tracker::TrackerClient>(
      session_.io(), info_.trackers, info_.info_hash, session_.peer_id(), session_.listen_port(),
      [this] {
        const TorrentStatus s = status();
        return tracker::TransferTotals{uploaded_, downloaded_, s.wanted_bytes - s.done_bytes};
      },
      [this](const std::vector<tracker::PeerAddress>& peers) { on_tracker_peers(peers); },
      settings().trackers);
  trackers_->log = [this](const std::string& line) { log(line); };
  trackers_->start();
}

void Torrent::set_rate_limits(std::int64_t upload_rate, std::int64_t download_rate,
                              bool honors_session_limits) {
  const auto now = Clock::now();
  upload_bucket_.set_rate(upload_rate, now);
  download_bucket_.set_rate(download_rate, now);
  honors_session_limits_ = honors_session_limits;
}

policy::TransferLimits Torrent::upload_limits() {
  return {honors_session_limits_ ? &session_.upload_bucket() : nullptr, &upload_bucket_};
}

policy::TransferLimits Torrent::download_limits() {
  return {honors_session_limits_ ? &session_.download_bucket() : nullptr, &download_bucket_};
}

void Torrent::reannounce() {
  if (trackers_ && !stopped_) trackers_->reannounce();
}

void Torrent::on_tracker_peers(const std::vector<tracker::PeerAddress>& peers) {
  for (const auto& peer : peers) {
    if (peer.port == 0) continue;
    const auto& ip = peer.ip.unmapped();
    boost::asio::ip::address address;
    if (ip.v6) {
      boost::asio::ip::address_v6::bytes_type bytes;
      std::copy_n(ip.bytes.begin(), bytes.size(), bytes.begin());
      address = boost::asio::ip::address_v6(bytes);
    } else {
      address = boost::asio::ip::address_v4({ip.bytes[0], ip.bytes[1], ip.bytes[2], ip.bytes[3]});
    }
    // Ourselves, as a tracker on this host may list us.
    if ((address.is_loopback() || address.is_unspecified()) &&
        peer.port == session_.listen_port()) {
      continue;
    }
    add_peer(tcp::endpoint(address, peer.port));
  }
}

void Torrent::announce_stopped(std::function<void()> done) {
  if (!trackers_) {
    boost::asio::post(session_.io(), std::move(done));
    return;
  }
  trackers_->stop(std::move(done));
}

Torrent::~Torrent() {
  try {
    stop();
  } catch (...) {  // NOLINT(bugprone-empty-catch): nothing left to report at teardown
  }
}

// The disk pool is the Session's; a const Torrent may still queue work on it.
DiskIo& Torrent::disk() const {
  return session_.disk();
}
const SessionSettings& Torrent::settings() const {
  return session_.settings();
}

void Torrent::log(const std::string& line) const {
  session_.log(info_.name + ": " + line);
}

wire::Handshake Torrent::our_handshake() const {
  wire::Handshake h;
  h.info_hash = info_.info_hash;
  h.peer_id = session_.peer_id();
  h.set_supports_extensions();
  h.set_supports_fast();
  // BEP 5: we run a DHT node (on the peer port) and send PORT to peers that do too.
  if (session_.dht() != nullptr && !info_.is_private) h.set_supports_dht();
  return h;
}

TorrentStatus Torrent::status() const {
  TorrentStatus s;
  for (std::int32_t p = 0; p < info_.num_pieces(); ++p) {
    const PieceIndex piece(p);
    if (picker_.piece_priority(piece) == 0 && !picker_.have(piece)) continue;
    const auto size = info_.layout.piece_size(piece);
    s.wanted_bytes += size;
    if (picker_.have(piece)) s.done_bytes += size;
  }
  s.downloaded = downloaded_;
  s.uploaded = uploaded_;
  s.down_rate = down_rate_;
  s.up_rate = up_rate_;
  for (const auto& [key, peer] : peers_) {
    if (!peer->connected()) continue;
    ++s.peers;
    if (peer->rates().received_per_second() > 0) ++s.peers_sending;
    if (!peer->am_choking() && peer->peer_interested()) ++s.peers_receiving;
  }
  s.pieces_passed = pieces_passed_;
  s.pieces_failed = pieces_failed_;
  s.wasted_bytes = wasted_bytes_;
  s.finished = finished();
  s.downloaded_from = closed_downloaded_from_;
  for (const auto& [key, peer] : peers_) {
    if (peer->downloaded() > 0)
      s.downloaded_from[peer->endpoint().address().to_string()] += peer->downloaded();
  }
  if (trackers_) s.tracker_error = trackers_->last_error();
  for (const auto& [key, seed] : web_seeds_) s.web_seeds.push_back(seed->status());
  s.web_seeds.insert(s.web_seeds.end(), dropped_web_seeds_.begin(), dropped_web_seeds_.end());
  return s;
}

std::vector<PeerSummary> Torrent::peer_summaries() const {
  std::vector<PeerSummary> out;
  for (const auto& [key, peer] : peers_) {
    if (!peer->connected()) continue;
    PeerSummary p;
    p.endpoint = peer->endpoint();
    p.incoming = !peer->outgoing();
    p.utp = peer->transport() == "utp";
    p.seed = peer->is_seed();
    p.down_rate = peer->rates().received_per_second();
    p.up_rate = peer->rates().sent_per_second();
    p.unchoked_by_us = !peer->am_choking();
    p.interested_in_us = peer->peer_interested();
    p.we_are_interested = peer->am_interested();
    // Azureus-style ids: '-', two letters, four version characters, '-'.
    const auto& id = peer->their_peer_id();
    if (id[0] == '-' && id[7] == '-') {
      p.client = std::string(id.begin() + 1, id.begin() + 3) + " " +
                 std::string(id.begin() + 3, id.begin() + 7);
      for (char& c : p.client) {
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) c = '?';
      }
    }
    out.push_back(std::move(p));
  }
  return out;
}

void Torrent::add_peer(const tcp::endpoint& endpoint) {
  if (stopped_ || banned_.count(endpoint.address()) != 0) return;
  auto [it, inserted] = known_.try_emplace(endpoint);
  if (!inserted && (it->second.connected || it->second.redundant)) return;
  it->second.connected = true;
  auto peer = std::make_shared<PeerConnection>(
      *this, next_key(), session_.make_outgoing_stream(it->second.utp_failed), endpoint);
  peers_[peer->key()] = peer;
  peer->start();
}

void Torrent::attach(std::unique_ptr<PeerStream> stream, const wire::Handshake& their_handshake) {
  const auto remote = stream->remote_endpoint();
  if (stopped_ || remote.port() == 0 || banned_.count(remote.address()) != 0) return;
  auto peer =
      std::make_shared<PeerConnection>(*this, next_key(), std::move(stream), their_handshake);
  peers_[peer->key()] = peer;
  peer->start();
}

void Torrent::stop() {
  if (stopped_) return;
  stopped_ = true;
  timer_.cancel();
  auto peers = std::move(peers_);
  for (auto& [key, peer] : peers) peer->close("torrent stopped");
  auto seeds = std::move(web_seeds_);
  for (auto& [key, seed] : seeds) seed->close("torrent stopped");
  save_resume();
}

bool Torrent::accepting_blocks() const {
  return disk().queued_write_bytes() < settings().disk_write_high_water;
}

void Torrent::book_block(PeerConnection& from, BlockRef block, std::int64_t bytes) {
  book_block(from.key(), from.address(), block, bytes);
}

void Torrent::on_block(policy::PeerKey from, const std::string& sender, BlockRef block,
                       SharedBytes data) {
  book_block(from, sender, block, static_cast<std::int64_t>(data.size()));
  write_blocks(block, std::move(data));
}

void Torrent::book_block(policy::PeerKey from, const std::string& sender, BlockRef block,
                         std::int64_t bytes) {
  downloaded_ += bytes;
  for (policy::PeerKey other : picker_.on_block_received(block, from)) {
    if (auto it = peers_.find(other); it != peers_.end()) it->second->cancel_block(block);
    if (auto it = web_seeds_.find(other); it != web_seeds_.end()) {
      auto seed = it->second;  // cancel_block may drop it from web_seeds_
      seed->cancel_block(block);
    }
  }
  smart_ban_.on_block(block.piece, block.block, sender, geometry_.blocks_in_piece(block.piece));
}

void Torrent::write_blocks(BlockRef first, SharedBytes data) {
  const PieceIndex piece = first.piece;
  ++pending_writes_[piece];
  disk().async_write(store_, partial_pieces_, piece, geometry_.block_offset(first), std::move(data),
                     [this, piece, alive = std::weak_ptr<FileStore>(store_)](const Status& s) {
                       if (alive.expired() || stopped_) return;
                       if (!s) return fail("disk write failed: " + s.error().message());
                       if (--pending_writes_[piece] == 0) {
                         pending_writes_.erase(piece);
                         if (picker_.is_piece_complete(piece) && !picker_.have(piece)) {
                           hash_piece(piece);
                         }
                       }
                     });
}

void Torrent::hash_piece(PieceIndex piece) {
  if (!hashing_.insert(piece).second) return;
  disk().async_hash(
      store_, partial_pieces_, piece,
      [this, piece, alive = std::weak_ptr<FileStore>(store_)](const Expected<Sha1Digest>& digest) {
        if (alive.expired() || stopped_) return;
        on_hash(piece, digest);
      });
}

void Torrent::on_hash(PieceIndex piece, const Expected<Sha1Digest>& digest) {
  if (!digest) {
    hashing_.erase(piece);
    return fail("piece " + std::to_string(piece.value()) + ": " + digest.error().message());
  }
  if (*digest == info_.piece_hashes[static_cast<std::size_t>(piece.value())]) {
    hashing_.erase(piece);
    piece_passed(piece);
  } else {
    // Stays in hashing_ (so not re-hashed, and the picker keeps it) until its blocks are hashed.
    piece_failed(piece);
  }
}

void Torrent::piece_passed(PieceIndex piece) {
  ++pieces_passed_;
  picker_.on_piece_passed(piece);
  for (auto& peer : snapshot()) peer->send_have(piece);
  for (auto& peer : snapshot()) peer->on_piece_passed(piece);
  if (smart_ban_.had_failed(piece)) {
    // A good copy at last: compare it block by block with the bad ones to find who lied.
    disk().async_hash_blocks(
        store_, piece, kBlockSize,
        [this, piece,
         alive = std::weak_ptr<FileStore>(store_)](Expected<std::vector<Sha1Digest>> blocks) {
          if (alive.expired() || stopped_) return;
          if (blocks) {
            ban(smart_ban_.on_piece_passed(piece, *blocks), "sent a corrupt block");
          } else {
            smart_ban_.forget(piece);
          }
        });
  } else {
    smart_ban_.forget(piece);
  }
  check_finished();
  request_more_everywhere();
}

void Torrent::piece_failed(PieceIndex piece) {
  log("piece " + std::to_string(piece.value()) + " failed the hash check");
  ++pieces_failed_;
  wasted_bytes_ += info_.layout.piece_size(piece);
  // Hash the bad copy's blocks before any block of the piece is downloaded again.
  disk().async_hash_blocks(
      store_, piece, kBlockSize,
      [this, piece,
       alive = std::weak_ptr<FileStore>(store_)](Expected<std::vector<Sha1Digest>> blocks) {
        if (alive.expired() || stopped_) return;
        hashing_.erase(piece);
        if (blocks) ban(smart_ban_.on_piece_failed(piece, *blocks), "sent corrupt pieces");
        picker_.on_piece_failed(piece);
        request_more_everywhere();
      });
}

void Torrent::ban(const std::vector<std::string>& addresses, const std::string& why) {
  for (const auto& text : addresses) {
    // A web seed is named by its URL, not an address: convicted, it is dropped.
    for (const auto& [key, seed] : web_seeds_) {
      if (seed->name() == text) {
        log(fmt::format("{}: {}", text, why));
        auto keep = seed;
        keep->close(why);
        break;
      }
    }
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(text, ec);
    if (ec || !banned_.insert(address).second) continue;
    log(fmt::format("banning {}: {}", text, why));
    for (auto& peer : snapshot()) {
      if (peer->endpoint().address() == address) peer->close("banned: " + why);
    }
  }
}

void Torrent::check_finished() {
  // O(1): this runs after every passed piece.
  if (finished_reported_ || !finished()) return;
  finished_reported_ = true;
  save_resume();
  if (trackers_ && !complete_at_start_) trackers_->completed();
  if (on_finished) on_finished();
}

std::vector<std::shared_ptr<PeerConnection>> Torrent::snapshot() const {
  std::vector<std::shared_ptr<PeerConnection>> peers;
  peers.reserve(peers_.size());
  for (const auto& [key, peer] : peers_) peers.push_back(peer);
  return peers;
}

void Torrent::fail(const std::string& reason) {
  log(reason);
  if (on_error) on_error(reason);
}

bool Torrent::admit(PeerConnection& fresh) {
  const auto& id = fresh.their_peer_id();
  for (auto& [key, other] : peers_) {
    if (other.get() == &fresh || !other->connected() || other->closed()) continue;
    if (other->their_peer_id() != id) continue;
    // Both sides keep the connection opened by the side with the lower peer id, so they agree
    // without a word; one connection per peer keeps tit-for-tat (rates, unchokes) on one line.
    const bool keep_outgoing = session_.peer_id() < id;
    PeerConnection& drop = fresh.outgoing() == keep_outgoing ? *other : fresh;
    const bool drop_fresh = &drop == &fresh;
    const bool dialled = drop.outgoing();
    const tcp::endpoint endpoint = drop.endpoint();
    if (!drop_fresh) drop.close("duplicate connection to this peer");
    // Marked after the close: closing a connection clears the marks of a peer it leaves us
    // without (on_peer_closed), and the survivor here has not finished its handshake yet.
    if (dialled) {
      if (auto it = known_.find(endpoint); it != known_.end()) {
        it->second.redundant = true;
        it->second.peer_id = id;
      }
    }
    return !drop_fresh;
  }
  return true;
}

void Torrent::on_peer_connected(PeerConnection& peer) {
  log("connected to " + peer.endpoint().address().to_string() + ":" +
      std::to_string(peer.endpoint().port()));
}

void Torrent::on_peer_closed(PeerConnection& peer, const std::string& reason) {
  if (peer.downloaded() > 0) {
    closed_downloaded_from_[peer.endpoint().address().to_string()] += peer.downloaded();
  }
  log("peer " + peer.endpoint().address().to_string() + ":" +
      std::to_string(peer.endpoint().port()) + " closed: " + reason);
  if (peer.connected()) {
    // The last connection to this peer is gone: dial it again if we had stopped because it
    // had dialled us.
    const auto& id = peer.their_peer_id();
    const bool still_connected = std::any_of(peers_.begin(), peers_.end(), [&](const auto& p) {
      return p.second.get() != &peer && p.second->connected() && !p.second->closed() &&
             p.second->their_peer_id() == id;
    });
    if (!still_connected) {
      for (auto& [endpoint, known] : known_) {
        if (known.redundant && known.peer_id == id) {
          known.redundant = false;
          known.retry_at = Clock::now() + settings().reconnect_delay;
        }
      }
    }
  }
  if (peer.outgoing()) {
    auto it = known_.find(peer.endpoint());
    if (it != known_.end()) {
      it->second.connected = false;
      it->second.retry_at = Clock::now() + settings().reconnect_delay;
      if (peer.transport() == "utp" && !peer.connected() && settings().enable_tcp) {
        // uTP never got through (no uTP there, or UDP filtered): TCP now, through the tick's
        // own redial, posted: this runs inside the failed connection's callback, and add_peer
        // would replace its entry in peers_ under it.
        it->second.utp_failed = true;
        it->second.retry_at = Clock::now();
        boost::asio::post(session_.io(), [this, life = std::weak_ptr<int>(life_)] {
          if (!life.expired() && !stopped_) reconnect_peers(Clock::now());
        });
      }
    }
  }
  // The connection object may be in the middle of a callback: release it after this turn.
  auto it = peers_.find(peer.key());
  if (it == peers_.end()) return;
  auto keep = std::move(it->second);
  peers_.erase(it);
  boost::asio::post(session_.io(), [keep] {});
  request_more_everywhere();
}

void Torrent::schedule_tick() {
  timer_.expires_after(settings().tick);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || stopped_) return;
    tick();
    schedule_tick();
  });
}

void Torrent::tick() {
  const auto now = Clock::now();
  const double seconds = std::chrono::duration<double>(now - last_tick_).count();
  if (seconds > 0) {
    // Exponential moving average over a few ticks: steady enough to read, quick to follow.
    constexpr double kWeight = 0.4;
    down_rate_ = (1 - kWeight) * down_rate_ +
                 kWeight * static_cast<double>(downloaded_ - last_downloaded_) / seconds;
    up_rate_ = (1 - kWeight) * up_rate_ +
               kWeight * static_cast<double>(uploaded_ - last_uploaded_) / seconds;
  }
  last_tick_ = now;
  last_downloaded_ = downloaded_;
  last_uploaded_ = uploaded_;
  for (auto& peer : snapshot()) peer->tick(now);
  std::vector<std::shared_ptr<WebSeedConnection>> seeds;
  for (const auto& [key, seed] : web_seeds_) seeds.push_back(seed);
  for (auto& seed : seeds) seed->tick(now);
  if (now >= next_rechoke_) {
    rechoke(true);
    next_rechoke_ = now + settings().choker.rechoke_interval;
  } else {
    rechoke(false);  // a slot freed by a peer that left or lost interest
  }
  reconnect_peers(now);
  exchange_peers(now);
  if (!options_.resume_file.empty() && now - last_resume_save_ > settings().resume_interval) {
    last_resume_save_ = now;
    save_resume();
  }
}

void Torrent::exchange_peers(Clock::time_point now) {
  if (info_.is_private) return;
  std::vector<tcp::endpoint> connected;
  for (const auto& [key, peer] : peers_) {
    if (!peer->connected() || peer->closed()) continue;
    if (auto endpoint = peer->listen_endpoint()) connected.push_back(*endpoint);
  }
  for (auto& peer : snapshot()) peer->send_pex(connected, now);
}

void Torrent::on_pex_peers(PeerConnection& from, const std::vector<tcp::endpoint>& peers) {
  log(fmt::format("{} peer(s) from PEX of {}", peers.size(), from.address()));
  for (const auto& peer : peers) {
    if ((peer.address().is_loopback() || peer.address().is_unspecified()) &&
        peer.port() == session_.listen_port()) {
      continue;  // ourselves
    }
    add_peer(peer);
  }
}

void Torrent::rechoke(bool full) {
  if (stopped_) return;
  std::vector<policy::ChokeCandidate> candidates;
  candidates.reserve(peers_.size());
  for (const auto& [key, peer] : peers_) {
    if (!peer->connected() || peer->closed()) continue;
    candidates.push_back(policy::ChokeCandidate{
        .key = key,
        .interested = peer->peer_interested(),
        .rate_from_peer = peer->rates().received_per_second(),
        .rate_to_peer = peer->rates().sent_per_second(),
        .total_from_peer = peer->downloaded(),
        .ever_unchoked_us = peer->ever_unchoked_us(),
        .connected_at = peer->connected_at(),
        .last_received = peer->last_block_at(),
        .unchoked = !peer->am_choking(),
    });
  }
  const auto now = Clock::now();
  const bool seeding = !need_data();
  const std::vector<policy::PeerKey> unchoke =
      full ? choker_.rechoke(candidates, seeding, now)
           : choker_.fill_free_slots(candidates, seeding, now);
  const std::set<policy::PeerKey> chosen(unchoke.begin(), unchoke.end());
  std::string unchoked_list;
  for (auto& peer : snapshot()) {
    if (!peer->connected()) continue;
    const bool choke = chosen.count(peer->key()) == 0;
    if (full && !choke) {
      unchoked_list +=
          fmt::format(" {}:{} ({:.0f} KiB/s from, {} KiB total)",
                      peer->endpoint().address().to_string(), peer->endpoint().port(),
                      peer->rates().received_per_second() / 1024, peer->downloaded() / 1024);
    }
    peer->set_choking(choke);
  }
  if (full)
    log(fmt::format("rechoke ({}): unchoked{}", seeding ? "seeding" : "leeching",
                    unchoked_list.empty() ? " nobody" : unchoked_list));
}

void Torrent::reconnect_peers(Clock::time_point now) {
  if (!need_data()) return;
  for (auto& [endpoint, known] : known_) {
    if (known.connected || known.redundant || now < known.retry_at) continue;
    add_peer(endpoint);
  }
}

void Torrent::save_resume() {
  if (options_.resume_file.empty() || resume_retired_) return;
  ResumeData resume;
  resume.info_hash = info_.info_hash;
  resume.have = picker_.have_pieces();
  const bool retire = options_.remove_resume_when_finished && finished_reported_;
  resume_retired_ = retire;
  disk().async_run(
      [store = store_, file = options_.resume_file, resume = std::move(resume),
       retire]() mutable -> Status {
        if (retire) {
          std::error_code ec;
          std::filesystem::remove(file, ec);
          return ok();
        }
        resume.files = stamp_files(store->layout(), store->download_dir());
        return starling::save_resume(file, resume);
      },
      [this, life = std::weak_ptr<int>(life_)](const Status& s) {
        if (!life.expired() && !s) log("cannot save resume data: " + s.error().message());
      });
}

}  // namespace starling::session
