// DaemonBackend's views: what torrent-get, session-get, session-stats, free-space and /metrics
// report, read from the entries and their live session::Torrent. The lifecycle (add, start,
// stop, remove, verify, set, set-location) is in daemon_backend.cpp.
#include <sys/statvfs.h>

#include <algorithm>

#include "rpc/daemon_backend.hpp"

namespace starling::rpc {
namespace {

std::string tracker_host(const std::string& url) {
  const auto scheme = url.find("://");
  std::string rest = scheme == std::string::npos ? url : url.substr(scheme + 3);
  return rest.substr(0, rest.find('/'));
}

// Bytes of `file` inside the verified pieces.
std::int64_t file_bytes_done(const FileLayout& layout, FileIndex file, const Bitfield& have) {
  const FileEntry& f = layout.file(file);
  if (f.size == 0 || have.empty()) return 0;
  const auto [first, last] = layout.file_pieces(file);
  std::int64_t done = 0;
  for (std::int32_t p = first.value(); p <= last.value(); ++p) {
    if (!have[static_cast<std::size_t>(p)]) continue;
    const std::int64_t piece_start = std::int64_t{p} * layout.piece_length();
    const std::int64_t piece_end = piece_start + layout.piece_size(PieceIndex(p));
    done += std::min(piece_end, f.offset + f.size) - std::max(piece_start, f.offset);
  }
  return done;
}

}  // namespace

Expected<std::int64_t> DaemonBackend::free_space(const std::string& path) const {
  struct statvfs s {};
  if (::statvfs(path.c_str(), &s) != 0) {
    return Error(std::error_code(errno, std::system_category()), path);
  }
  return static_cast<std::int64_t>(s.f_bavail) * static_cast<std::int64_t>(s.f_frsize);
}

SessionView DaemonBackend::session() const {
  SessionView s = state_.settings;
  s.version = config_.version;
  s.config_dir = config_.config_dir.string();
  s.peer_port = session_.listen_port();
  s.utp_enabled = session_.settings().enable_utp;
  s.dht_enabled = session_.dht() != nullptr;
  return s;
}

SessionStats DaemonBackend::stats() const {
  SessionStats out;
  out.current = current_;
  out.current.seconds_active = now() - started_at_;
  out.cumulative = state_.cumulative;
  out.cumulative.seconds_active += out.current.seconds_active;
  return out;
}

TorrentView DaemonBackend::view(const Entry& e) const {
  TorrentView v;
  v.id = e.saved.id;
  v.hash = e.saved.hash;
  v.name = e.saved.name;
  v.download_dir = e.saved.download_dir;
  v.added_date = e.saved.added_date;
  v.done_date = e.saved.done_date;
  v.start_date = e.start_date;
  v.activity_date = std::max(e.activity_date, e.saved.added_date);
  v.downloaded_ever = e.saved.downloaded;
  v.uploaded_ever = e.saved.uploaded;
  v.corrupt_ever = e.saved.corrupt;
  v.download_limit = e.saved.download_limit;
  v.download_limited = e.saved.download_limited;
  v.upload_limit = e.saved.upload_limit;
  v.upload_limited = e.saved.upload_limited;
  v.seed_ratio_limit = e.saved.seed_ratio_limit;
  v.seed_ratio_mode = e.saved.seed_ratio_mode;
  v.honors_session_limits = e.saved.honors_session_limits;
  v.queue_position = e.saved.id;
  if (!e.error.empty()) {
    v.error = 3;
    v.error_string = e.error;
  }
  if (!e.info) {
    v.metadata_complete = false;
    v.state = e.fetch ? TorrentState::download : TorrentState::stopped;
    if (e.magnet) {
      v.magnet_link = format_magnet(*e.magnet);
      int tid = 0;
      for (const auto& url : e.magnet->trackers) {
        TrackerView tv;
        tv.id = tid;
        tv.tier = tid;
        tv.announce = url;
        tv.host = tracker_host(url);
        v.trackers.push_back(std::move(tv));
        ++tid;
      }
    }
    if (e.fetch) v.peers_connected = e.fetch->metadata_peers();
    return v;
  }
  const TorrentInfo& info = *e.info;
  const session::Torrent* torrent = live(e);
  const Bitfield& have = torrent ? torrent->verified() : e.verified;
  v.total_size = info.total_size();
  v.piece_count = info.num_pieces();
  v.piece_size = info.piece_length();
  v.is_private = info.is_private;
  v.comment = info.comment;
  v.creator = info.created_by;
  v.date_created = info.creation_date.value_or(0);
  Magnet m;
  m.info_hash = info.info_hash;
  m.display_name = info.name;
  for (const auto& tier : info.trackers)
    m.trackers.insert(m.trackers.end(), tier.begin(), tier.end());
  v.magnet_link = format_magnet(m);
  int tracker_id = 0;
  for (std::size_t tier = 0; tier < info.trackers.size(); ++tier) {
    for (const auto& url : info.trackers[tier]) {
      TrackerView tv;
      tv.id = tracker_id++;
      tv.tier = static_cast<int>(tier);
      tv.announce = url;
      tv.host = tracker_host(url);
      v.trackers.push_back(std::move(tv));
    }
  }
  v.pieces = std::string(have.bytes());
  // Files: wanted bytes and what of them is verified.
  const auto& files = info.layout.files();
  std::vector<bool> piece_wanted(static_cast<std::size_t>(info.num_pieces()), false);
  for (std::size_t i = 0; i < files.size(); ++i) {
    if (files[i].pad) continue;
    FileView f;
    f.name = files[i].path_string();
    f.length = files[i].size;
    f.wanted = i >= e.saved.wanted.size() || e.saved.wanted[i];
    f.priority = i < e.saved.priorities.size() ? e.saved.priorities[i] : 0;
    const FileIndex index(static_cast<std::int32_t>(i));
    f.bytes_completed = have.empty() ? 0 : file_bytes_done(info.layout, index, have);
    if (f.wanted && f.length > 0) {
      const auto [first, last] = info.layout.file_pieces(index);
      for (std::int32_t p = first.value(); p <= last.value(); ++p) {
        piece_wanted[static_cast<std::size_t>(p)] = true;
      }
    }
    v.files.push_back(std::move(f));
  }
  for (std::int32_t p = 0; p < info.num_pieces(); ++p) {
    const auto i = static_cast<std::size_t>(p);
    const bool verified = !have.empty() && have[i];
    const std::int64_t size = info.layout.piece_size(PieceIndex(p));
    if (verified) v.have_valid += size;
    if (piece_wanted[i]) {
      v.size_when_done += size;
      if (!verified) v.left_until_done += size;
    }
  }
  if (torrent != nullptr) {
    const session::TorrentStatus s = torrent->status();
    v.state = s.finished ? TorrentState::seed : TorrentState::download;
    v.rate_download = static_cast<std::int64_t>(s.down_rate);
    v.rate_upload = static_cast<std::int64_t>(s.up_rate);
    v.peers_connected = s.peers;
    v.peers_sending_to_us = s.peers_sending;
    v.peers_getting_from_us = s.peers_receiving;
    v.downloaded_ever += s.downloaded;
    v.uploaded_ever += s.uploaded;
    v.corrupt_ever += s.wasted_bytes;
    v.webseeds_sending_to_us = static_cast<int>(s.web_seeds.size());
    for (const auto& peer : torrent->peer_summaries()) {
      PeerView pv;
      pv.address = peer.endpoint.address().to_string();
      pv.port = peer.endpoint.port();
      pv.client_name = peer.client;
      pv.incoming = peer.incoming;
      pv.utp = peer.utp;
      pv.progress = peer.seed ? 1.0 : 0.0;
      pv.rate_to_client = static_cast<std::int64_t>(peer.down_rate);
      pv.rate_to_peer = static_cast<std::int64_t>(peer.up_rate);
      pv.downloading_from = peer.down_rate > 0;
      pv.uploading_to = peer.unchoked_by_us && peer.interested_in_us;
      v.peers.push_back(std::move(pv));
    }
    if (!s.tracker_error.empty() && v.error == 0) {
      v.error = 2;
      v.error_string = s.tracker_error;
    }
  } else {
    v.state = e.checking ? TorrentState::check : TorrentState::stopped;
  }
  return v;
}

std::vector<TorrentView> DaemonBackend::torrents() const {
  std::vector<TorrentView> out;
  out.reserve(entries_.size());
  for (const auto& [id, e] : entries_) out.push_back(view(e));
  return out;
}

void DaemonBackend::write_metrics(PrometheusText& out, bool per_torrent) const {
  const auto views = torrents();
  std::int64_t peers = 0;
  std::map<std::string, int> by_state = {
      {"stopped", 0}, {"checking", 0}, {"downloading", 0}, {"seeding", 0}, {"metadata", 0}};
  std::int64_t passed = 0;
  std::int64_t failed = 0;
  std::int64_t wasted = 0;
  for (const auto& [id, e] : entries_) {
    wasted += e.saved.corrupt;
    if (const session::Torrent* t = live(e)) {
      const auto s = t->status();
      passed += s.pieces_passed;
      failed += s.pieces_failed;
      wasted += s.wasted_bytes;
    }
  }
  for (const auto& v : views) {
    peers += v.peers_connected;
    if (!v.metadata_complete && v.state != TorrentState::stopped) {
      ++by_state["metadata"];
    } else if (v.state == TorrentState::stopped) {
      ++by_state["stopped"];
    } else if (v.state == TorrentState::seed) {
      ++by_state["seeding"];
    } else if (v.state == TorrentState::check || v.state == TorrentState::check_wait) {
      ++by_state["checking"];
    } else {
      ++by_state["downloading"];
    }
  }
  out.family("starling_payload_bytes_total", "counter",
             "Payload (piece data) bytes moved since the daemon started, by direction.");
  out.sample("starling_payload_bytes_total", {{"direction", "down"}}, current_.downloaded_bytes);
  out.sample("starling_payload_bytes_total", {{"direction", "up"}}, current_.uploaded_bytes);
  out.family("starling_torrents", "gauge", "Torrents by state.");
  for (const auto& [state, count] : by_state) {
    out.sample("starling_torrents", {{"state", state}}, std::int64_t{count});
  }
  out.family("starling_peers_connected", "gauge", "Peer connections past the handshake.");
  out.sample("starling_peers_connected", peers);
  out.family("starling_pieces_verified_total", "counter",
             "Pieces whose hash check passed, since the torrents started.");
  out.sample("starling_pieces_verified_total", passed);
  out.family("starling_pieces_failed_total", "counter", "Pieces whose hash check failed.");
  out.sample("starling_pieces_failed_total", failed);
  out.family("starling_wasted_bytes_total", "counter", "Payload bytes of pieces that failed.");
  out.sample("starling_wasted_bytes_total", wasted);
  out.family("starling_disk_write_queue_bytes", "gauge",
             "Received bytes waiting to be written to disk.");
  out.sample("starling_disk_write_queue_bytes", session_.disk().queued_write_bytes());
  if (const session::DhtService* dht = session_.dht()) {
    out.family("starling_dht_nodes", "gauge", "Nodes in the DHT routing table.");
    out.sample("starling_dht_nodes", static_cast<std::int64_t>(dht->node().table().size()));
  }
  if (!per_torrent) return;
  out.family("starling_torrent_downloaded_bytes_total", "counter",
             "Payload bytes received, per torrent, over every run.");
  for (const auto& v : views) {
    out.sample("starling_torrent_downloaded_bytes_total", {{"info_hash", v.hash}, {"name", v.name}},
               v.downloaded_ever);
  }
  out.family("starling_torrent_uploaded_bytes_total", "counter",
             "Payload bytes sent, per torrent, over every run.");
  for (const auto& v : views) {
    out.sample("starling_torrent_uploaded_bytes_total", {{"info_hash", v.hash}, {"name", v.name}},
               v.uploaded_ever);
  }
  out.family("starling_torrent_left_bytes", "gauge", "Wanted bytes not yet verified, per torrent.");
  for (const auto& v : views) {
    out.sample("starling_torrent_left_bytes", {{"info_hash", v.hash}, {"name", v.name}},
               v.left_until_done);
  }
  out.family("starling_torrent_peers_connected", "gauge", "Connected peers, per torrent.");
  for (const auto& v : views) {
    out.sample("starling_torrent_peers_connected", {{"info_hash", v.hash}, {"name", v.name}},
               std::int64_t{v.peers_connected});
  }
}

}  // namespace starling::rpc
