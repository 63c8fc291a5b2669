#include "rpc/daemon_state.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>

#include "rpc/request.hpp"

namespace starling::rpc {
namespace {

Error bad(const std::string& what) {
  return Error(Errc::invalid_argument, "state: " + what);
}

Json settings_json(const SessionView& s) {
  return {{"download-dir", s.download_dir},
          {"peer-port", s.peer_port},
          {"utp-enabled", s.utp_enabled},
          {"dht-enabled", s.dht_enabled},
          {"pex-enabled", s.pex_enabled},
          {"speed-limit-down", s.speed_limit_down},
          {"speed-limit-down-enabled", s.speed_limit_down_enabled},
          {"speed-limit-up", s.speed_limit_up},
          {"speed-limit-up-enabled", s.speed_limit_up_enabled},
          {"alt-speed-down", s.alt_speed_down},
          {"alt-speed-up", s.alt_speed_up},
          {"alt-speed-enabled", s.alt_speed_enabled},
          {"alt-speed-time-enabled", s.alt_speed_time_enabled},
          {"alt-speed-time-begin", s.alt_speed_time_begin},
          {"alt-speed-time-end", s.alt_speed_time_end},
          {"alt-speed-time-day", s.alt_speed_time_day},
          {"peer-limit-global", s.peer_limit_global},
          {"peer-limit-per-torrent", s.peer_limit_per_torrent},
          {"seedRatioLimit", s.seed_ratio_limit},
          {"seedRatioLimited", s.seed_ratio_limited},
          {"idle-seeding-limit", s.idle_seeding_limit},
          {"idle-seeding-limit-enabled", s.idle_seeding_limit_enabled},
          {"start-added-torrents", s.start_added_torrents}};
}

// Readers that keep the default when the key is absent.
template <class T>
Status read(const Json& object, const char* key, T& out) {
  auto it = object.find(key);
  if (it == object.end()) return ok();
  if constexpr (std::is_same_v<T, bool>) {
    if (!it->is_boolean()) return bad(std::string("'") + key + "' is not a boolean");
    out = it->get<bool>();
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!it->is_string()) return bad(std::string("'") + key + "' is not a string");
    out = it->get<std::string>();
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!it->is_number()) return bad(std::string("'") + key + "' is not a number");
    out = it->get<T>();
  } else {
    if (!it->is_number_integer()) return bad(std::string("'") + key + "' is not an integer");
    out = it->get<T>();
  }
  return ok();
}

#define STARLING_READ(object, key, field)            \
  do {                                               \
    if (auto st_ = read(object, key, field); !st_) { \
      return st_.error();                            \
    }                                                \
  } while (false)

Status read_settings(const Json& j, SessionView& s) {
  STARLING_READ(j, "download-dir", s.download_dir);
  STARLING_READ(j, "peer-port", s.peer_port);
  STARLING_READ(j, "utp-enabled", s.utp_enabled);
  STARLING_READ(j, "dht-enabled", s.dht_enabled);
  STARLING_READ(j, "pex-enabled", s.pex_enabled);
  STARLING_READ(j, "speed-limit-down", s.speed_limit_down);
  STARLING_READ(j, "speed-limit-down-enabled", s.speed_limit_down_enabled);
  STARLING_READ(j, "speed-limit-up", s.speed_limit_up);
  STARLING_READ(j, "speed-limit-up-enabled", s.speed_limit_up_enabled);
  STARLING_READ(j, "alt-speed-down", s.alt_speed_down);
  STARLING_READ(j, "alt-speed-up", s.alt_speed_up);
  STARLING_READ(j, "alt-speed-enabled", s.alt_speed_enabled);
  STARLING_READ(j, "alt-speed-time-enabled", s.alt_speed_time_enabled);
  STARLING_READ(j, "alt-speed-time-begin", s.alt_speed_time_begin);
  STARLING_READ(j, "alt-speed-time-end", s.alt_speed_time_end);
  STARLING_READ(j, "alt-speed-time-day", s.alt_speed_time_day);
  STARLING_READ(j, "peer-limit-global", s.peer_limit_global);
  STARLING_READ(j, "peer-limit-per-torrent", s.peer_limit_per_torrent);
  STARLING_READ(j, "seedRatioLimit", s.seed_ratio_limit);
  STARLING_READ(j, "seedRatioLimited", s.seed_ratio_limited);
  STARLING_READ(j, "idle-seeding-limit", s.idle_seeding_limit);
  STARLING_READ(j, "idle-seeding-limit-enabled", s.idle_seeding_limit_enabled);
  STARLING_READ(j, "start-added-torrents", s.start_added_torrents);
  return ok();
}

Status read_counts(const Json& j, TransferCounts& c) {
  STARLING_READ(j, "uploadedBytes", c.uploaded_bytes);
  STARLING_READ(j, "downloadedBytes", c.downloaded_bytes);
  STARLING_READ(j, "filesAdded", c.files_added);
  STARLING_READ(j, "sessionCount", c.session_count);
  STARLING_READ(j, "secondsActive", c.seconds_active);
  return ok();
}

