// DaemonBackend: the torrents' lifecycle (restore, add, start, stop, remove, verify, set,
// set-location) and the state saved for it. What they report is in daemon_backend_views.cpp.
#include "rpc/daemon_backend.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <chrono>
#include <fstream>
#include <set>
#include <sstream>

#include "metainfo/metadata_file.hpp"
#include "net/host_port.hpp"
#include "rpc/torrent_url.hpp"
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

// Moves a torrent's files from `from` to `to` (same relative paths), across file systems too;
// parents left empty behind are removed. Stops at the first failure, naming the file.
Status move_files(const TorrentInfo& info, const fs::path& from, const fs::path& to) {
  const auto& files = info.layout.files();
  std::set<fs::path, std::greater<>> parents;  // deepest first
  for (std::size_t i = 0; i < files.size(); ++i) {
    if (files[i].pad) continue;
    const FileIndex index(static_cast<std::int32_t>(i));
    const fs::path source = info.layout.file_path(from, index);
    const fs::path target = info.layout.file_path(to, index);
    std::error_code ec;
    if (!fs::exists(source, ec)) continue;  // not downloaded yet
    fs::create_directories(target.parent_path(), ec);
    if (ec) return Error(ec, "cannot create " + target.parent_path().string());
    fs::rename(source, target, ec);
    if (ec == std::errc::cross_device_link) {
      ec.clear();
      fs::copy_file(source, target, fs::copy_options::overwrite_existing, ec);
      if (!ec) fs::remove(source, ec);
    }
    if (ec) return Error(ec, "cannot move " + source.string() + " to " + target.string());
    for (fs::path p = source.parent_path(); p != from && p.string().size() > from.string().size();
         p = p.parent_path()) {
      parents.insert(p);
    }
  }
  std::error_code ec;
  for (const auto& p : parents) fs::remove(p, ec);  // only when empty
  return ok();
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
  apply_torrent_limits(e);
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
  if (is_torrent_url(name)) {
    return bad("a .torrent by URL is fetched through add_async (the RPC's path), not add()");
  }
  auto bytes = read_file(name, TorrentLimits{}.max_torrent_bytes);
  if (!bytes) return bytes.error();
  auto info = parse_torrent(*bytes);
  if (!info) return Error(info.error().code, name + ": " + info.error().message());
  return add_parsed(std::move(*info), *bytes, std::nullopt, request);
}

void DaemonBackend::add_async(const AddRequest& request,
                              std::function<void(const Expected<AddResult>&)> done) {
  if (!request.metainfo.empty() || !is_torrent_url(request.filename)) return done(add(request));
  std::weak_ptr<int> alive = life_;
  TorrentUrlSettings settings;
  settings.max_bytes = TorrentLimits{}.max_torrent_bytes;
  fetch_torrent_url(
      session_.io(), request.filename,
      [this, alive, request, done = std::move(done)](Expected<std::string> bytes) {
        if (alive.expired()) return;  // shutting down: the connection goes with the server
        if (!bytes) return done(bytes.error());
        auto info = parse_torrent(*bytes);
        if (!info) {
          return done(Error(
              info.error().code,
              request.filename + ": invalid or corrupt torrent file: " + info.error().message()));
        }
        done(add_parsed(std::move(*info), *bytes, std::nullopt, request));
      },
      settings);
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
  const bool was_live = live(*e) != nullptr;
  go_idle(*e);
  start_check(*e, was_live);
  return ok();
}

void DaemonBackend::start_check(Entry& e, bool live_after) {
  // A full check, off the network thread: forget the resume data, hash what is on disk.
  std::error_code ec;
  fs::remove(resume_file(e.hash), ec);
  e.live_after_check = live_after;
  e.checking = true;
  e.verified_known = false;
  const int id = e.saved.id;
  std::weak_ptr<int> alive = life_;
  checks_.emplace_back([this, alive, id, layout = e.info->layout, hashes = e.info->piece_hashes,
                        dir = fs::path(e.saved.download_dir), &io = session_.io()] {
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
}

Status DaemonBackend::set_location(int id, const std::string& location, bool move) {
  Entry* e = find(id);
  if (e == nullptr) return ok();
  const fs::path to = fs::path(location).lexically_normal();
  if (!to.is_absolute()) return bad("location must be an absolute path: " + location);
  if (e->checking) return bad(e->saved.name + " is being checked; set its location afterwards");
  const bool was_live = live(*e) != nullptr || e->fetch != nullptr;
  go_idle(*e);
  const fs::path from = e->saved.download_dir;
  if (move && e->info && from != to) {
    if (auto s = move_files(*e->info, from, to); !s) {
      if (was_live) go_live(*e);
      return s;
    }
  }
  e->saved.download_dir = to.string();
  mark_dirty();
  if (e->info) {
    start_check(*e, was_live);  // whatever is at the new place is what the torrent has
  } else if (was_live) {
    go_live(*e);
  }
  return save();
}

Status DaemonBackend::reannounce(int id) {
  Entry* e = find(id);
  if (e == nullptr) return ok();
  if (session::Torrent* torrent = live(*e)) {
    torrent->reannounce();
  } else if (!e->info && e->fetch) {
    session_.find_peers(e->hash);  // a magnet still fetching its metadata: ask the DHT again
  }
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
  if (c.honors_session_limits) e->saved.honors_session_limits = *c.honors_session_limits;
  apply_torrent_limits(*e);
  // New file choices take effect by restarting the torrent with its verified pieces.
  if (files_changed && live(*e)) {
    go_idle(*e);
    go_live(*e);
  }
  mark_dirty();
  return save();
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

void DaemonBackend::apply_torrent_limits(const Entry& e) {
  session::Torrent* torrent = live(e);
  if (torrent == nullptr) return;
  // kB/s of 1000 bytes, as Transmission counts them; a limit that is off or 0 is no limit.
  const std::int64_t up =
      e.saved.upload_limited ? std::max<std::int64_t>(e.saved.upload_limit, 0) : 0;
  const std::int64_t down =
      e.saved.download_limited ? std::max<std::int64_t>(e.saved.download_limit, 0) : 0;
  torrent->set_rate_limits(up * 1000, down * 1000, e.saved.honors_session_limits);
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

}  // namespace starling::rpc
