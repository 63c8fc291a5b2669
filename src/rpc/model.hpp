// What the RPC layer knows of the engine: plain snapshots (torrents, session settings, stats)
// and the Backend interface that carries out requests. The daemon implements Backend over a
// session::Session; the unit tests use a fake. Units follow Transmission's RPC: sizes and rates
// in bytes (per second), speed limits in kB/s (1000 bytes), times as Unix seconds.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/expected.hpp"

namespace starling::rpc {

// Transmission's tr_torrent_activity values.
enum class TorrentState : int {
  stopped = 0,
  check_wait = 1,
  check = 2,
  download_wait = 3,
  download = 4,
  seed_wait = 5,
  seed = 6,
};

struct FileView {
  std::string name;  // "torrent name/dir/file", as Transmission lists it
  std::int64_t length = 0;
  std::int64_t bytes_completed = 0;
  bool wanted = true;
  int priority = 0;  // -1 low, 0 normal, 1 high
};

struct TrackerView {
  int id = 0;
  int tier = 0;
  std::string announce;
  std::string scrape;
  std::string host;  // "host:port"
  std::string last_announce_result;
  bool last_announce_succeeded = false;
  std::int64_t last_announce_time = 0;
  int last_announce_peer_count = 0;
  std::int64_t next_announce_time = 0;
  int seeder_count = -1;
  int leecher_count = -1;
};

struct PeerView {
  std::string address;
  int port = 0;
  std::string client_name;
  bool incoming = false;
  bool utp = false;
  double progress = 0;  // 0..1
  std::int64_t rate_to_client = 0;
  std::int64_t rate_to_peer = 0;
  bool downloading_from = false;
  bool uploading_to = false;
};

struct TorrentView {
  int id = 0;
  std::string hash;  // 40 lowercase hex digits
  std::string name;
  TorrentState state = TorrentState::stopped;
  bool metadata_complete = true;  // false for a magnet still fetching its info dictionary
  std::string download_dir;
  std::string comment;
  std::string creator;
  std::string magnet_link;
  bool is_private = false;
  std::int64_t total_size = 0;
  std::int64_t size_when_done = 0;   // bytes of the wanted files
  std::int64_t left_until_done = 0;  // of those, not yet verified
  std::int64_t have_valid = 0;       // verified bytes
  std::int64_t downloaded_ever = 0;
  std::int64_t uploaded_ever = 0;
  std::int64_t corrupt_ever = 0;
  std::int64_t rate_download = 0;
  std::int64_t rate_upload = 0;
  int peers_connected = 0;
  int peers_sending_to_us = 0;
  int peers_getting_from_us = 0;
  int webseeds_sending_to_us = 0;
  std::string error_string;  // empty when fine
  int error = 0;             // 0 ok, 1 tracker warning, 2 tracker error, 3 local error
  std::int64_t added_date = 0;
  std::int64_t start_date = 0;
  std::int64_t done_date = 0;
  std::int64_t activity_date = 0;
  std::int64_t date_created = 0;
  int piece_count = 0;
  std::int64_t piece_size = 0;
  std::string pieces;  // the verified-piece bitfield, raw bytes (sent as base64)
  double recheck_progress = 0;
  int queue_position = 0;
  // Per-torrent limits (kB/s) and seeding goal.
  std::int64_t download_limit = 0;
  bool download_limited = false;
  std::int64_t upload_limit = 0;
  bool upload_limited = false;
  double seed_ratio_limit = 2.0;
  int seed_ratio_mode = 0;  // 0 global, 1 this torrent's, 2 unlimited
  bool honors_session_limits = true;
  std::vector<FileView> files;
  std::vector<TrackerView> trackers;
  std::vector<PeerView> peers;
};

// The settings session-get reports and session-set changes.
struct SessionView {
  std::string version;
  std::string config_dir;
  std::string download_dir;
  int peer_port = 51413;
  bool utp_enabled = true;
  bool dht_enabled = false;
  bool pex_enabled = true;
  bool lpd_enabled = false;
  bool port_forwarding_enabled = false;
  std::string encryption = "tolerated";  // we never encrypt; plaintext peers are all we speak
  std::int64_t speed_limit_down = 100;   // kB/s
  bool speed_limit_down_enabled = false;
  std::int64_t speed_limit_up = 100;
  bool speed_limit_up_enabled = false;
  std::int64_t alt_speed_down = 50;
  std::int64_t alt_speed_up = 50;
  bool alt_speed_enabled = false;
  bool alt_speed_time_enabled = false;
  int alt_speed_time_begin = 540;  // minutes after midnight
  int alt_speed_time_end = 1020;
  int alt_speed_time_day = 127;  // bit mask, Sunday = 1
  int peer_limit_global = 200;
  int peer_limit_per_torrent = 50;
  double seed_ratio_limit = 2.0;
  bool seed_ratio_limited = false;
  int idle_seeding_limit = 30;  // minutes
  bool idle_seeding_limit_enabled = false;
  bool start_added_torrents = true;
  bool rename_partial_files = false;
  bool download_queue_enabled = false;
  int download_queue_size = 5;
  bool seed_queue_enabled = false;
  int seed_queue_size = 10;
  int cache_size_mb = 4;
};

struct TransferCounts {
  std::int64_t uploaded_bytes = 0;
  std::int64_t downloaded_bytes = 0;
  std::int64_t files_added = 0;
  std::int64_t session_count = 0;
  std::int64_t seconds_active = 0;
};

struct SessionStats {
  TransferCounts current;     // since this daemon started
  TransferCounts cumulative;  // over every run (persisted)
};

struct AddRequest {
  std::string metainfo;  // .torrent bytes (decoded from base64), or empty
  std::string filename;  // a path to a .torrent, or a magnet link, when metainfo is empty
  std::optional<std::string> download_dir;
  std::optional<bool> paused;
  std::vector<int> files_unwanted;
  std::vector<int> priority_high;
  std::vector<int> priority_low;
};

struct AddResult {
  bool duplicate = false;
  int id = 0;
  std::string name;
  std::string hash;
};

// torrent-set: only what is present changes.
struct TorrentChanges {
  std::vector<int> files_wanted;
  std::vector<int> files_unwanted;
  std::vector<int> priority_high;
  std::vector<int> priority_normal;
  std::vector<int> priority_low;
  std::optional<std::int64_t> download_limit;  // kB/s
  std::optional<bool> download_limited;
  std::optional<std::int64_t> upload_limit;
  std::optional<bool> upload_limited;
  std::optional<double> seed_ratio_limit;
  std::optional<int> seed_ratio_mode;
  std::optional<bool> honors_session_limits;
};

// The engine side of the RPC. Calls happen on one thread, one request at a time.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::vector<TorrentView> torrents() const = 0;  // every torrent, by id
  // Ids removed and the Unix time of each removal (for "recently-active").
  virtual std::vector<std::pair<int, std::int64_t>> removed() const = 0;
  virtual SessionView session() const = 0;
  virtual Status set_session(const SessionView& changed) = 0;
  virtual SessionStats stats() const = 0;
  virtual Expected<AddResult> add(const AddRequest& request) = 0;
  // The same, answered through `done` (exactly once, now or later on the same thread): a
  // backend that fetches a .torrent by URL first overrides it.
  virtual void add_async(const AddRequest& request,
                         std::function<void(const Expected<AddResult>&)> done) {
    const auto answer = std::move(done);
    answer(add(request));
  }
  virtual Status start(int id, bool now) = 0;
  virtual Status stop(int id) = 0;
  virtual Status remove(int id, bool delete_local_data) = 0;
  virtual Status verify(int id) = 0;
  virtual Status reannounce(int id) = 0;
  virtual Status set_torrent(int id, const TorrentChanges& changes) = 0;
  // torrent-set-location: the torrent's data is now in `location` (an absolute path); `move`:
  // move the files there first. Either way what is there is checked again.
  virtual Status set_location(int id, const std::string& location, bool move) = 0;
  virtual Expected<std::int64_t> free_space(const std::string& path) const = 0;
};

}  // namespace starling::rpc
