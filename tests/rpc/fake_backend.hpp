// A Backend that records what the RPC asked of it, for the dispatcher tests.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "rpc/model.hpp"

namespace starling::rpc::testing {

class FakeBackend : public Backend {
 public:
  std::vector<TorrentView> list;
  std::vector<std::pair<int, std::int64_t>> removed_list;
  SessionView session_view;
  SessionStats session_stats;
  std::vector<std::string> calls;  // "start 1", "stop 2", "remove 3 data", ...
  AddRequest last_add;
  TorrentChanges last_changes;

  std::vector<TorrentView> torrents() const override { return list; }
  std::vector<std::pair<int, std::int64_t>> removed() const override { return removed_list; }
  SessionView session() const override { return session_view; }
  Status set_session(const SessionView& changed) override {
    session_view = changed;
    calls.push_back("set-session");
    return ok();
  }
  SessionStats stats() const override { return session_stats; }
  Expected<AddResult> add(const AddRequest& request) override {
    last_add = request;
    if (request.filename == "bad") return Error(Errc::invalid_argument, "unreadable torrent");
    for (const auto& t : list) {
      if (request.metainfo == t.name) return AddResult{true, t.id, t.name, t.hash};
    }
    TorrentView t;
    t.id = static_cast<int>(list.size()) + 1;
    t.name = request.metainfo.empty() ? request.filename : request.metainfo;
    t.hash = std::string(40, 'a');
    list.push_back(t);
    return AddResult{false, t.id, t.name, t.hash};
  }
  Status start(int id, bool now) override {
    calls.push_back((now ? "start-now " : "start ") + std::to_string(id));
    return ok();
  }
  Status stop(int id) override {
    calls.push_back("stop " + std::to_string(id));
    return ok();
  }
  Status remove(int id, bool data) override {
    calls.push_back("remove " + std::to_string(id) + (data ? " data" : ""));
    return ok();
  }
  Status verify(int id) override {
    calls.push_back("verify " + std::to_string(id));
    return ok();
  }
  Status reannounce(int id) override {
    calls.push_back("reannounce " + std::to_string(id));
    return ok();
  }
  Status set_location(int id, const std::string& location, bool move) override {
    calls.push_back("location " + std::to_string(id) + " " + location + (move ? " move" : ""));
    return ok();
  }
  Status set_torrent(int id, const TorrentChanges& changes) override {
    last_changes = changes;
    calls.push_back("set " + std::to_string(id));
    return ok();
  }
  Expected<std::int64_t> free_space(const std::string& path) const override {
    if (path != "/data") return Error(Errc::io_error, path + ": no such directory");
    return std::int64_t{123456789012};
  }
};

}  // namespace starling::rpc::testing
