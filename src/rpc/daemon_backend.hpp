// The daemon's side of the RPC: torrents of one session::Session with ids, save paths,
// paused/started state, file choices and totals, persisted in the config directory
// (daemon_state) and restored on restart. Paused torrents are taken out of the session
// (Session::remove_torrent) and re-added with their verified pieces when started again.
// Magnet links fetch their metadata first (session::MetadataFetch). Network thread only.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/bitfield.hpp"
#include "core/prometheus_text.hpp"
#include "metainfo/magnet.hpp"
#include "metainfo/torrent_info.hpp"
#include "rpc/daemon_state.hpp"
#include "rpc/model.hpp"
#include "session/session.hpp"
#include "session/ut_metadata_fetch.hpp"

namespace starling::rpc {

struct DaemonConfig {
  std::filesystem::path config_dir;
  // Where new torrents save unless the request or the saved settings say otherwise; empty =
  // the saved setting, else CONFIG_DIR/downloads.
  std::filesystem::path download_dir;
  std::string version;
  // Extra peers dialled for every torrent and metadata fetch (--peer; tests and LANs).
  std::vector<boost::asio::ip::tcp::endpoint> peers;
};

class DaemonBackend final : public Backend {
 public:
  DaemonBackend(session::Session& session, DaemonConfig config);
  ~DaemonBackend() override;
  DaemonBackend(const DaemonBackend&) = delete;
  DaemonBackend& operator=(const DaemonBackend&) = delete;

  // Reads CONFIG_DIR/state.json and brings every torrent back: started ones into the session
  // (verified pieces from their resume data, or a hash check when the files changed since),
  // paused ones stay out. Refuses a corrupt state file rather than overwrite it.
  Status restore();
  // Once a second: activity and completion dates, session totals, a state save when due.
  void tick();
  // Before exit: every torrent leaves the session (its resume data saved) and the state is
  // written. The torrents' running/paused flags are kept as they were.
  void shutdown();
  Status save();
  // A .torrent from the watch directory: added like torrent-add with a path.
  Expected<AddResult> add_path(const std::filesystem::path& file);

  // Prometheus families for /metrics; per-torrent series (labelled by info-hash) when asked.
  void write_metrics(PrometheusText& out, bool per_torrent) const;

  // --- Backend
  std::vector<TorrentView> torrents() const override;
  std::vector<std::pair<int, std::int64_t>> removed() const override { return removed_; }
  SessionView session() const override;
  Status set_session(const SessionView& changed) override;
  SessionStats stats() const override;
  Expected<AddResult> add(const AddRequest& request) override;
  // add(), except that a `filename` that is an http URL is fetched first (rpc/torrent_url).
  void add_async(const AddRequest& request,
                 std::function<void(const Expected<AddResult>&)> done) override;
  Status start(int id, bool now) override;
  Status stop(int id) override;
  Status remove(int id, bool delete_local_data) override;
  Status verify(int id) override;
  Status reannounce(int id) override;
  Status set_torrent(int id, const TorrentChanges& changes) override;
  Status set_location(int id, const std::string& location, bool move) override;
  Expected<std::int64_t> free_space(const std::string& path) const override;

  // The Unix clock; replaceable for tests.
  std::function<std::int64_t()> now;

 private:
  struct Entry {
    SavedTorrent saved;
    Sha1Digest hash;
    std::optional<TorrentInfo> info;
    std::optional<Magnet> magnet;  // until the metadata arrives
    std::unique_ptr<session::MetadataFetch> fetch;
    Bitfield verified;                // while out of the session
    bool verified_known = false;      // `verified` is current (else: resume data or a check)
    std::int64_t run_downloaded = 0;  // of saved.downloaded, what the live torrent had counted
    std::int64_t run_uploaded = 0;
    std::string error;
    bool checking = false;  // torrent-verify's hash check is running
    bool live_after_check = false;
    std::int64_t start_date = 0;
    std::int64_t activity_date = 0;
  };

  Entry* find(int id);
  session::Torrent* live(const Entry& e) const;
  // Into the session (or the metadata fetch for a magnet); out of it, keeping what it verified.
  void go_live(Entry& e);
  void go_idle(Entry& e);
  // Hashes what is on disk off the network thread (status "check" meanwhile), then puts the
  // torrent back into the session when `live_after` and it is not paused. Out of the session.
  void start_check(Entry& e, bool live_after);
  void on_metadata(int id, const std::string& info_bytes);
  Bitfield pieces_on_disk(const Entry& e) const;
  std::vector<int> picker_priorities(const Entry& e) const;
  TorrentView view(const Entry& e) const;
  void apply_rate_limits();
  // The torrent's own limits (torrent-set) onto its live session::Torrent.
  void apply_torrent_limits(const Entry& e);
  // Accumulates payload moved since the last call into the session and cumulative stats.
  void count_transfer();
  void mark_dirty() { dirty_ = true; }
  Expected<AddResult> add_parsed(TorrentInfo info, const std::string& torrent_bytes,
                                 std::optional<Magnet> magnet, const AddRequest& request);

  std::filesystem::path torrent_file(const Sha1Digest& hash) const;
  std::filesystem::path resume_file(const Sha1Digest& hash) const;
  std::filesystem::path state_file() const { return config_.config_dir / "state.json"; }

  session::Session& session_;
  DaemonConfig config_;
  DaemonState state_;  // settings, cumulative stats, next id (torrents live in entries_)
  std::map<int, Entry> entries_;
  std::vector<std::pair<int, std::int64_t>> removed_;
  TransferCounts current_;
  std::int64_t started_at_ = 0;
  std::int64_t last_save_ = 0;
  bool dirty_ = false;
  std::int64_t counted_down_ = 0;  // sum of every entry's totals at the last count_transfer
  std::int64_t counted_up_ = 0;
  // Expires with the backend: callbacks posted to the io_context check it first.
  std::shared_ptr<int> life_ = std::make_shared<int>(0);
  // torrent-verify hashes off the network thread; joined on destruction.
  std::vector<std::thread> checks_;
};

}  // namespace starling::rpc
