// One torrent in a session: its files, its piece picker, its peers. Receives blocks from peers,
// writes them through the disk pool, hashes complete pieces and tells every peer (HAVE) when one
// passes; counts which peers sent pieces that failed and bans repeat offenders. Network thread.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/shared_bytes.hpp"
#include "metainfo/torrent_info.hpp"
#include "policy/choker.hpp"
#include "policy/piece_picker.hpp"
#include "policy/smart_ban.hpp"
#include "policy/super_seed.hpp"
#include "session/disk_io.hpp"
#include "session/peer_connection.hpp"
#include "session/settings.hpp"
#include "session/web_seed_connection.hpp"
#include "storage/file_store.hpp"
#include "tracker/tracker_client.hpp"

namespace starling::session {

class Session;
class DiskIo;

struct TorrentOptions {
  std::vector<int> file_priorities;  // one per file, 0 = skip; empty = every file
  bool sequential = false;
  std::filesystem::path resume_file;  // where to save progress; empty = nowhere
  // Delete the resume file once every wanted piece is verified (a one-shot download needs no
  // record of a finished job); otherwise keep saving it.
  bool remove_resume_when_finished = false;
  // BEP 19 web seeds beside the torrent's own url-list (--web-seed).
  std::vector<std::string> web_seeds;
  // BEP 16 initial seeding (policy::SuperSeed): while complete, tell each peer of a few pieces
  // at a time, so that this seed sends every piece once before any piece twice.
  bool super_seed = false;
};

struct TorrentStatus {
  std::int64_t wanted_bytes = 0;  // bytes of the wanted pieces
  std::int64_t done_bytes = 0;    // of those, verified
  std::int64_t downloaded = 0;    // payload received
  std::int64_t uploaded = 0;      // payload sent
  double down_rate = 0;           // bytes per second
  double up_rate = 0;
  int peers = 0;                   // connected (handshake done)
  int peers_sending = 0;           // of those, sent us payload over the last 20 s
  int peers_receiving = 0;         // unchoked by us and interested
  std::int64_t pieces_passed = 0;  // hash checks passed since the torrent started
  std::int64_t pieces_failed = 0;  // hash checks failed (the piece is fetched again)
  std::int64_t wasted_bytes = 0;   // payload of pieces that failed the hash
  // Payload received per peer address ("10.0.0.5"), closed connections included: where the
  // data came from (a deploy reports cross-rack traffic with it).
  std::map<std::string, std::int64_t> downloaded_from;
  bool finished = false;                 // every wanted piece verified on disk
  std::string tracker_error;             // the trackers' latest failure, empty once one answers
  std::vector<WebSeedStatus> web_seeds;  // every web seed, dropped ones included
};

// One connected peer as the daemon's RPC lists it.
struct PeerSummary {
  tcp::endpoint endpoint;
  bool incoming = false;
  bool utp = false;
  bool seed = false;
  double down_rate = 0;  // payload bytes/s from it (20 s window)
  double up_rate = 0;
  bool unchoked_by_us = false;
  bool interested_in_us = false;
  bool we_are_interested = false;
  std::string client;  // from its peer id ("-LT2080-" -> "LT 2080"), else empty
};

class Torrent {
 public:
  // `verified`: pieces already on disk and checked (resume or a hash check).
  Torrent(Session& session, TorrentInfo info, std::filesystem::path save_dir,
          TorrentOptions options, const Bitfield& verified);
  ~Torrent();
  Torrent(const Torrent&) = delete;
  Torrent& operator=(const Torrent&) = delete;

  const TorrentInfo& info() const { return info_; }
  TorrentStatus status() const;
  std::vector<PeerSummary> peer_summaries() const;
  // Pieces verified on disk.
  const Bitfield& verified() const { return picker_.have_pieces(); }
  const std::filesystem::path& save_dir() const { return save_dir_; }
  void add_peer(const tcp::endpoint& endpoint);
  void attach(std::unique_ptr<PeerStream> stream, const wire::Handshake& their_handshake);
  void stop();  // closes every peer and saves resume data
  // Tells the trackers we left (after stop()), then calls `done`; bounded in time.
  void announce_stopped(std::function<void()> done);

  // This torrent's own rate limits in bytes/s (0 = unlimited, the default), on top of the
  // session's unless `honors_session_limits` is false. Any time; takes effect at once.
  void set_rate_limits(std::int64_t upload_rate, std::int64_t download_rate,
                       bool honors_session_limits);
  // The buckets a transfer of this torrent takes from (PeerConnection, WebSeedConnection).
  policy::TransferLimits upload_limits();
  policy::TransferLimits download_limits();
  // Asks the trackers for peers now instead of at the next scheduled announce.
  void reannounce();

  // Called once every wanted piece is verified on disk, and on a fatal error (a disk error).
  std::function<void()> on_finished;
  std::function<void(const std::string&)> on_error;

