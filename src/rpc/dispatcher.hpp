// The Transmission RPC method layer, sans-IO: one request body in, one response body out,
// carried out through a Backend. Replies are {"result": "success" | error text,
// "arguments": {...}, "tag": n}; the tag is echoed whenever the request carried one, even when
// the request fails.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "rpc/model.hpp"
#include "rpc/request.hpp"

namespace starling::rpc {

inline constexpr int kRpcVersion = 17;
inline constexpr int kRpcVersionMinimum = 14;
// torrent-get's "recently-active": activity or removal within this many seconds.
inline constexpr std::int64_t kRecentlyActiveSeconds = 60;

class Dispatcher {
 public:
  explicit Dispatcher(Backend& backend) : backend_(backend) {}

  // `now`: Unix seconds (for "recently-active").
  std::string handle(std::string_view body, std::int64_t now);
  // The same for an already parsed request; returns the reply object.
  Json handle(const Request& request, std::int64_t now);
  // The same, for a reply that may come later: torrent-add goes through Backend::add_async
  // (a .torrent by http URL is fetched first). `reply` is called exactly once, now or later,
  // on the caller's thread; other methods reply before this returns.
  using ReplyFn = std::function<void(std::string body)>;
  void handle(std::string_view body, std::int64_t now, ReplyFn reply);

 private:
  Expected<Json> session_get(const Json& args);
  Expected<Json> session_set(const Json& args);
  Expected<Json> session_stats();
  Expected<Json> torrent_get(const Json& args, std::int64_t now);
  Expected<Json> torrent_add(const Json& args);
  static Expected<AddRequest> add_request(const Json& args);
  static Expected<Json> added_json(const Expected<AddResult>& added);
  static Json reply_json(Expected<Json> result, std::optional<std::int64_t> tag);
  Expected<Json> torrent_set(const Json& args, std::int64_t now);
  Expected<Json> free_space(const Json& args);
  // torrent-start, -stop, -verify, ...: the same action on every selected torrent.
  template <class Action>
  Expected<Json> for_each_selected(const Json& args, std::int64_t now, Action action);
  // The ids `args` selects, in id order; unknown ids are ignored, as Transmission does.
  Expected<std::vector<int>> select(const Json& args, std::int64_t now);
  static std::vector<int> pick(const IdSelector& selector, const std::vector<TorrentView>& list,
                               std::int64_t now);

  Backend& backend_;
};

// session-get's object (all fields).
Json session_json(const SessionView& session);

}  // namespace starling::rpc
