#include "rpc/daemon_backend.hpp"
#include "net/host_port.hpp"

#include <sys/statvfs.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <chrono>
#include <fstream>
#include <set>
#include <sstream>

#include "metainfo/metadata_file.hpp"
#include "storage/piece_hasher.hpp"
#include "storage/resume_data.hpp"

namespace starling::rpc {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kSaveInterval = 10;  // seconds between state saves while things change

Error bad(const std::string& what) {
  return Error(Errc::invalid_argument, what);
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Expected<std::string> read_file(const fs::path& file, std::size_t limit) {
  std::error_code ec;
  const auto size = fs::file_size(file, ec);
  if (ec) return Error(ec, file.string());
  if (size > limit) return Error(Errc::invalid_argument, file.string() + ": too large");
  std::ifstream in(file, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (!in) return Error(Errc::io_error, file.string() + ": cannot read");
  return buffer.str();
}

Status write_file(const fs::path& file, std::string_view bytes) {
  std::error_code ec;
  fs::create_directories(file.parent_path(), ec);
  const fs::path temp = file.string() + ".tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) return Error(Errc::io_error, temp.string() + ": cannot write");
  }
  fs::rename(temp, file, ec);
  if (ec) return Error(ec, file.string());
  return ok();
}

// A peer's "HOST:PORT" (numeric host, "[v6]:port"); port 0 is no peer.
std::optional<boost::asio::ip::tcp::endpoint> parse_endpoint(std::string_view text) {
  const auto parsed = net::parse_host_port(text);
  if (!parsed || parsed->port == 0 || text.front() == ':') return std::nullopt;
  return boost::asio::ip::tcp::endpoint(parsed->address, parsed->port);
}

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

DaemonBackend::DaemonBackend(session::Session& session, DaemonConfig config)
    : now(unix_now), session_(session), config_(std::move(config)) {
  session_.on_peers_found = [this](const Sha1Digest& hash,
                                   const std::vector<boost::asio::ip::tcp::endpoint>& peers) {
    for (auto& [id, e] : entries_) {
      if (e.hash != hash || !e.fetch) continue;
      for (const auto& peer : peers) e.fetch->add_peer(peer);
    }
  };
}

DaemonBackend::~DaemonBackend() {
  session_.on_peers_found = nullptr;
  for (auto& t : checks_) t.join();
}

fs::path DaemonBackend::torrent_file(const Sha1Digest& hash) const {
  return config_.config_dir / "torrents" / (hash.hex() + ".torrent");
}

fs::path DaemonBackend::resume_file(const Sha1Digest& hash) const {
  return config_.config_dir / "resume" / (hash.hex() + ".resume");
}

DaemonBackend::Entry* DaemonBackend::find(int id) {
  auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : &it->second;
}

session::Torrent* DaemonBackend::live(const Entry& e) const {
  return e.info ? session_.find_torrent(e.hash) : nullptr;
}

Status DaemonBackend::restore() {
  std::error_code ec;
  for (const char* sub : {"", "torrents", "resume"}) {
    fs::create_directories(config_.config_dir / sub, ec);
    if (ec) return Error(ec, (config_.config_dir / sub).string());
  }
  auto loaded = load_state_file(state_file());
  if (!loaded) return loaded.error();
  state_ = std::move(*loaded);
  if (!config_.download_dir.empty()) state_.settings.download_dir = config_.download_dir.string();
  if (state_.settings.download_dir.empty()) {
    state_.settings.download_dir = (config_.config_dir / "downloads").string();
  }
  started_at_ = now();
  last_save_ = started_at_;
  ++state_.cumulative.session_count;
  current_.session_count = 1;
  apply_rate_limits();
  for (auto& saved : state_.torrents) {
    Entry e;
    e.saved = saved;
    auto hash = Sha1Digest::from_hex(saved.hash);
    if (!hash) return bad("state: torrent " + std::to_string(saved.id) + ": bad info-hash");
    e.hash = *hash;
    if (!saved.magnet.empty()) {
      auto magnet = parse_magnet(saved.magnet);
      if (!magnet) return magnet.error();
      e.magnet = std::move(*magnet);
    } else {
      auto info = load_torrent(torrent_file(e.hash));
      if (!info) {
        e.error = "cannot load the torrent: " + info.error().message();
      } else {
        e.info = std::move(*info);
      }
    }
    const int id = saved.id;
    auto [it, inserted] = entries_.emplace(id, std::move(e));
    if (inserted && !it->second.saved.paused && it->second.error.empty()) go_live(it->second);
  }
  state_.torrents.clear();
  for (const auto& [id, e] : entries_) {
    counted_down_ += e.saved.downloaded;
    counted_up_ += e.saved.uploaded;
  }
  return save();
}

Bitfield DaemonBackend::pieces_on_disk(const Entry& e) const {
  const TorrentInfo& info = *e.info;
  const fs::path dir = e.saved.download_dir;
  const auto stamps = stamp_files(info.layout, dir);
  if (auto resume = load_resume(resume_file(e.hash), info.info_hash, info.layout)) {
    if (resume->files == stamps) return resume->have;
  }
  Bitfield have(static_cast<std::size_t>(info.num_pieces()));
  const bool any_file =
      std::any_of(stamps.begin(), stamps.end(), [](const FileStamp& s) { return s.size > 0; });
  if (!any_file) return have;
  // Files changed since the resume data was saved (a crash, or edits): check what is there.
  session_.log(info.name + ": checking existing data");
  const HashResult hashed = hash_pieces(info.layout, dir);
  for (std::size_t i = 0; i < hashed.pieces.size() && i < info.piece_hashes.size(); ++i) {
    if (hashed.pieces[i] && *hashed.pieces[i] == info.piece_hashes[i]) have.set(i);
  }
  return have;
}

std::vector<int> DaemonBackend::picker_priorities(const Entry& e) const {
  const std::size_t files = e.info->layout.files().size();
  std::vector<int> out(files, 4);
  bool any_change = false;
  for (std::size_t i = 0; i < files; ++i) {
    if (i < e.saved.priorities.size() && e.saved.priorities[i] != 0) {
      out[i] = e.saved.priorities[i] > 0 ? 7 : 1;
      any_change = true;
    }
    if (i < e.saved.wanted.size() && !e.saved.wanted[i]) {
      out[i] = 0;
      any_change = true;
    }
  }
  if (!any_change) out.clear();
  return out;
}

void DaemonBackend::go_live(Entry& e) {
  if (e.checking) {
    e.live_after_check = true;  // starts when the check ends
    return;
  }
  const std::int64_t t = now();
  e.start_date = t;
  e.activity_date = t;
  e.error.clear();
  if (!e.info) {
    if (e.fetch || !e.magnet) return;
    const int id = e.saved.id;
    std::weak_ptr<int> alive = life_;
    e.fetch = std::make_unique<session::MetadataFetch>(
        session_, e.hash, e.magnet->trackers, [this, id, alive](std::string bytes) {
          // The fetch may not be destroyed inside its own callback: continue from the loop.
          boost::asio::post(session_.io(), [this, id, alive, bytes = std::move(bytes)] {
            if (alive.expired()) return;
            on_metadata(id, bytes);
          });
        });
    for (const auto& text : e.magnet->peers) {
      if (auto endpoint = parse_endpoint(text)) e.fetch->add_peer(*endpoint);
    }
    for (const auto& peer : config_.peers) e.fetch->add_peer(peer);
    session_.find_peers(e.hash);
    return;
  }
  if (live(e)) return;
  std::error_code ec;
  fs::create_directories(e.saved.download_dir, ec);
  if (ec) {
    e.error = "cannot create " + e.saved.download_dir + ": " + ec.message();
    return;
  }
  if (!e.verified_known) {
    e.verified = pieces_on_disk(e);
    e.verified_known = true;
  }
  session::TorrentOptions options;
  options.file_priorities = picker_priorities(e);
  options.resume_file = resume_file(e.hash);
  session::Torrent& torrent =
      session_.add_torrent(*e.info, e.saved.download_dir, std::move(options), e.verified);
  const int id = e.saved.id;
  torrent.on_error = [this, id](const std::string& reason) {
    if (Entry* entry = find(id)) entry->error = reason;
  };
  for (const auto& peer : config_.peers) torrent.add_peer(peer);
  if (e.magnet) {
    for (const auto& text : e.magnet->peers) {
      if (auto endpoint = parse_endpoint(text)) torrent.add_peer(*endpoint);
    }
  }
}

void DaemonBackend::go_idle(Entry& e) {
  if (e.fetch) {
    e.fetch->stop();
    // Destroyed from the loop: a callback of its own may be on the stack.
    boost::asio::post(session_.io(),
                      [fetch = std::shared_ptr<session::MetadataFetch>(std::move(e.fetch))] {});
  }
  if (session::Torrent* torrent = live(e)) {
    const session::TorrentStatus s = torrent->status();
    e.saved.downloaded += s.downloaded;
    e.saved.uploaded += s.uploaded;
    e.saved.corrupt += s.wasted_bytes;
    e.verified = torrent->verified();
    e.verified_known = true;
    session_.remove_torrent(e.hash);
  }
  e.activity_date = now();
}

void DaemonBackend::on_metadata(int id, const std::string& info_bytes) {
  Entry* e = find(id);
  if (e == nullptr || !e->fetch || !e->magnet) return;
  std::vector<boost::asio::ip::tcp::endpoint> peers = e->fetch->peers();
  e->fetch->stop();
  e->fetch.reset();
  const std::string file = make_torrent_file(info_bytes, e->magnet->trackers);
  auto info = parse_torrent(file);
  if (!info) {
    e->error = "metadata: " + info.error().message();
    return;
  }
  if (auto s = write_file(torrent_file(e->hash), file); !s) {
    e->error = s.error().message();
    return;
  }
  e->info = std::move(*info);
  e->saved.name = e->info->name;
  e->saved.magnet.clear();
  mark_dirty();
  go_live(*e);
  if (session::Torrent* torrent = live(*e)) {
    for (const auto& peer : peers) torrent->add_peer(peer);
  }
  (void)save();
}

Expected<AddResult> DaemonBackend::add(const AddRequest& request) {
  if (!request.metainfo.empty()) {
    auto info = parse_torrent(request.metainfo);
    if (!info)
      return Error(info.error().code, "invalid or corrupt torrent file: " + info.error().message());
    return add_parsed(std::move(*info), request.metainfo, std::nullopt, request);
  }
  const std::string& name = request.filename;
  if (name.rfind("magnet:", 0) == 0 || (name.size() == 40 && Sha1Digest::from_hex(name))) {
    Magnet magnet;
    if (name.size() == 40 && name.rfind("magnet:", 0) != 0) {
      magnet.info_hash = *Sha1Digest::from_hex(name);
    } else {
      auto parsed = parse_magnet(name);
      if (!parsed) return parsed.error();
      magnet = std::move(*parsed);
    }
    return add_parsed(TorrentInfo{}, "", std::move(magnet), request);
  }
  if (name.rfind("http://", 0) == 0 || name.rfind("https://", 0) == 0) {
    return bad("fetching .torrent files by URL is not supported; send the file's contents");
  }
  auto bytes = read_file(name, TorrentLimits{}.max_torrent_bytes);
  if (!bytes) return bytes.error();
  auto info = parse_torrent(*bytes);
  if (!info) return Error(info.error().code, name + ": " + info.error().message());
  return add_parsed(std::move(*info), *bytes, std::nullopt, request);
}

Expected<AddResult> DaemonBackend::add_path(const fs::path& file) {
  AddRequest request;
  request.filename = file.string();
  return add(request);
}

Expected<AddResult> DaemonBackend::add_parsed(TorrentInfo info, const std::string& torrent_bytes,
                                              std::optional<Magnet> magnet,
                                              const AddRequest& request) {
  const Sha1Digest hash = magnet ? magnet->info_hash : info.info_hash;
  for (const auto& [id, e] : entries_) {
    if (e.hash == hash) return AddResult{true, id, e.saved.name, hash.hex()};
  }
  Entry e;
  e.hash = hash;
  e.saved.id = state_.next_id++;
  e.saved.hash = hash.hex();
  e.saved.download_dir = request.download_dir.value_or(state_.settings.download_dir);
  if (e.saved.download_dir.empty() || e.saved.download_dir.front() != '/') {
    e.saved.download_dir = fs::absolute(e.saved.download_dir).string();
  }
  e.saved.paused = request.paused.value_or(!state_.settings.start_added_torrents);
  e.saved.added_date = now();
  if (magnet) {
    e.saved.magnet = format_magnet(*magnet);
    e.saved.name = magnet->display_name.empty() ? hash.hex() : magnet->display_name;
    e.magnet = std::move(magnet);
  } else {
    if (auto s = write_file(torrent_file(hash), torrent_bytes); !s) return s.error();
    e.saved.name = info.name;
    const std::size_t files = info.layout.files().size();
    if (!request.files_unwanted.empty()) {
      e.saved.wanted.assign(files, true);
      for (int i : request.files_unwanted) {
        if (static_cast<std::size_t>(i) < files)
          e.saved.wanted[static_cast<std::size_t>(i)] = false;
      }
    }
    if (!request.priority_high.empty() || !request.priority_low.empty()) {
      e.saved.priorities.assign(files, 0);
      for (int i : request.priority_high) {
        if (static_cast<std::size_t>(i) < files)
          e.saved.priorities[static_cast<std::size_t>(i)] = 1;
      }
      for (int i : request.priority_low) {
        if (static_cast<std::size_t>(i) < files)
          e.saved.priorities[static_cast<std::size_t>(i)] = -1;
      }
    }
    e.info = std::move(info);
  }
  const int id = e.saved.id;
  AddResult result{false, id, e.saved.name, hash.hex()};
  Entry& stored = entries_.emplace(id, std::move(e)).first->second;
  ++current_.files_added;
  ++state_.cumulative.files_added;
  if (!stored.saved.paused) go_live(stored);
  stored.activity_date = now();
  mark_dirty();
  (void)save();
  return result;
}

Status DaemonBackend::start(int id, bool /*now: no queue, every torrent starts at once*/) {
  Entry* e = find(id);
  if (e == nullptr) return ok();
  e->saved.paused = false;
  go_live(*e);
  mark_dirty();
  return save();
}

Status DaemonBackend::stop(int id) {
  Entry* e = find(id);
  if (e == nullptr) return ok();
  e->saved.paused = true;
  go_idle(*e);
  mark_dirty();
  return save();
}

Status DaemonBackend::remove(int id, bool delete_local_data) {
  Entry* e = find(id);
  if (e == nullptr) return ok();
  go_idle(*e);
  counted_down_ -= e->saved.downloaded;
  counted_up_ -= e->saved.uploaded;
  std::error_code ec;
  if (delete_local_data && e->info) {
    const fs::path dir = e->saved.download_dir;
    const auto& files = e->info->layout.files();
    std::set<fs::path, std::greater<>> parents;  // deepest first
    for (std::size_t i = 0; i < files.size(); ++i) {
      if (files[i].pad) continue;
      const fs::path path = e->info->layout.file_path(dir, FileIndex(static_cast<std::int32_t>(i)));
      fs::remove(path, ec);
      for (fs::path p = path.parent_path(); p != dir && p.string().size() > dir.string().size();
           p = p.parent_path()) {
        parents.insert(p);
      }
    }
    for (const auto& p : parents) fs::remove(p, ec);  // only when empty
  }
  fs::remove(torrent_file(e->hash), ec);
  fs::remove(resume_file(e->hash), ec);
  removed_.emplace_back(id, now());
  if (removed_.size() > 1000) removed_.erase(removed_.begin());
  entries_.erase(id);
  mark_dirty();
  return save();
}

Status DaemonBackend::verify(int id) {
  Entry* e = find(id);
  if (e == nullptr || !e->info || e->checking) return ok();
  e->live_after_check = live(*e) != nullptr;
  go_idle(*e);
  // A full check, off the network thread: forget the resume data, hash what is on disk.
  std::error_code ec;
  fs::remove(resume_file(e->hash), ec);
  e->checking = true;
  e->verified_known = false;
  std::weak_ptr<int> alive = life_;
  checks_.emplace_back([this, alive, id, layout = e->info->layout, hashes = e->info->piece_hashes,
                        dir = fs::path(e->saved.download_dir), &io = session_.io()] {
    const HashResult hashed = hash_pieces(layout, dir);
    Bitfield have(hashes.size());
    for (std::size_t i = 0; i < hashed.pieces.size() && i < hashes.size(); ++i) {
      if (hashed.pieces[i] && *hashed.pieces[i] == hashes[i]) have.set(i);
    }
    boost::asio::post(io, [this, alive, id, have = std::move(have)] {
      if (alive.expired()) return;
      Entry* entry = find(id);
      if (entry == nullptr) return;
      entry->checking = false;
      entry->verified = have;
      entry->verified_known = true;
      entry->activity_date = now();
      if (entry->live_after_check && !entry->saved.paused) go_live(*entry);
    });
  });
  return ok();
}

Status DaemonBackend::reannounce(int id) {
  // Trackers are re-asked on their own schedule; a torrent that is running announces anyway.
  (void)id;
  return ok();
}

Status DaemonBackend::set_torrent(int id, const TorrentChanges& c) {
  Entry* e = find(id);
  if (e == nullptr) return ok();
  bool files_changed = false;
  const std::size_t files = e->info ? e->info->layout.files().size() : 0;
  auto mark = [&](const std::vector<int>& indices, auto apply) -> Status {
    for (int i : indices) {
      if (static_cast<std::size_t>(i) >= files) {
        return bad("file index " + std::to_string(i) + " out of range");
      }
      apply(static_cast<std::size_t>(i));
      files_changed = true;
    }
    return ok();
  };
  if (files > 0) {
    if (e->saved.wanted.empty()) e->saved.wanted.assign(files, true);
    if (e->saved.priorities.empty()) e->saved.priorities.assign(files, 0);
  }
  if (auto s = mark(c.files_wanted, [&](std::size_t i) { e->saved.wanted[i] = true; }); !s)
    return s;
  if (auto s = mark(c.files_unwanted, [&](std::size_t i) { e->saved.wanted[i] = false; }); !s)
    return s;
  if (auto s = mark(c.priority_high, [&](std::size_t i) { e->saved.priorities[i] = 1; }); !s)
    return s;
  if (auto s = mark(c.priority_normal, [&](std::size_t i) { e->saved.priorities[i] = 0; }); !s)
    return s;
  if (auto s = mark(c.priority_low, [&](std::size_t i) { e->saved.priorities[i] = -1; }); !s)
    return s;
  if (c.download_limit) e->saved.download_limit = *c.download_limit;
  if (c.download_limited) e->saved.download_limited = *c.download_limited;
  if (c.upload_limit) e->saved.upload_limit = *c.upload_limit;
  if (c.upload_limited) e->saved.upload_limited = *c.upload_limited;
  if (c.seed_ratio_limit) e->saved.seed_ratio_limit = *c.seed_ratio_limit;
  if (c.seed_ratio_mode) e->saved.seed_ratio_mode = *c.seed_ratio_mode;
  // New file choices take effect by restarting the torrent with its verified pieces.
  if (files_changed && live(*e)) {
    go_idle(*e);
    go_live(*e);
  }
  mark_dirty();
  return save();
}

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

Status DaemonBackend::set_session(const SessionView& changed) {
  const int port = state_.settings.peer_port;
  state_.settings = changed;
  state_.settings.peer_port = port;  // the listener stays where it is until a restart
  apply_rate_limits();
  mark_dirty();
  return save();
}

void DaemonBackend::apply_rate_limits() {
  const SessionView& s = state_.settings;
  const auto t = std::chrono::steady_clock::now();
  const std::int64_t down = s.alt_speed_enabled          ? s.alt_speed_down
                            : s.speed_limit_down_enabled ? s.speed_limit_down
                                                         : 0;
  const std::int64_t up = s.alt_speed_enabled        ? s.alt_speed_up
                          : s.speed_limit_up_enabled ? s.speed_limit_up
                                                     : 0;
  // kB/s as Transmission counts them (1000 bytes); 0 = unlimited.
  session_.download_bucket().set_rate(down * 1000, t);
  session_.upload_bucket().set_rate(up * 1000, t);
}

SessionStats DaemonBackend::stats() const {
  SessionStats out;
  out.current = current_;
  out.current.seconds_active = now() - started_at_;
  out.cumulative = state_.cumulative;
  out.cumulative.seconds_active += out.current.seconds_active;
  return out;
}

void DaemonBackend::count_transfer() {
  std::int64_t down = 0;
  std::int64_t up = 0;
  for (const auto& [id, e] : entries_) {
    down += e.saved.downloaded;
    up += e.saved.uploaded;
    if (const session::Torrent* t = live(e)) {
      const auto s = t->status();
      down += s.downloaded;
      up += s.uploaded;
    }
  }
  if (down > counted_down_) {
    current_.downloaded_bytes += down - counted_down_;
    state_.cumulative.downloaded_bytes += down - counted_down_;
  }
  if (up > counted_up_) {
    current_.uploaded_bytes += up - counted_up_;
    state_.cumulative.uploaded_bytes += up - counted_up_;
  }
  if (down != counted_down_ || up != counted_up_) mark_dirty();
  counted_down_ = down;
  counted_up_ = up;
}

void DaemonBackend::tick() {
  const std::int64_t t = now();
  count_transfer();
  for (auto& [id, e] : entries_) {
    const session::Torrent* torrent = live(e);
    if (torrent == nullptr) continue;
    const auto s = torrent->status();
    if (s.down_rate > 0 || s.up_rate > 0) e.activity_date = t;
    if (s.finished && e.saved.done_date == 0) {
      e.saved.done_date = t;
      e.activity_date = t;
      mark_dirty();
    }
  }
  if (dirty_ && t - last_save_ >= kSaveInterval) (void)save();
}

Status DaemonBackend::save() {
  DaemonState out;
  out.next_id = state_.next_id;
  out.settings = state_.settings;
  out.cumulative = state_.cumulative;
  out.cumulative.seconds_active += now() - started_at_;
  for (const auto& [id, e] : entries_) {
    SavedTorrent saved = e.saved;
    if (const session::Torrent* t = live(e)) {
      const auto s = t->status();
      saved.downloaded += s.downloaded;
      saved.uploaded += s.uploaded;
      saved.corrupt += s.wasted_bytes;
    }
    out.torrents.push_back(std::move(saved));
  }
  last_save_ = now();
  dirty_ = false;
  auto s = save_state_file(state_file(), out);
  if (!s) session_.log("cannot save the daemon state: " + s.error().message());
  return s;
}

void DaemonBackend::shutdown() {
  count_transfer();
  // Saved first with live totals, then each torrent leaves the session (resume data written).
  (void)save();
  for (auto& [id, e] : entries_) {
    const bool paused = e.saved.paused;
    go_idle(e);
    e.saved.paused = paused;
  }
  counted_down_ = 0;
  counted_up_ = 0;
  for (const auto& [id, e] : entries_) {
    counted_down_ += e.saved.downloaded;
    counted_up_ += e.saved.uploaded;
  }
  (void)save();
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