  // --- for PeerConnection
  Session& session() { return session_; }
  DiskIo& disk() const;
  const SessionSettings& settings() const;
  policy::PiecePicker& picker() { return picker_; }
  const std::shared_ptr<FileStore>& store() const { return store_; }
  const PieceGeometry& geometry() const { return geometry_; }
  wire::Handshake our_handshake() const;
  bool need_data() const { return !picker_.is_finished(); }
  // Initial seeding in effect for connections made now (the option, and every piece verified).
  policy::SuperSeed* super_seed() {
    // Asked on every HAVE of a super-seeded peer: a counter compare, not a bitfield count.
    return super_seed_ && picker_.num_have() == picker_.num_pieces() ? &*super_seed_ : nullptr;
  }
  // Every wanted piece verified, nothing left to write or hash.
  bool finished() const {
    return picker_.is_finished() && pending_writes_.empty() && hashing_.empty();
  }
  bool accepting_blocks() const;  // false while the disk is behind
  // A block from a peer, in two steps so that consecutive blocks of one message go to the disk
  // in one write: book_block for each (bytes, picker, duplicates cancelled elsewhere, SmartBan),
  // then write_blocks once for a run of booked blocks, `first` and those after it in its piece.
  void book_block(PeerConnection& from, BlockRef block, std::int64_t bytes);
  void write_blocks(BlockRef first, SharedBytes data);
  // A handshake completed: false when `fresh` duplicates a connection we already have to the
  // same peer (each side dialled the other) and is the one to drop.
  bool admit(PeerConnection& fresh);
  void on_peer_connected(PeerConnection& peer);
  // A peer became (not) interested: fill a free slot now, not at the next rechoke.
  void on_peer_interest_changed() { rechoke(false); }
  void on_peer_closed(PeerConnection& peer, const std::string& reason);
  void count_upload(std::int64_t bytes) { uploaded_ += bytes; }
  // A block from any source (a peer, a web seed): `sender` names it for SmartBan.
  void on_block(policy::PeerKey from, const std::string& sender, BlockRef block, SharedBytes data);
  void book_block(policy::PeerKey from, const std::string& sender, BlockRef block,
                  std::int64_t bytes);

  // --- web seeds: sources that have every piece and share the picker with the peers.
  void add_web_seed(const std::string& url);
  void on_web_seed_closed(WebSeedConnection& seed, const std::string& reason);
  // Blocks went back to the picker: every source may have work again.
  void request_more_everywhere();
  // Peers a connected peer told us about (BEP 11 PEX): dialled like tracker peers.
  void on_pex_peers(PeerConnection& from, const std::vector<tcp::endpoint>& peers);
  void log(const std::string& line) const;

 private:
  // The peers as they are now: closing one while walking this list is safe.
  std::vector<std::shared_ptr<PeerConnection>> snapshot() const;
  void schedule_tick();
  void tick();
  void hash_piece(PieceIndex piece);
  void on_hash(PieceIndex piece, const Expected<Sha1Digest>& digest);
  void piece_passed(PieceIndex piece);
  void piece_failed(PieceIndex piece);
  void ban(const std::vector<std::string>& addresses, const std::string& why);
  void check_finished();
  void fail(const std::string& reason);
  // Saves resume data on the disk pool (stat, write, fsync and rename never block the network
  // thread); jobs run in order, so the last save wins.
  void save_resume();
  // Applies the choke algorithm: `full` every rechoke interval, else only fills free slots.
  void rechoke(bool full);
  void reconnect_peers(Clock::time_point now);
  // BEP 11: offers each peer the list of peers we are connected to.
  void exchange_peers(Clock::time_point now);
  void start_trackers();
  void on_tracker_peers(const std::vector<tracker::PeerAddress>& peers);
  policy::PeerKey next_key() { return policy::PeerKey(++last_key_); }

  Session& session_;
  TorrentInfo info_;
  std::filesystem::path save_dir_;
  TorrentOptions options_;
  std::shared_ptr<FileStore> store_;
  std::shared_ptr<PartialPieces> partial_pieces_ = std::make_shared<PartialPieces>();
  PieceGeometry geometry_;
  policy::PiecePicker picker_;
  policy::Choker choker_;
  std::optional<policy::SuperSeed> super_seed_;
  Clock::time_point next_rechoke_{};
  boost::asio::steady_timer timer_;
  bool stopped_ = false;
  bool resume_retired_ = false;  // removed after finishing: save no more
  // Expires with the Torrent: completions posted after it is gone check this first.
  std::shared_ptr<int> life_ = std::make_shared<int>(0);
  bool finished_reported_ = false;
  bool complete_at_start_ = false;  // a seed: no `completed` announce
  std::unique_ptr<tracker::TrackerClient> trackers_;
  policy::TokenBucket upload_bucket_;
  policy::TokenBucket download_bucket_;
  bool honors_session_limits_ = true;

  std::map<policy::PeerKey, std::shared_ptr<PeerConnection>> peers_;
  std::map<policy::PeerKey, std::shared_ptr<WebSeedConnection>> web_seeds_;
  std::vector<WebSeedStatus> dropped_web_seeds_;
  struct KnownPeer {
    Clock::time_point retry_at;
    bool connected = false;
    bool redundant = false;   // reached through a connection it made to us: do not dial it
    bool utp_failed = false;  // uTP did not connect: dial TCP from now on (if enabled)
    std::array<std::uint8_t, 20> peer_id{};  // whose, when redundant
  };
  std::map<tcp::endpoint, KnownPeer> known_;  // outgoing candidates
  std::set<boost::asio::ip::address> banned_;
  policy::SmartBan smart_ban_;
  std::uint32_t last_key_ = 0;

  // Per piece: blocks whose write is still queued.
  std::map<PieceIndex, int> pending_writes_;
  std::set<PieceIndex> hashing_;

  std::int64_t downloaded_ = 0;
  std::int64_t uploaded_ = 0;
  std::int64_t pieces_passed_ = 0;
  std::int64_t pieces_failed_ = 0;
  std::int64_t wasted_bytes_ = 0;
  std::map<std::string, std::int64_t> closed_downloaded_from_;  // by peer address
  std::int64_t last_downloaded_ = 0;
  std::int64_t last_uploaded_ = 0;
  double down_rate_ = 0;
  double up_rate_ = 0;
  Clock::time_point last_tick_;
  Clock::time_point last_resume_save_;
};

}  // namespace starling::session
