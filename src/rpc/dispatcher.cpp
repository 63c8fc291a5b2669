#include "rpc/dispatcher.hpp"

#include <algorithm>
#include <set>

#include "rpc/base64.hpp"
#include "rpc/torrent_fields.hpp"

namespace starling::rpc {
namespace {

Error bad(const std::string& what) {
  return Error(Errc::invalid_argument, what);
}

std::string dump(const Json& value) {
  // Replace, never throw, on bytes that are not UTF-8 (a torrent's name can hold anything).
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Json stats_json(const TransferCounts& c) {
  return {{"uploadedBytes", c.uploaded_bytes},
          {"downloadedBytes", c.downloaded_bytes},
          {"filesAdded", c.files_added},
          {"sessionCount", c.session_count},
          {"secondsActive", c.seconds_active}};
}

// Applies the session-set keys present in `args` to `s`.
Status apply_session_set(const Json& args, SessionView& s) {
  auto set_int = [&](const char* key, auto& field) -> Status {
    auto v = get_int(args, key);
    if (!v) return v.error();
    if (*v) {
      if (**v < 0) return bad(std::string("'") + key + "' is negative");
      field = static_cast<std::remove_reference_t<decltype(field)>>(**v);
    }
    return ok();
  };
  auto set_bool = [&](const char* key, bool& field) -> Status {
    auto v = get_bool(args, key);
    if (!v) return v.error();
    if (*v) field = **v;
    return ok();
  };
  for (auto [key, field] : std::initializer_list<std::pair<const char*, std::int64_t*>>{
           {"speed-limit-down", &s.speed_limit_down},
           {"speed-limit-up", &s.speed_limit_up},
           {"alt-speed-down", &s.alt_speed_down},
           {"alt-speed-up", &s.alt_speed_up}}) {
    if (auto st = set_int(key, *field); !st) return st;
  }
  for (auto [key, field] : std::initializer_list<std::pair<const char*, int*>>{
           {"alt-speed-time-begin", &s.alt_speed_time_begin},
           {"alt-speed-time-end", &s.alt_speed_time_end},
           {"alt-speed-time-day", &s.alt_speed_time_day},
           {"peer-limit-global", &s.peer_limit_global},
           {"peer-limit-per-torrent", &s.peer_limit_per_torrent},
           {"idle-seeding-limit", &s.idle_seeding_limit},
           {"download-queue-size", &s.download_queue_size},
           {"seed-queue-size", &s.seed_queue_size},
           {"cache-size-mb", &s.cache_size_mb}}) {
    if (auto st = set_int(key, *field); !st) return st;
  }
  for (auto [key, field] : std::initializer_list<std::pair<const char*, bool*>>{
           {"speed-limit-down-enabled", &s.speed_limit_down_enabled},
           {"speed-limit-up-enabled", &s.speed_limit_up_enabled},
           {"alt-speed-enabled", &s.alt_speed_enabled},
           {"alt-speed-time-enabled", &s.alt_speed_time_enabled},
           {"seedRatioLimited", &s.seed_ratio_limited},
           {"idle-seeding-limit-enabled", &s.idle_seeding_limit_enabled},
           {"start-added-torrents", &s.start_added_torrents},
           {"rename-partial-files", &s.rename_partial_files},
           {"download-queue-enabled", &s.download_queue_enabled},
           {"seed-queue-enabled", &s.seed_queue_enabled},
           {"utp-enabled", &s.utp_enabled},
           {"dht-enabled", &s.dht_enabled},
           {"pex-enabled", &s.pex_enabled},
           {"lpd-enabled", &s.lpd_enabled},
           {"port-forwarding-enabled", &s.port_forwarding_enabled}}) {
    if (auto st = set_bool(key, *field); !st) return st;
  }
  auto ratio = get_double(args, "seedRatioLimit");
  if (!ratio) return ratio.error();
  if (*ratio) {
    if (**ratio < 0) return bad("'seedRatioLimit' is negative");
    s.seed_ratio_limit = **ratio;
  }
  auto dir = get_string(args, "download-dir");
  if (!dir) return dir.error();
  if (*dir) {
    if ((*dir)->empty() || (*dir)->front() != '/')
      return bad("'download-dir' is not an absolute path");
    s.download_dir = **dir;
  }
  auto port = get_int(args, "peer-port");
  if (!port) return port.error();
  if (*port) {
    if (**port < 1 || **port > 65535) return bad("'peer-port' is not a port number");
    s.peer_port = static_cast<int>(**port);
  }
  auto encryption = get_string(args, "encryption");
  if (!encryption) return encryption.error();
  if (*encryption) {
    if (**encryption != "required" && **encryption != "preferred" && **encryption != "tolerated") {
      return bad("'encryption' is not one of required, preferred, tolerated");
    }
    // We speak plaintext only: "tolerated" is all we can honour.
    if (**encryption == "required") return bad("encryption is not supported");
    s.encryption = "tolerated";
  }
  return ok();
}

Status read_indices(const Json& args, const char* key, std::vector<int>& out) {
  auto v = get_int_list(args, key);
  if (!v) return v.error();
  if (*v) out = std::move(**v);
  return ok();
}

}  // namespace

Json session_json(const SessionView& s) {
  return {
      {"alt-speed-down", s.alt_speed_down},
      {"alt-speed-enabled", s.alt_speed_enabled},
      {"alt-speed-time-begin", s.alt_speed_time_begin},
      {"alt-speed-time-day", s.alt_speed_time_day},
      {"alt-speed-time-enabled", s.alt_speed_time_enabled},
      {"alt-speed-time-end", s.alt_speed_time_end},
      {"alt-speed-up", s.alt_speed_up},
      {"blocklist-enabled", false},
      {"blocklist-size", 0},
      {"blocklist-url", ""},
      {"cache-size-mb", s.cache_size_mb},
      {"config-dir", s.config_dir},
      {"dht-enabled", s.dht_enabled},
      {"download-dir", s.download_dir},
      {"download-dir-free-space", -1},
      {"download-queue-enabled", s.download_queue_enabled},
      {"download-queue-size", s.download_queue_size},
      {"encryption", s.encryption},
      {"idle-seeding-limit", s.idle_seeding_limit},
      {"idle-seeding-limit-enabled", s.idle_seeding_limit_enabled},
      {"incomplete-dir", s.download_dir},
      {"incomplete-dir-enabled", false},
      {"lpd-enabled", s.lpd_enabled},
      {"peer-limit-global", s.peer_limit_global},
      {"peer-limit-per-torrent", s.peer_limit_per_torrent},
      {"peer-port", s.peer_port},
      {"peer-port-random-on-start", false},
      {"pex-enabled", s.pex_enabled},
      {"port-forwarding-enabled", s.port_forwarding_enabled},
      {"queue-stalled-enabled", false},
      {"queue-stalled-minutes", 30},
      {"rename-partial-files", s.rename_partial_files},
      {"rpc-version", kRpcVersion},
      {"rpc-version-minimum", kRpcVersionMinimum},
      {"rpc-version-semver", "5.3.0"},
      {"script-torrent-done-enabled", false},
      {"script-torrent-done-filename", ""},
      {"seed-queue-enabled", s.seed_queue_enabled},
      {"seed-queue-size", s.seed_queue_size},
      {"seedRatioLimit", s.seed_ratio_limit},
      {"seedRatioLimited", s.seed_ratio_limited},
      {"session-id", ""},
      {"speed-limit-down", s.speed_limit_down},
      {"speed-limit-down-enabled", s.speed_limit_down_enabled},
      {"speed-limit-up", s.speed_limit_up},
      {"speed-limit-up-enabled", s.speed_limit_up_enabled},
      {"start-added-torrents", s.start_added_torrents},
      {"trash-original-torrent-files", false},
      {"units",
       {{"speed-units", {"kB/s", "MB/s", "GB/s", "TB/s"}},
        {"speed-bytes", 1000},
        {"size-units", {"kB", "MB", "GB", "TB"}},
        {"size-bytes", 1000},
        {"memory-units", {"KiB", "MiB", "GiB", "TiB"}},
        {"memory-bytes", 1024}}},
      {"utp-enabled", s.utp_enabled},
      {"version", s.version},
  };
}

std::string Dispatcher::handle(std::string_view body, std::int64_t now) {
  auto request = parse_request(body);
  if (!request) {
    // Echo a tag even from a request we refuse, when one can be found.
    Json reply = {{"result", request.error().detail}, {"arguments", Json::object()}};
    return dump(reply);
  }
  return dump(handle(*request, now));
}

Json Dispatcher::handle(const Request& request, std::int64_t now) {
  const std::string& m = request.method;
  const Json& args = request.arguments;
  Expected<Json> result = Json::object();
  if (m == "session-get") {
    result = session_get(args);
  } else if (m == "session-set") {
    result = session_set(args);
  } else if (m == "session-stats") {
    result = session_stats();
  } else if (m == "torrent-get") {
    result = torrent_get(args, now);
  } else if (m == "torrent-add") {
    result = torrent_add(args);
  } else if (m == "torrent-start" || m == "torrent-start-now") {
    const bool at_once = m == "torrent-start-now";
    result = for_each_selected(args, now, [&](int id) { return backend_.start(id, at_once); });
  } else if (m == "torrent-stop") {
    result = for_each_selected(args, now, [&](int id) { return backend_.stop(id); });
  } else if (m == "torrent-verify") {
    result = for_each_selected(args, now, [&](int id) { return backend_.verify(id); });
  } else if (m == "torrent-reannounce") {
    result = for_each_selected(args, now, [&](int id) { return backend_.reannounce(id); });
  } else if (m == "torrent-set-location") {
    auto location = get_string(args, "location");
    auto move = get_bool(args, "move");
    if (!location) {
      result = location.error();
    } else if (!move) {
      result = move.error();
    } else if (!*location || (*location)->empty()) {
      result = bad("no location specified");
    } else {
      const std::string where = **location;
      const bool move_files = move->value_or(false);
      result = for_each_selected(
          args, now, [&](int id) { return backend_.set_location(id, where, move_files); });
    }
  } else if (m == "torrent-rename-path") {
    // Files keep the names the .torrent gives them: the storage layer maps pieces to those.
    result =
        bad("torrent-rename-path is not supported: starling keeps the names from the .torrent");
  } else if (m == "torrent-remove") {
    auto delete_data = get_bool(args, "delete-local-data");
    if (!delete_data) {
      result = delete_data.error();
    } else {
      const bool wipe = delete_data->value_or(false);
      result = for_each_selected(args, now, [&](int id) { return backend_.remove(id, wipe); });
    }
  } else if (m == "torrent-set") {
    result = torrent_set(args, now);
  } else if (m == "free-space") {
    result = free_space(args);
  } else if (m == "queue-move-top" || m == "queue-move-up" || m == "queue-move-down" ||
             m == "queue-move-bottom") {
    // No queue: every torrent runs. Accepted so the web client's menu does not fail.
    result = select(args, now).has_value() ? Expected<Json>(Json::object())
                                           : Expected<Json>(bad("invalid 'ids'"));
  } else if (m == "port-test") {
    result = Json{{"port-is-open", false}};
  } else {
    result = bad("method name not recognized");
  }
  return reply_json(std::move(result), request.tag);
}

Json Dispatcher::reply_json(Expected<Json> result, std::optional<std::int64_t> tag) {
  Json reply;
  if (result) {
    reply = {{"result", "success"}, {"arguments", std::move(*result)}};
  } else {
    reply = {{"result", result.error().detail}, {"arguments", Json::object()}};
  }
  if (tag) reply["tag"] = *tag;
  return reply;
}

void Dispatcher::handle(std::string_view body, std::int64_t now, ReplyFn reply) {
  auto request = parse_request(body);
  if (!request || request->method != "torrent-add") return reply(handle(body, now));
  // torrent-add may have to fetch the .torrent first (an http URL): the backend answers later.
  auto add = add_request(request->arguments);
  if (!add) return reply(dump(reply_json(add.error(), request->tag)));
  backend_.add_async(
      *add, [tag = request->tag, reply = std::move(reply)](const Expected<AddResult>& added) {
        reply(dump(reply_json(added_json(added), tag)));
      });
}

Expected<Json> Dispatcher::session_get(const Json& args) {
  Json all = session_json(backend_.session());
  auto fields = args.find("fields");
  if (fields == args.end() || !fields->is_array()) return all;
  Json out = Json::object();
  for (const auto& f : *fields) {
    if (!f.is_string()) continue;
    if (auto it = all.find(f.get<std::string>()); it != all.end()) out[it.key()] = *it;
  }
  return out;
}

Expected<Json> Dispatcher::session_set(const Json& args) {
  SessionView s = backend_.session();
  if (auto st = apply_session_set(args, s); !st) return st.error();
  if (auto st = backend_.set_session(s); !st) return st.error();
  return Json::object();
}

Expected<Json> Dispatcher::session_stats() {
  const auto torrents = backend_.torrents();
  const SessionStats stats = backend_.stats();
  std::int64_t down = 0;
  std::int64_t up = 0;
  int active = 0;
  for (const auto& t : torrents) {
    down += t.rate_download;
    up += t.rate_upload;
    if (t.state != TorrentState::stopped) ++active;
  }
  return Json{{"activeTorrentCount", active},
              {"downloadSpeed", down},
              {"pausedTorrentCount", static_cast<int>(torrents.size()) - active},
              {"torrentCount", torrents.size()},
              {"uploadSpeed", up},
              {"cumulative-stats", stats_json(stats.cumulative)},
              {"current-stats", stats_json(stats.current)}};
}

Expected<std::vector<int>> Dispatcher::select(const Json& args, std::int64_t now) {
  auto selector = parse_ids(args);
  if (!selector) return selector.error();
  return pick(*selector, backend_.torrents(), now);
}

std::vector<int> Dispatcher::pick(const IdSelector& selector, const std::vector<TorrentView>& list,
                                  std::int64_t now) {
  std::vector<int> out;
  for (const auto& t : list) {
    bool take = selector.all;
    if (selector.recently_active) take = t.activity_date >= now - kRecentlyActiveSeconds;
    take = take || std::find(selector.ids.begin(), selector.ids.end(), t.id) != selector.ids.end();
    take = take || std::find(selector.hashes.begin(), selector.hashes.end(), t.hash) !=
                       selector.hashes.end();
    if (take) out.push_back(t.id);
  }
  return out;
}

template <class Action>
Expected<Json> Dispatcher::for_each_selected(const Json& args, std::int64_t now, Action action) {
  auto ids = select(args, now);
  if (!ids) return ids.error();
  for (int id : *ids) {
    if (auto st = action(id); !st) return st.error();
  }
  return Json::object();
}

Expected<Json> Dispatcher::torrent_get(const Json& args, std::int64_t now) {
  auto fields_it = args.find("fields");
  if (fields_it == args.end() || !fields_it->is_array()) return bad("no fields specified");
  std::vector<std::string> fields;
  for (const auto& f : *fields_it) {
    if (!f.is_string()) return bad("'fields' holds something other than a name");
    fields.push_back(f.get<std::string>());
  }
  auto format = get_string(args, "format");
  if (!format) return format.error();
  const bool table = format->value_or("objects") == "table";
  if (!table && format->value_or("objects") != "objects")
    return bad("'format' is not objects or table");

  auto selector = parse_ids(args);
  if (!selector) return selector.error();
  const std::vector<TorrentView> list = backend_.torrents();
  const std::vector<int> ids = pick(*selector, list, now);
  const std::set<int> chosen(ids.begin(), ids.end());

  Json torrents = Json::array();
  if (table) {
    Json header = Json::array();
    for (const auto& f : fields) {
      if (torrent_field(TorrentView{}, f)) header.push_back(f);
    }
    torrents.push_back(std::move(header));
  }
  for (const auto& t : list) {
    if (chosen.count(t.id) == 0) continue;
    if (table) {
      Json row = Json::array();
      for (const auto& f : fields) {
        if (auto v = torrent_field(t, f)) row.push_back(std::move(*v));
      }
      torrents.push_back(std::move(row));
    } else {
      Json object = Json::object();
      for (const auto& f : fields) {
        if (auto v = torrent_field(t, f)) object[f] = std::move(*v);
      }
      torrents.push_back(std::move(object));
    }
  }
  Json out = {{"torrents", std::move(torrents)}};
  if (selector->recently_active) {
    Json removed = Json::array();
    for (const auto& [id, when] : backend_.removed()) {
      if (when >= now - kRecentlyActiveSeconds) removed.push_back(id);
    }
    out["removed"] = std::move(removed);
  }
  return out;
}

Expected<AddRequest> Dispatcher::add_request(const Json& args) {
  AddRequest request;
  auto metainfo = get_string(args, "metainfo");
  if (!metainfo) return metainfo.error();
  auto filename = get_string(args, "filename");
  if (!filename) return filename.error();
  if (*metainfo && !(*metainfo)->empty()) {
    auto decoded = base64_decode(**metainfo);
    if (!decoded) return bad("'metainfo' is not base64");
    request.metainfo = std::move(*decoded);
  } else if (*filename && !(*filename)->empty()) {
    request.filename = **filename;
  } else {
    return bad("no filename or metainfo specified");
  }
  auto dir = get_string(args, "download-dir");
  if (!dir) return dir.error();
  if (*dir && !(*dir)->empty()) request.download_dir = **dir;
  auto paused = get_bool(args, "paused");
  if (!paused) return paused.error();
  request.paused = *paused;
  if (auto st = read_indices(args, "files-unwanted", request.files_unwanted); !st)
    return st.error();
  if (auto st = read_indices(args, "priority-high", request.priority_high); !st) return st.error();
  if (auto st = read_indices(args, "priority-low", request.priority_low); !st) return st.error();
  return request;
}

Expected<Json> Dispatcher::added_json(const Expected<AddResult>& added) {
  if (!added) return added.error();
  Json torrent = {{"id", added->id}, {"name", added->name}, {"hashString", added->hash}};
  return Json{{added->duplicate ? "torrent-duplicate" : "torrent-added", std::move(torrent)}};
}

Expected<Json> Dispatcher::torrent_add(const Json& args) {
  auto request = add_request(args);
  if (!request) return request.error();
  return added_json(backend_.add(*request));
}

Expected<Json> Dispatcher::torrent_set(const Json& args, std::int64_t now) {
  TorrentChanges c;
  for (auto [key, field] : std::initializer_list<std::pair<const char*, std::vector<int>*>>{
           {"files-wanted", &c.files_wanted},
           {"files-unwanted", &c.files_unwanted},
           {"priority-high", &c.priority_high},
           {"priority-normal", &c.priority_normal},
           {"priority-low", &c.priority_low}}) {
    if (auto st = read_indices(args, key, *field); !st) return st.error();
  }
  auto read_int = [&](const char* key, std::optional<std::int64_t>& field) -> Status {
    auto v = get_int(args, key);
    if (!v) return v.error();
    if (*v && **v < 0) return bad(std::string("'") + key + "' is negative");
    field = *v;
    return ok();
  };
  auto read_bool = [&](const char* key, std::optional<bool>& field) -> Status {
    auto v = get_bool(args, key);
    if (!v) return v.error();
    field = *v;
    return ok();
  };
  if (auto st = read_int("downloadLimit", c.download_limit); !st) return st.error();
  if (auto st = read_int("uploadLimit", c.upload_limit); !st) return st.error();
  if (auto st = read_bool("downloadLimited", c.download_limited); !st) return st.error();
  if (auto st = read_bool("uploadLimited", c.upload_limited); !st) return st.error();
  if (auto st = read_bool("honorsSessionLimits", c.honors_session_limits); !st) return st.error();
  auto ratio = get_double(args, "seedRatioLimit");
  if (!ratio) return ratio.error();
  c.seed_ratio_limit = *ratio;
  auto mode = get_int(args, "seedRatioMode");
  if (!mode) return mode.error();
  if (*mode) {
    if (**mode < 0 || **mode > 2) return bad("'seedRatioMode' is not 0, 1 or 2");
    c.seed_ratio_mode = static_cast<int>(**mode);
  }
  return for_each_selected(args, now, [&](int id) { return backend_.set_torrent(id, c); });
}

Expected<Json> Dispatcher::free_space(const Json& args) {
  auto path = get_string(args, "path");
  if (!path) return path.error();
  if (!*path) return bad("'path' is missing");
  auto bytes = backend_.free_space(**path);
  if (!bytes) return bytes.error();
  return Json{{"path", **path}, {"size-bytes", *bytes}, {"total_size", -1}};
}

}  // namespace starling::rpc
