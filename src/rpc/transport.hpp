// Transmission's HTTP rules, as a pure function of a request's method, target and headers:
// which route serves it, or which refusal to send. Order, as Transmission applies it: Basic
// auth (401 with WWW-Authenticate), the Host allow-list against DNS rebinding (421), then for
// the RPC the session-id handshake (409 carrying X-Transmission-Session-Id). We never send
// X-Transmission-Rpc-Version: clients of 4.1 and later switch to another dialect on it.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace starling::rpc {

inline constexpr std::string_view kSessionIdHeader = "X-Transmission-Session-Id";
inline constexpr std::string_view kRpcPath = "/transmission/rpc";
inline constexpr std::string_view kWebPath = "/transmission/web/";

struct TransportConfig {
  std::string session_id;  // stable for the daemon's life
  // Basic auth when set: user and password.
  std::optional<std::pair<std::string, std::string>> credentials;
  // Host names accepted besides IP literals and "localhost"; "*.example.org" matches any
  // subdomain, "*" anything. With the allow-list off, every Host is accepted.
  bool host_allow_list_enabled = true;
  std::vector<std::string> allowed_hosts;
};

enum class Route {
  refuse,    // send `status` with `headers` and `body`
  rpc,       // POST /transmission/rpc[/]: the JSON body goes to the Dispatcher
  web,       // GET under /transmission/web/: a static file (path in `web_path`)
  redirect,  // 301 to /transmission/web/ (`/`, /transmission, /transmission/web)
  metrics,   // GET /metrics
};

struct TransportVerdict {
  Route route = Route::refuse;
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string web_path;  // for Route::web: the path below the web root, "" = index
};

// `headers`: names in lower case (as HTTP makes them case-insensitive).
TransportVerdict check_transport(const TransportConfig& config, std::string_view method,
                                 std::string_view target,
                                 const std::map<std::string, std::string>& headers);

// A Host header's name without its port ("[::1]:9091" -> "::1", "a.b:80" -> "a.b").
std::string host_name(std::string_view host_header);
bool host_allowed(const TransportConfig& config, std::string_view host_header);

// A session id: 48 random alphanumerics.
std::string make_session_id();

}  // namespace starling::rpc