Expected<SavedTorrent> read_torrent(const Json& j) {
  if (!j.is_object()) return bad("a torrent is not an object");
  SavedTorrent t;
  STARLING_READ(j, "id", t.id);
  STARLING_READ(j, "hash", t.hash);
  STARLING_READ(j, "magnet", t.magnet);
  STARLING_READ(j, "name", t.name);
  STARLING_READ(j, "download-dir", t.download_dir);
  STARLING_READ(j, "paused", t.paused);
  STARLING_READ(j, "added-date", t.added_date);
  STARLING_READ(j, "done-date", t.done_date);
  STARLING_READ(j, "downloaded", t.downloaded);
  STARLING_READ(j, "uploaded", t.uploaded);
  STARLING_READ(j, "corrupt", t.corrupt);
  STARLING_READ(j, "download-limit", t.download_limit);
  STARLING_READ(j, "download-limited", t.download_limited);
  STARLING_READ(j, "upload-limit", t.upload_limit);
  STARLING_READ(j, "upload-limited", t.upload_limited);
  STARLING_READ(j, "seed-ratio-limit", t.seed_ratio_limit);
  STARLING_READ(j, "seed-ratio-mode", t.seed_ratio_mode);
  STARLING_READ(j, "honors-session-limits", t.honors_session_limits);
  if (auto it = j.find("wanted"); it != j.end()) {
    if (!it->is_array()) return bad("'wanted' is not a list");
    for (const auto& w : *it) {
      if (!w.is_boolean()) return bad("'wanted' holds a non-boolean");
      t.wanted.push_back(w.get<bool>());
    }
  }
  if (auto it = j.find("priorities"); it != j.end()) {
    if (!it->is_array()) return bad("'priorities' is not a list");
    for (const auto& p : *it) {
      if (!p.is_number_integer()) return bad("'priorities' holds a non-integer");
      t.priorities.push_back(p.get<int>());
    }
  }
  if (t.id <= 0) return bad("a torrent without an id");
  if (t.hash.size() != 40) return bad("torrent " + std::to_string(t.id) + " has no info-hash");
  return t;
}

}  // namespace

std::string encode_state(const DaemonState& state) {
  Json torrents = Json::array();
  for (const auto& t : state.torrents) {
    torrents.push_back({{"id", t.id},
                        {"hash", t.hash},
                        {"magnet", t.magnet},
                        {"name", t.name},
                        {"download-dir", t.download_dir},
                        {"paused", t.paused},
                        {"wanted", t.wanted},
                        {"priorities", t.priorities},
                        {"added-date", t.added_date},
                        {"done-date", t.done_date},
                        {"downloaded", t.downloaded},
                        {"uploaded", t.uploaded},
                        {"corrupt", t.corrupt},
                        {"download-limit", t.download_limit},
                        {"download-limited", t.download_limited},
                        {"upload-limit", t.upload_limit},
                        {"upload-limited", t.upload_limited},
                        {"seed-ratio-limit", t.seed_ratio_limit},
                        {"seed-ratio-mode", t.seed_ratio_mode},
                        {"honors-session-limits", t.honors_session_limits}});
  }
  const auto& c = state.cumulative;
  Json doc = {{"next-id", state.next_id},
              {"settings", settings_json(state.settings)},
              {"cumulative-stats",
               {{"uploadedBytes", c.uploaded_bytes},
                {"downloadedBytes", c.downloaded_bytes},
                {"filesAdded", c.files_added},
                {"sessionCount", c.session_count},
                {"secondsActive", c.seconds_active}}},
              {"torrents", std::move(torrents)}};
  return doc.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

Expected<DaemonState> parse_state(std::string_view text) {
  Json doc = Json::parse(text.begin(), text.end(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return bad("not a JSON object");
  DaemonState state;
  STARLING_READ(doc, "next-id", state.next_id);
  if (auto it = doc.find("settings"); it != doc.end()) {
    if (!it->is_object()) return bad("'settings' is not an object");
    if (auto st = read_settings(*it, state.settings); !st) return st.error();
  }
  if (auto it = doc.find("cumulative-stats"); it != doc.end()) {
    if (!it->is_object()) return bad("'cumulative-stats' is not an object");
    if (auto st = read_counts(*it, state.cumulative); !st) return st.error();
  }
  if (auto it = doc.find("torrents"); it != doc.end()) {
    if (!it->is_array()) return bad("'torrents' is not a list");
    for (const auto& j : *it) {
      auto t = read_torrent(j);
      if (!t) return t.error();
      if (t->id >= state.next_id) state.next_id = t->id + 1;
      state.torrents.push_back(std::move(*t));
    }
  }
  return state;
}

Status save_state_file(const std::filesystem::path& file, const DaemonState& state) {
  const std::string text = encode_state(state);
  const std::filesystem::path temp = file.string() + ".tmp";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Error(std::error_code(errno, std::system_category()), temp.string());
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = errno;
      ::close(fd);
      return Error(std::error_code(err, std::system_category()), temp.string());
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    return Error(std::error_code(errno, std::system_category()), temp.string());
  }
  std::error_code ec;
  std::filesystem::rename(temp, file, ec);
  if (ec) return Error(ec, file.string());
  return ok();
}

Expected<DaemonState> load_state_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    if (!std::filesystem::exists(file)) return DaemonState{};
    return Error(Errc::io_error, file.string() + ": cannot read");
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  auto state = parse_state(buffer.str());
  if (!state) return Error(state.error().code, file.string() + ": " + state.error().detail);
  return state;
}

}  // namespace starling::rpc
